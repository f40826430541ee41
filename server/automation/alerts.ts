// Alerts (spec §7): raised when an automatic backup can't be made, shown in every open console until someone
// acknowledges them, and sent to the configured webhook. Kept in console.sqlite, never in the database folder.
import type { ConsoleDb } from "../console/console-db";

export interface Alert {
  id: number;
  createdAt: string;
  status: number;
  text: string;
  database: string;
  scheduledDate: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
}

interface Row { id: number; created_at: string; status: number; text: string; database_dir: string; scheduled_at: string | null; acknowledged_at: string | null; acknowledged_by: string | null }
const toAlert = (r: Row): Alert => ({ id: r.id, createdAt: r.created_at, status: r.status, text: r.text, database: r.database_dir,
  scheduledDate: r.scheduled_at, acknowledgedAt: r.acknowledged_at, acknowledgedBy: r.acknowledged_by });

export class AlertStore {
  constructor(private readonly db: ConsoleDb) {
    db.exec(`CREATE TABLE IF NOT EXISTS alerts (
      id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, status INTEGER NOT NULL, text TEXT NOT NULL,
      database_dir TEXT NOT NULL, scheduled_at TEXT, acknowledged_at TEXT, acknowledged_by TEXT)`);
    db.exec("CREATE TABLE IF NOT EXISTS console_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  }

  raise(a: { status: number; text: string; database: string; scheduledDate: Date | null; now: Date }): Alert {
    const info = this.db.prepare("INSERT INTO alerts (created_at, status, text, database_dir, scheduled_at) VALUES (?, ?, ?, ?, ?)")
      .run(a.now.toISOString(), a.status, a.text, a.database, a.scheduledDate?.toISOString() ?? null);
    return toAlert(this.db.prepare("SELECT * FROM alerts WHERE id = ?").get(info.lastInsertRowid) as Row);
  }

  open(): Alert[] {
    return (this.db.prepare("SELECT * FROM alerts WHERE acknowledged_at IS NULL ORDER BY id").all() as Row[]).map(toAlert);
  }

  acknowledge(id: number, user: string, now = new Date()): boolean {
    return this.db.prepare("UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL")
      .run(now.toISOString(), user, id).changes > 0;
  }

  /** The notification webhook (console setting, spec §6: never in Settings/, which goes into every archive). */
  webhookUrl(): string | null {
    const row = this.db.prepare("SELECT value FROM console_settings WHERE key = 'webhook_url'").get() as { value: string } | undefined;
    return row?.value || null;
  }

  setWebhookUrl(url: string | null): void {
    if (url) this.db.prepare("INSERT INTO console_settings (key, value) VALUES ('webhook_url', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(url);
    else this.db.prepare("DELETE FROM console_settings WHERE key = 'webhook_url'").run();
  }
}

/** POSTs the alert as JSON; a webhook that fails is reported, never retried in a loop. */
export async function sendWebhook(url: string, alert: Alert, extra: Record<string, unknown> = {}): Promise<{ ok: boolean; error?: string }> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ source: "strongbox", statusCode: alert.status, statusText: alert.text, database: alert.database,
        scheduledDate: alert.scheduledDate, raisedAt: alert.createdAt, ...extra }),
      signal: AbortSignal.timeout(10_000),
    });
    return res.ok ? { ok: true } : { ok: false, error: `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
