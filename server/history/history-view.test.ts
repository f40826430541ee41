// The History page's view of backupHistory.json: order, paging and ids of the operations; the summary and its
// overdue flag against an injected clock; chart series; one operation's details; and the loader on a real database,
// real folders and a real history file.
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import { openOperations, type TestOperations } from "../../test/helpers/operations";
import { hms, sched } from "../scheduler/test-helpers";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";
import { normaliseEntry, type HistoryEntry } from "./backup-history";
import { chartSeries, historySummary, listOperations, loadHistory, OVERDUE_GRACE_MS, operationDetails } from "./history-view";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function entry(o: Partial<HistoryEntry> & { startingDate: string }): HistoryEntry {
  return {
    operation: "backup", backupNumber: 1, backupPath: "/b/Demo[0001].zip", structurePath: "/db/Project", dataPath: "/db/Data/data.sqlite",
    logPath: "", scheduledDate: null, endingDate: o.startingDate, duration: 12_000, status: 0, statusText: "OK", partial: false,
    trigger: "manual", user: "alice", files: [], attachments: [], archiveSize: 1000, archiveSha256: "ab", ...o,
  };
}

const at = (iso: string) => new Date(iso);

describe("the operations list", () => {
  const entries = [
    entry({ backupNumber: 1, startingDate: "2026-11-20T02:00:00.000Z" }),
    entry({ backupNumber: 2, startingDate: "2026-11-21T02:00:00.000Z", status: 1406, statusText: "Backup canceled by user", archiveSize: null }),
    entry({ backupNumber: 2, startingDate: "2026-11-22T02:00:00.000Z", status: 1409, statusText: "Error during backup: /x not found", partial: true }),
    entry({ operation: "restore", backupNumber: 2, startingDate: "2026-11-23T09:00:00.000Z", trigger: null, user: "bob" }),
    // As 4D writes it: no operation, trigger, partial or files; status -1.
    normaliseEntry({ backupNumber: 3, startingDate: "2026-11-24T02:00:00.000Z", endingDate: "2026-11-24T02:00:30.000Z", status: -1, backupPath: "C:\\b\\Demo[0003].4BK" })!,
  ];

  it("lists every kind of operation newest first, paged by groups, with what the table shows", () => {
    const first = listOperations(entries, { offset: 0, limit: 2 });
    // Four groups: #3, the restore, the two attempts at #2, #1.
    expect(first.total).toBe(4);
    expect(first.operations.map((o) => [o.operation, o.number])).toEqual([["backup", 3], ["restore", 2]]);
    expect(first.operations[0]).toMatchObject({ status: -1, outcome: "failed", trigger: null, duration: 30_000 });
    const second = listOperations(entries, { offset: 2, limit: 1 });
    expect(second.operations.map((o) => [o.number, o.outcome])).toEqual([[2, "partial"], [2, "failed"]]);
    expect(listOperations(entries, { offset: 3, limit: 2 }).operations.map((o) => o.number)).toEqual([1]);
    expect(listOperations(entries, { offset: 10, limit: 2 }).operations).toEqual([]);
  });

  it("groups the attempts at one number, newest first, and marks the one that committed its archive", () => {
    const attempts = [
      entry({ backupNumber: 33, startingDate: "2026-11-01T02:00:00.000Z" }),
      entry({ backupNumber: 34, startingDate: "2026-11-02T02:00:00.000Z", status: 1407, statusText: "Destination folder not valid", archiveSize: null }),
      entry({ operation: "restore", backupNumber: 33, startingDate: "2026-11-02T09:00:00.000Z" }),
      entry({ backupNumber: 34, startingDate: "2026-11-03T02:00:00.000Z", status: 1406, statusText: "Backup canceled by user", archiveSize: null }),
      entry({ backupNumber: 34, startingDate: "2026-11-04T02:00:00.000Z" }),
      entry({ backupNumber: 35, startingDate: "2026-11-05T02:00:00.000Z", status: 1409, statusText: "Error during backup", archiveSize: null }),
    ];
    const list = listOperations(attempts, { offset: 0, limit: 10 });
    expect(list.total).toBe(4);
    expect(list.operations.map((o) => [o.operation, o.number, o.attempt, o.committed])).toEqual([
      ["backup", 35, { index: 1, of: 1 }, false],
      ["backup", 34, { index: 3, of: 3 }, true],
      ["backup", 34, { index: 2, of: 3 }, false],
      ["backup", 34, { index: 1, of: 3 }, false],
      ["restore", 33, null, false],
      ["backup", 33, { index: 1, of: 1 }, true],
    ]);
    // After the numbering started again (a lost history), #1 again is a new backup, not a fourth attempt at an old #1.
    const restarted = [entry({ backupNumber: 1, startingDate: "2026-10-01T02:00:00.000Z" }), entry({ backupNumber: 1, startingDate: "2026-11-10T02:00:00.000Z" })];
    expect(listOperations(restarted, { offset: 0, limit: 10 }).operations.map((o) => o.attempt)).toEqual([{ index: 1, of: 1 }, { index: 1, of: 1 }]);
  });

  it("orders by start even when the file is out of order, and gives stable, distinct ids", () => {
    const shuffled = [entries[2], entries[0], entries[1]];
    expect(listOperations(shuffled, { offset: 0, limit: 10 }).operations.map((o) => o.startingDate)).toEqual([
      "2026-11-22T02:00:00.000Z", "2026-11-21T02:00:00.000Z", "2026-11-20T02:00:00.000Z",
    ]);
    const ids = listOperations(entries, { offset: 0, limit: 10 }).operations.map((o) => o.id);
    expect(new Set(ids).size).toBe(5);
    expect(listOperations([...entries], { offset: 0, limit: 10 }).operations.map((o) => o.id)).toEqual(ids);
    // Two identical entries (a copy made by hand) still get two ids, each finding its own entry.
    const twice = [entries[0], { ...entries[0], statusText: "copy" }];
    const [a, b] = listOperations(twice, { offset: 0, limit: 10 }).operations;
    expect(a.id).not.toBe(b.id);
    expect(operationDetails(twice, b.id, { offset: 0, limit: 10, filter: "" })?.statusText).toBe("OK");
    expect(operationDetails(twice, a.id, { offset: 0, limit: 10, filter: "" })?.statusText).toBe("copy");
  });
});

