import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { OperationRecord } from "../operation";
import { BackupHistory, HISTORY_FILE_NAME, toHistoryEntry, type HistoryEntry } from "./backup-history";

const FIXTURE = path.resolve(import.meta.dirname, "../../test/fixtures/4d/NexSIS-backupHistory.json");
const NEXSIS_KEY = "C:\\Users\\Administrateur\\Desktop\\ETL_NexSIS\\Project\\Donnees NexSIS.4DProject";
const KEY = "/srv/db/Project";

function record(over: Partial<OperationRecord> = {}): OperationRecord {
  return {
    operation: "backup",
    backupNumber: 12,
    trigger: { kind: "scheduler", user: null },
    archivePath: "/srv/backups/Demo[0012].zip",
    logBackupPath: "/srv/backups/Demo[0011].4BL",
    structurePath: KEY,
    dataPath: "/srv/db/Data/data.sqlite",
    content: { projectFiles: { count: 1, bytes: 10 }, dataFile: { bytes: 100 }, attachmentFiles: null },
    attachments: [{ attachmentPath: "/srv/files", found: true }],
    files: ["/srv/db/Project/a.txt", "/srv/files/b.pdf"],
    archive: { size: 140_123_456, sha256: "ab".repeat(32), verified: true },
    scheduledDate: new Date("2026-11-26T02:00:00.000Z"),
    startingDate: new Date("2026-11-26T02:00:01.000Z"),
    endingDate: new Date("2026-11-26T02:00:13.000Z"),
    status: 0,
    statusText: "OK",
    partial: false,
    errors: [],
    notes: [],
    ...over,
  };
}

/** A history entry for operation `op` number `n`, starting `day` days into November 2026. */
function entry(op: OperationRecord["operation"], n: number, day: number, over: Partial<OperationRecord> = {}): HistoryEntry {
  const start = new Date(Date.UTC(2026, 10, day, 2, 0, 0));
  return toHistoryEntry(
    record({ operation: op, backupNumber: n, startingDate: start, endingDate: new Date(start.getTime() + 5000), ...over }),
  );
}

let dest: string;
beforeEach(async () => {
  dest = await mkdtemp(path.join(tmpdir(), "strongbox-history-"));
});
afterEach(async () => {
  await rm(dest, { recursive: true, force: true });
});

const fileJson = async () => JSON.parse(await readFile(path.join(dest, HISTORY_FILE_NAME), "utf8"));

describe("toHistoryEntry", () => {
  it("maps a record to docs/backup-history.md's fields", () => {
    expect(toHistoryEntry(record())).toEqual({
      operation: "backup",
      backupNumber: 12,
      backupPath: "/srv/backups/Demo[0012].zip",
      structurePath: KEY,
      dataPath: "/srv/db/Data/data.sqlite",
      logPath: "/srv/backups/Demo[0011].4BL",
      scheduledDate: "2026-11-26T02:00:00.000Z",
      startingDate: "2026-11-26T02:00:01.000Z",
      endingDate: "2026-11-26T02:00:13.000Z",
      duration: 12000,
      status: 0,
      statusText: "OK",
      partial: false,
      trigger: "scheduler",
      user: null,
      files: ["/srv/db/Project/a.txt", "/srv/files/b.pdf"],
      attachments: [{ attachmentPath: "/srv/files", found: true }],
      archiveSize: 140_123_456,
      archiveSha256: "ab".repeat(32),
    });
    const manual = toHistoryEntry(
      record({ trigger: { kind: "manual", user: "alice" }, scheduledDate: null, logBackupPath: null, archive: null }),
    );
    expect(manual).toMatchObject({ trigger: "manual", user: "alice", scheduledDate: null, logPath: "", archiveSize: null, archiveSha256: null });
  });
});

