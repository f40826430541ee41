// Alerts in a real console.sqlite: the same alert raised again and again is one group (count, first and last time),
// a group is acknowledged as one, and "Acknowledge all" takes every open alert at once.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openConsoleDb, type ConsoleDb } from "../console/console-db";
import { AlertStore, groupAlerts } from "./alerts";

let dir: string;
let db: ConsoleDb | null = null;
afterEach(() => {
  db?.close();
  db = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

function store() {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-alerts-"));
  db = openConsoleDb(path.join(dir, "console.sqlite"));
  return new AlertStore(db);
}
const at = (m: number) => new Date(Date.UTC(2031, 4, 6, 2, m));
const text1407 = "Destination folder not valid: /srv/backups is not a folder";

describe("alert groups", () => {
  it("groups alerts with the same status and text: a count, the first and the last time, the latest scheduled date", () => {
    const alerts = store();
    for (const m of [0, 1, 2]) alerts.raise({ status: 1407, text: text1407, database: "/db", scheduledDate: at(m), now: at(m) });
    alerts.raise({ status: 1401, text: "Maximum number of backup attempts reached", database: "/db", scheduledDate: null, now: at(3) });
    alerts.raise({ status: 1407, text: "Destination folder not valid: elsewhere", database: "/db", scheduledDate: null, now: at(4) });
    const groups = groupAlerts(alerts.open());
    expect(groups.map((g) => [g.status, g.count])).toEqual([[1407, 3], [1401, 1], [1407, 1]]);
    expect(groups[0]).toMatchObject({ text: text1407, firstAt: at(0).toISOString(), lastAt: at(2).toISOString(), scheduledDate: at(2).toISOString() });
    // A group raised again moves after the others (the order of the latest alert).
    alerts.raise({ status: 1407, text: text1407, database: "/db", scheduledDate: null, now: at(5) });
    expect(groupAlerts(alerts.open()).map((g) => g.count)).toEqual([1, 1, 4]);
  });

  it("acknowledges a group as one, and every open alert at once", () => {
    const alerts = store();
    for (const m of [0, 1]) alerts.raise({ status: 1407, text: text1407, database: "/db", scheduledDate: null, now: at(m) });
    alerts.raise({ status: 1401, text: "Maximum number of backup attempts reached", database: "/db", scheduledDate: null, now: at(2) });
    const [group] = groupAlerts(alerts.open());
    expect(alerts.acknowledgeMany(group!.ids, "olga", at(3))).toBe(2);
    expect(alerts.open().map((a) => a.status)).toEqual([1401]);
    alerts.raise({ status: 1409, text: "Error during backup", database: "/db", scheduledDate: null, now: at(4) });
    expect(alerts.acknowledgeAll("olga", at(5))).toBe(2);
    expect(alerts.open()).toEqual([]);
    expect(alerts.acknowledgeAll("olga")).toBe(0);
  });
});
