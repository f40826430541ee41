// Alerts (spec §7): raised when an automatic backup can't be made, shown in every open console until someone
// acknowledges them, and sent to the configured webhook. Kept in console.sqlite, never in the database folder.
import type { ConsoleDb } from "../console/console-db";
import type { WebhookSetting } from "./webhook";

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

  /**
   * The notification webhook (console setting, spec §6: never in Settings/, which goes into every archive), and
   * whether it may reach private and loopback addresses (see webhook.ts).
   */
  webhook(): WebhookSetting {
    const get = (key: string) => (this.db.prepare("SELECT value FROM console_settings WHERE key = ?").get(key) as { value: string } | undefined)?.value;
    return { url: get("webhook_url") || null, allowPrivate: get("webhook_allow_private") === "1" };
  }

  /** Both together, in one transaction. Check the URL first (checkWebhook). */
  setWebhook(setting: WebhookSetting): void {
    const put = this.db.prepare("INSERT INTO console_settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    this.db.transaction(() => {
      if (setting.url) put.run("webhook_url", setting.url);
      else this.db.prepare("DELETE FROM console_settings WHERE key = 'webhook_url'").run();
      put.run("webhook_allow_private", setting.allowPrivate ? "1" : "0");
    })();
  }
}