describe("BackupHistory", () => {
  it("round-trips entries under the structure key, in 4D's layout", async () => {
    const history = new BackupHistory(dest, KEY);
    expect(await history.read()).toEqual({ entries: [], damaged: null });
    const a = entry("backup", 1, 1);
    const b = entry("restore", 1, 2, { trigger: { kind: "manual", user: "root" }, status: 1411, statusText: "Archive check failed" });
    await history.append(a);
    await history.append(b);
    expect(await history.read()).toEqual({ entries: [a, b], damaged: null });
    expect(await fileJson()).toEqual({ [KEY]: [a, b] });
    expect(await readFile(path.join(dest, HISTORY_FILE_NAME), "utf8")).toMatch(/^\{\n\t"\/srv\/db\/Project": \[\n\t\t\{/);
    expect((await readdir(dest)).sort()).toEqual([HISTORY_FILE_NAME]); // no temporary file left
  });

  it("reads 4D's own file without error and keeps its key exactly when appending under ours", async () => {
    await copyFile(FIXTURE, path.join(dest, HISTORY_FILE_NAME));
    const original = JSON.parse(await readFile(FIXTURE, "utf8"));

    const theirs = await new BackupHistory(dest, NEXSIS_KEY).read();
    expect(theirs.damaged).toBeNull();
    expect(theirs.entries.map((e) => e.backupNumber)).toEqual([93, 94, 95]);
    expect(theirs.entries[2]).toMatchObject({
      operation: "backup",
      status: -1,
      statusText: "Status -1",
      partial: false,
      trigger: null,
      user: null,
      files: [],
      logPath: "",
      duration: 17361,
      archiveSize: null,
    });
    expect(theirs.entries[0].attachments[0]).toEqual({
      attachmentPath: "C:\\Users\\Administrateur\\Desktop\\ETL_NexSIS\\Data\\data.4DSyncHeader",
      found: true,
    });

    const ours = new BackupHistory(dest, KEY);
    expect(await ours.read()).toEqual({ entries: [], damaged: null });
    const e = entry("backup", 1, 1);
    await ours.append(e, { oldestKeptNumber: 1 });
    const after = await fileJson();
    expect(Object.keys(after)).toEqual([NEXSIS_KEY, KEY]);
    expect(after[NEXSIS_KEY]).toEqual(original[NEXSIS_KEY]);
    expect(after[KEY]).toEqual([e]);
  });

  it("keeps our own older entries exactly as written (4D form, unknown fields) while showing them normalised", async () => {
    const raw = { backupPath: "C:\\b\\x[0003].4BK", status: -1, backupNumber: 3, startingDate: "2026-11-01T00:00:00.000Z", extra: { k: 1 } };
    await writeFile(path.join(dest, HISTORY_FILE_NAME), JSON.stringify({ [KEY]: [raw, "junk"] }));
    const history = new BackupHistory(dest, KEY);
    const { entries } = await history.read();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ operation: "backup", backupNumber: 3, endingDate: "2026-11-01T00:00:00.000Z", duration: 0 });
    const e = entry("backup", 4, 5);
    await history.append(e);
    expect((await fileJson())[KEY]).toEqual([raw, "junk", e]);
  });

  it("prunes what is older than the oldest kept archive, and nothing without a number", async () => {
    const history = new BackupHistory(dest, KEY);
    const failedTwo = entry("backup", 2, 2, { status: 1409, statusText: "Error during backup", archive: null });
    const [b1, b2, restore, b3, integ, b4] = [
      entry("backup", 1, 1),
      entry("backup", 2, 3),
      entry("restore", 1, 4),
      entry("backup", 3, 5),
      entry("logIntegration", 3, 6),
      entry("backup", 4, 7),
    ];
    for (const e of [b1, failedTwo, b2, restore, b3, integ, b4]) await history.append(e, { oldestKeptNumber: null });
    expect((await history.read()).entries).toHaveLength(7);

    const failedFive = entry("backup", 5, 8, { status: 1407, statusText: "Destination folder not valid", archive: null });
    await history.append(failedFive, { oldestKeptNumber: 3 });
    expect((await history.read()).entries).toEqual([b3, integ, b4, failedFive]);
  });

  it("when the kept archive is not in the history, drops older backups but keeps other operations", async () => {
    const history = new BackupHistory(dest, KEY);
    const [b1, restore, b9] = [entry("backup", 1, 1), entry("restore", 1, 2), entry("backup", 9, 3)];
    for (const e of [b1, restore]) await history.append(e);
    await history.append(b9, { oldestKeptNumber: 8 });
    expect((await history.read()).entries).toEqual([restore, b9]);
  });

  it("gives the highest number a committed archive used: failed attempts and restores don't count", async () => {
    const history = new BackupHistory(dest, KEY);
    expect(await history.highestNumber()).toBe(0);
    await history.append(entry("backup", 6, 1));
    await history.append(entry("backup", 7, 2, { status: 1409, statusText: "partial", partial: true }));
    await history.append(entry("backup", 8, 3, { status: 1406, statusText: "Backup canceled by user", archive: null }));
    await history.append(entry("restore", 20, 4));
    expect(await history.highestNumber()).toBe(7);
    // Committed, then the log backup failed: the archive exists, so its number is used up.
    await history.append(entry("backup", 8, 5, { status: 1408, statusText: "Error during log file backup" }));
    expect(await history.highestNumber()).toBe(8);
    expect(await new BackupHistory(dest, "/other/Project").highestNumber()).toBe(0);
  });

  it("sets a damaged file aside, reports it, and rebuilds from the caller's function", async () => {
    const file = path.join(dest, HISTORY_FILE_NAME);
    await writeFile(file, '{"/srv/db/Project": [ {"backupNumber": 1');
    const rebuilt = [entry("backup", 1, 1), entry("backup", 2, 2)];
    const rebuild = vi.fn(async () => rebuilt);
    const onDamaged = vi.fn();
    const history = new BackupHistory(dest, KEY, { rebuild, onDamaged, now: () => new Date("2026-11-26T03:04:05.678Z") });

    const first = await history.read();
    const keptAs = `${file}.damaged-2026-11-26T03-04-05-678Z`;
    expect(first.damaged).toEqual({ reason: expect.stringMatching(/^backupHistory\.json is not valid JSON/), keptAs });
    expect(first.entries).toEqual(rebuilt);
    expect(onDamaged).toHaveBeenCalledWith(first.damaged);
    expect(await readFile(keptAs, "utf8")).toBe('{"/srv/db/Project": [ {"backupNumber": 1');
    expect(await fileJson()).toEqual({ [KEY]: rebuilt });

    expect(await history.read()).toEqual({ entries: rebuilt, damaged: null });
    expect(rebuild).toHaveBeenCalledTimes(1);
    expect(await history.highestNumber()).toBe(2);
  });

  it("treats a file of the wrong shape as damaged, also when append finds it", async () => {
    const file = path.join(dest, HISTORY_FILE_NAME);
    await writeFile(file, JSON.stringify({ [KEY]: [], other: { not: "a list" } }));
    const onDamaged = vi.fn();
    const history = new BackupHistory(dest, KEY, { rebuild: async () => [entry("backup", 1, 1)], onDamaged });
    const e = entry("backup", 2, 2);
    await history.append(e);
    expect(onDamaged).toHaveBeenCalledWith({ reason: expect.stringContaining('(key "other")'), keptAs: expect.any(String) });
    expect((await history.read()).entries.map((x) => x.backupNumber)).toEqual([1, 2]);

    await writeFile(file, "[]");
    const plain = new BackupHistory(dest, KEY); // no rebuild: set aside, start empty
    const { entries, damaged } = await plain.read();
    expect(entries).toEqual([]);
    expect(damaged?.reason).toBe("backupHistory.json is not an object keyed by structure path");
    expect(await readFile(damaged!.keptAs, "utf8")).toBe("[]");
  });

  it("leaves the damaged file in place when rebuilding fails, so the next call tries again", async () => {
    const file = path.join(dest, HISTORY_FILE_NAME);
    await writeFile(file, "not json");
    const history = new BackupHistory(dest, KEY, { rebuild: async () => Promise.reject(new Error("manifest unreadable")) });
    await expect(history.read()).rejects.toThrow("manifest unreadable");
    expect(await readFile(file, "utf8")).toBe("not json");
  });

  it("serialises concurrent appends so none is lost", async () => {
    const history = new BackupHistory(dest, KEY);
    const all = Array.from({ length: 15 }, (_, i) => entry("backup", i + 1, i + 1));
    await Promise.all(all.map((e) => history.append(e)));
    expect((await history.read()).entries).toEqual(all);
  });
});