describe("the summary", () => {
  const daily = sched({ frequency: "Daily", daily: { every: 1, hour: hms(2) }, anchor: "2026-01-01" });
  const opts = (now: string, scheduler = daily, backupIfDataChange = false) => ({ scheduler, backupIfDataChange, now: at(now), timeZone: "UTC" });

  it("gives the success rate over the kept backups only, the last success with its age, and the last backup", () => {
    const entries = [
      entry({ backupNumber: 1, startingDate: "2026-11-20T02:00:00.000Z" }),
      entry({ backupNumber: 2, startingDate: "2026-11-21T02:00:00.000Z" }),
      entry({ operation: "restore", backupNumber: 2, startingDate: "2026-11-21T05:00:00.000Z", status: 1409 }),
      entry({ backupNumber: 3, startingDate: "2026-11-22T02:00:00.000Z", status: 1409, partial: true }),
      entry({ backupNumber: 3, startingDate: "2026-11-23T02:00:00.000Z", status: 1407, statusText: "Destination folder not valid" }),
    ];
    const s = historySummary(entries, opts("2026-11-23T12:00:00.000Z"));
    expect(s.kept).toEqual({ operations: 5, backups: 4, oldestStart: "2026-11-20T02:00:00.000Z" });
    expect(s.successRate).toEqual({ backups: 4, succeeded: 2, partial: 1, failed: 1, percent: 50 });
    expect(s.lastSuccess).toMatchObject({ number: 2, at: "2026-11-21T02:00:00.000Z", ageMs: 2 * DAY + 10 * HOUR });
    expect(s.lastBackup).toMatchObject({ number: 3, status: 1407, outcome: "failed", statusText: "Destination folder not valid" });
  });

  it("says nothing is known yet on an empty history", () => {
    const s = historySummary([], opts("2026-11-23T12:00:00.000Z", sched({ frequency: "Never" })));
    expect(s.successRate.percent).toBeNull();
    expect(s.lastSuccess).toBeNull();
    expect(s.lastBackup).toBeNull();
    expect(s.schedule.state).toBe("noSchedule");
    expect(s.overdue).toBe(false);
  });

  it("flags a daily schedule overdue when the last success is 2 days old, not when it is 1 hour old", () => {
    const now = "2026-11-26T12:00:00.000Z";
    const twoDays = historySummary([entry({ startingDate: new Date(at(now).getTime() - 2 * DAY).toISOString() })], opts(now));
    expect(twoDays.overdue).toBe(true);
    expect(twoDays.schedule).toMatchObject({ state: "overdue", promisedAt: "2026-11-25T02:00:00.000Z", lateByMs: 34 * HOUR });
    const oneHour = historySummary([entry({ startingDate: new Date(at(now).getTime() - HOUR).toISOString() })], opts(now));
    expect(oneHour.overdue).toBe(false);
    expect(oneHour.schedule).toMatchObject({ state: "ok", promisedAt: "2026-11-27T02:00:00.000Z" });
  });

  it("counts only a success: a failed or partial backup after it leaves the schedule overdue", () => {
    const entries = [
      entry({ startingDate: "2026-11-24T02:00:05.000Z" }),
      entry({ startingDate: "2026-11-25T02:00:05.000Z", status: 1409, partial: true }),
      entry({ startingDate: "2026-11-26T02:00:05.000Z", status: 1407 }),
    ];
    expect(historySummary(entries, opts("2026-11-26T12:00:00.000Z")).schedule).toMatchObject({ state: "overdue", promisedAt: "2026-11-25T02:00:00.000Z" });
  });

  it("allows a grace period (plus the last backup's own duration) past the promised time", () => {
    const entries = [entry({ startingDate: "2026-11-25T02:00:03.000Z", duration: 5 * 60_000 })];
    const grace = OVERDUE_GRACE_MS + 5 * 60_000;
    const promised = at("2026-11-26T02:00:00.000Z").getTime();
    expect(historySummary(entries, opts(new Date(promised + grace).toISOString())).overdue).toBe(false);
    expect(historySummary(entries, opts(new Date(promised + grace + 1000).toISOString())).overdue).toBe(true);
    expect(historySummary(entries, opts(new Date(promised + grace).toISOString())).schedule.graceMs).toBe(grace);
  });

  it("with no success yet counts from the end of the anchor day, so a schedule saved today is not overdue", () => {
    const savedToday = sched({ frequency: "Daily", daily: { every: 1, hour: hms(2) }, anchor: "2026-11-26" });
    const today = historySummary([], opts("2026-11-26T15:00:00.000Z", savedToday));
    expect(today.schedule).toMatchObject({ state: "ok", promisedAt: "2026-11-27T02:00:00.000Z" });
    const threeDaysOn = historySummary([], opts("2026-11-29T15:00:00.000Z", savedToday));
    expect(threeDaysOn.schedule).toMatchObject({ state: "overdue", promisedAt: "2026-11-27T02:00:00.000Z" });
    // A success from before the schedule was saved promised nothing under the new schedule.
    const older = [entry({ startingDate: "2026-11-01T10:00:00.000Z" })];
    expect(historySummary(older, opts("2026-11-26T15:00:00.000Z", savedToday)).schedule.state).toBe("ok");
  });

  it("says why when the promise can't be worked out, and never flags Never", () => {
    const noAnchor = historySummary([], opts("2026-11-26T15:00:00.000Z", sched({ frequency: "Daily", anchor: null })));
    expect(noAnchor.schedule.state).toBe("unknown");
    expect(noAnchor.schedule.reason).toMatch(/no anchor/);
    const badCron = historySummary([entry({ startingDate: "2026-11-25T00:00:00.000Z" })], opts("2026-11-26T15:00:00.000Z", sched({ frequency: "Cron", cron: "99 * * * *", anchor: "2026-01-01" })));
    expect(badCron.schedule.state).toBe("unknown");
    expect(badCron.schedule.reason).toMatch(/can't be worked out/);
    const never = historySummary([entry({ startingDate: "2020-01-01T00:00:00.000Z" })], opts("2026-11-26T15:00:00.000Z", sched({ frequency: "Never", anchor: "2026-01-01" })));
    expect(never.schedule.state).toBe("noSchedule");
    expect(never.overdue).toBe(false);
  });

  it("warns that an overdue backup may have been postponed when BackupIfDataChange is on", () => {
    const entries = [entry({ startingDate: "2026-11-20T02:00:00.000Z" })];
    expect(historySummary(entries, opts("2026-11-26T12:00:00.000Z", daily, true)).schedule).toMatchObject({ state: "overdue", mayHaveBeenPostponed: true });
    expect(historySummary(entries, opts("2026-11-26T12:00:00.000Z", daily, false)).schedule.mayHaveBeenPostponed).toBe(false);
  });
});

describe("the chart series", () => {
  it("holds backups only, oldest to newest, bounded to the newest points", () => {
    const entries = Array.from({ length: 12 }, (_, i) =>
      entry({ backupNumber: i + 1, startingDate: new Date(Date.UTC(2026, 10, 1 + i, 2)).toISOString(), duration: 1000 * (i + 1), archiveSize: i % 3 === 2 ? null : 100 * (i + 1), status: i % 3 === 2 ? 1406 : 0 }));
    entries.splice(4, 0, entry({ operation: "logIntegration", backupNumber: 4, startingDate: "2026-11-04T12:00:00.000Z" }));
    const all = chartSeries([...entries].reverse());
    expect(all.backups).toBe(12);
    expect(all.points.map((p) => p.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(all.points[2]).toMatchObject({ duration: 3000, archiveSize: null, outcome: "failed" });
    const bounded = chartSeries(entries, 5);
    expect(bounded.backups).toBe(12);
    expect(bounded.points.map((p) => p.number)).toEqual([8, 9, 10, 11, 12]);
  });
});

describe("an operation's details", () => {
  const files = Array.from({ length: 250 }, (_, i) => `/db/Project/Sources/Methods/method${String(i).padStart(3, "0")}.4dm`);
  files.push("/srv/files/contract.pdf");
  const entries = [
    entry({ backupNumber: 7, startingDate: "2026-11-20T02:00:00.000Z", scheduledDate: "2026-11-20T02:00:00.000Z", trigger: "scheduler", user: null,
      files, logPath: "/b/Demo[0006].4BL", attachments: [{ attachmentPath: "/srv/files", found: true }, { attachmentPath: "/srv/missing.pdf", found: false }],
      status: 1409, partial: true, statusText: "Error during backup: attachment /srv/missing.pdf not found" }),
  ];
  const id = listOperations(entries, { offset: 0, limit: 1 }).operations[0].id;

  it("gives the paths, the scheduled date, the attachments found or not, and the error", () => {
    const d = operationDetails(entries, id, { offset: 0, limit: 100, filter: "" })!;
    expect(d).toMatchObject({ number: 7, scheduledDate: "2026-11-20T02:00:00.000Z", backupPath: "/b/Demo[0001].zip", logPath: "/b/Demo[0006].4BL", outcome: "partial" });
    expect(d.attachments).toEqual([{ attachmentPath: "/srv/files", found: true }, { attachmentPath: "/srv/missing.pdf", found: false }]);
    expect(d.errors).toEqual(["1409 Error during backup: attachment /srv/missing.pdf not found"]);
  });

  it("pages through every saved file and filters them", () => {
    const p1 = operationDetails(entries, id, { offset: 0, limit: 100, filter: "" })!.files;
    expect(p1).toMatchObject({ total: 251, matching: 251 });
    expect(p1.items).toHaveLength(100);
    const p3 = operationDetails(entries, id, { offset: 200, limit: 100, filter: "" })!.files;
    expect(p3.items).toHaveLength(51);
    expect(p3.items.at(-1)).toBe("/srv/files/contract.pdf");
    const filtered = operationDetails(entries, id, { offset: 0, limit: 100, filter: "  METHOD12" })!.files;
    expect(filtered.matching).toBe(10);
    expect(filtered.items).toEqual(files.filter((f) => f.includes("method12")));
  });

  it("is null for an id the history no longer holds", () => {
    expect(operationDetails(entries, "backup-99-2020-01-01T00:00:00.000Z", { offset: 0, limit: 10, filter: "" })).toBeNull();
  });
});

describe("loading the history of a real database", () => {
  let db: TestDatabase;
  const engines: TestOperations[] = [];
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.runner.waitForIdle();
    db?.cleanup();
  });
  const engineFor = (t: TestDatabase) => {
    const e = openOperations(t, { consoleDb: openConsoleDb(path.join(t.home, "console.sqlite")) });
    engines.push(e);
    return e;
  };

  it("reads its own entries: a success and a partial backup, with their files and attachments", async () => {
    db = makeTestDatabase({ rows: 200 });
    const engine = engineFor(db);
    await engine.init();
    expect((await engine.backup().done).status).toBe(0);
    const missing = path.join(db.root, "gone.pdf");
    db.writeSettings({ attachments: [db.attachmentsDir, missing] });
    expect((await engine.backup({ trigger: { kind: "manual", user: "bob" } }).done).partial).toBe(true);

    const loaded = await loadHistory(engine.db);
    if (!loaded.ok) throw new Error(loaded.problem);
    expect(loaded.historyPath).toBe(path.join(db.destination, "backupHistory.json"));
    const list = listOperations(loaded.entries, { offset: 0, limit: 10 });
    expect(list.operations.map((o) => [o.number, o.status, o.outcome, o.user])).toEqual([[2, 1409, "partial", "bob"], [1, 0, "success", "alice"]]);
    const ok = operationDetails(loaded.entries, list.operations[1].id, { offset: 0, limit: 500, filter: "TestDb.4DProject" })!;
    expect(ok.files.items).toEqual([path.join(db.databaseDir, "Project/TestDb.4DProject")]);
    expect(ok.files.total).toBeGreaterThan(20);
    const partial = operationDetails(loaded.entries, list.operations[0].id, { offset: 0, limit: 1, filter: "" })!;
    expect(partial.attachments).toEqual([{ attachmentPath: db.attachmentsDir, found: true }, { attachmentPath: missing, found: false }]);
    expect(partial.errors[0]).toContain(missing);

    const summary = historySummary(loaded.entries, { scheduler: loaded.settings.scheduler, backupIfDataChange: false, now: new Date() });
    expect(summary.successRate).toMatchObject({ backups: 2, succeeded: 1, partial: 1, percent: 50 });
    expect(summary.lastSuccess?.number).toBe(1);
    expect(summary.schedule.state).toBe("noSchedule");
  });

  it("says plainly when the settings can't be read, and when there is no history yet gives an empty list", async () => {
    db = makeTestDatabase({ rows: 10 });
    const engine = engineFor(db);
    const empty = await loadHistory(engine.db);
    expect(empty.ok && empty.entries).toEqual([]);
    fs.writeFileSync(path.join(db.databaseDir, "Settings/Backup.4DSettings"), "<Preferences4D><Backup><Settings>");
    const broken = await loadHistory(engine.db);
    expect(broken.ok).toBe(false);
    if (!broken.ok) expect(broken.problem).toMatch(/^The backup settings can't be read, so where backupHistory\.json is .* is unknown: .+Backup\.4DSettings/);
  });
});
