// Alerts (docs/operations.md): raised when an automatic backup can't be made, shown in every open console until someone
// acknowledges them, and sent to the configured webhook. Kept in console.sqlite, never in the database folder.
import type { ConsoleDb } from "../console/console-db";

/** Where alerts are sent (a console setting): the URL, or none, and whether a private address is allowed. */
export interface WebhookSetting { url: string | null; allowPrivate: boolean }

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

/**
 * Alerts that say the same thing (same status and text), as one: how many, the first and the last time. A failing
 * schedule raises the same alert again and again; the console shows it once, with its count.
 */
export interface AlertGroup {
  /** Every alert of the group, oldest first (acknowledging the group acknowledges them all). */
  ids: number[];
  status: number;
  text: string;
  count: number;
  firstAt: string;
  lastAt: string;
  /** The scheduled time of the latest one, when it was about a scheduled backup. */
  scheduledDate: string | null;
}

/** Groups alerts (oldest first) by status and text; groups come in the order of their latest alert. */
export function groupAlerts(alerts: Alert[]): AlertGroup[] {
  const groups = new Map<string, AlertGroup>();
  for (const a of alerts) {
    const key = `${a.status}\u0000${a.text}`;
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { ids: [a.id], status: a.status, text: a.text, count: 1, firstAt: a.createdAt, lastAt: a.createdAt, scheduledDate: a.scheduledDate });
      continue;
    }
    g.ids.push(a.id);
    g.count++;
    g.lastAt = a.createdAt;
    g.scheduledDate = a.scheduledDate;
  }
  return [...groups.values()].sort((a, b) => a.ids.at(-1)! - b.ids.at(-1)!);
}

interface Row { id: number; created_at: string; status: number; text: string; database_dir: string; scheduled_at: string | null; acknowledged_at: string | null; acknowledged_by: string | null }
const toAlert = (r: Row): Alert => ({ id: r.id, createdAt: r.created_at, status: r.status, text: r.text, database: r.database_dir,
  scheduledDate: r.scheduled_at, acknowledgedAt: r.acknowledged_at, acknowledgedBy: r.acknowledged_by });

export class AlertStore {
  constructor(private readonly db: ConsoleDb) {}

  raise(a: { status: number; text: string; database: string; scheduledDate: Date | null; now: Date }): Alert {
    const info = this.db.prepare("INSERT INTO alerts (created_at, status, text, database_dir, scheduled_at) VALUES (?, ?, ?, ?, ?)")
      .run(a.now.toISOString(), a.status, a.text, a.database, a.scheduledDate?.toISOString() ?? null);
    return toAlert(this.db.prepare("SELECT * FROM alerts WHERE id = ?").get(info.lastInsertRowid) as Row);
  }

  open(): Alert[] {
    return (this.db.prepare("SELECT * FROM alerts WHERE acknowledged_at IS NULL ORDER BY id").all() as Row[]).map(toAlert);
  }

  acknowledge(id: number, user: string, now = new Date()): boolean {
    return this.acknowledgeMany([id], user, now) > 0;
  }

  /** Acknowledges these alerts (a group) in one transaction; returns how many were still open. */
  acknowledgeMany(ids: number[], user: string, now = new Date()): number {
    const stmt = this.db.prepare("UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL");
    return this.db.transaction(() => ids.reduce((n, id) => n + stmt.run(now.toISOString(), user, id).changes, 0))();
  }

  /** Acknowledges every open alert; returns how many. */
  acknowledgeAll(user: string, now = new Date()): number {
    return this.db.prepare("UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE acknowledged_at IS NULL").run(now.toISOString(), user).changes;
  }

  /**
   * The notification webhook (console setting, docs/settings.md: never in Settings/, which goes into every archive), and
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
