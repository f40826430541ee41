// When the server was last alive (docs/settings.md: "times missed while the server was down count as one failed backup at
// the next start"). A heartbeat in console.sqlite, written every minute and at start.
import type { ConsoleDb } from "../console/console-db";

/** How often the heartbeat is written: a scheduled time within the last minute before a crash may be missed once. */
export const HEARTBEAT_MS = 60_000;

export class ServerClock {
  constructor(private readonly db: ConsoleDb) {}

  lastAlive(): Date | null {
    const row = this.db.prepare("SELECT value FROM console_settings WHERE key = 'last_alive'").get() as { value: string } | undefined;
    return row ? new Date(row.value) : null;
  }

  beat(now = new Date()): void {
    this.db.prepare("INSERT INTO console_settings (key, value) VALUES ('last_alive', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
      .run(now.toISOString());
  }

  /** Writes the heartbeat now and every minute; returns a stop function. */
  start(): () => void {
    this.beat();
    const timer = setInterval(() => this.beat(), HEARTBEAT_MS);
    timer.unref();
    return () => clearInterval(timer);
  }
}
