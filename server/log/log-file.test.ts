// The log file as the server writes it: creation, appends flushed before they resolve and kept in order,
// dropLast, rotation into segments, and how open matches the log against the data file's last operation.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { LogRecord, UnsignedLogRecord } from "../data/write-ops";
import { listClosedSegments, OperationLog, type OpenLogOptions } from "./log-file";
import { SEGMENTS_FOLDER } from "../database/layout";
import { formatHeader, formatRecord, readLog } from "./read-log";

let dir: string;
let logFile: string;
let segmentsDir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "strongbox-logfile-"));
  await fs.mkdir(path.join(dir, "Data"));
  logFile = path.join(dir, "Data", "data.journal");
  segmentsDir = path.join(dir, "Logs", SEGMENTS_FOLDER);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await fs.rm(dir, { recursive: true, force: true });
});

const DB = "0f6c1f8e-7d2b-4c0a-9a51-3e1f2d4c5b6a";
const NOW = new Date("2026-11-26T10:00:00.000Z");
const opts = (lastOperation: number, more: Partial<OpenLogOptions> = {}): OpenLogOptions =>
  ({ logFile, segmentsDir, databaseId: DB, lastOperation, now: () => NOW, ...more });
const rec = (op: number, name = `n${op}`): UnsignedLogRecord =>
  ({ op, time: "2026-11-26T10:00:01.000Z", user: "alice", kind: "update", table: "t", key: 1, values: { name } }) as UnsignedLogRecord;
const ops = async (file: string) => (await readLog(file, { allowTornTail: false })).records.map((r) => r.op);
const names = async (file: string) => (await readLog(file, { allowTornTail: false })).records.map((r) => (r as { values?: { name?: string } }).values?.name);

/** Writes a log file by hand, as an earlier run (or a crash) would have left it. */
async function writeLog(file: string, firstOperation: number, records: number[], tail = "", databaseId = DB): Promise<string> {
  const text = formatHeader({ type: "header", format: 1, databaseId, firstOperation, createdAt: NOW.toISOString() }) + "\n" +
    records.map((op) => formatRecord(rec(op)).line + "\n").join("") + tail;
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
  return text;
}

describe("OperationLog: creating and appending", () => {
  it("creates the log after the data file's last operation and appends records that read back", async () => {
    const { log, pending, notes } = await OperationLog.open(opts(0));
    expect(pending).toEqual([]);
    expect(notes).toEqual([]);
    await log.append(rec(1));
    await log.append(rec(2));
    expect(log.lastOperation).toBe(2);
    await log.close();
    const read = await readLog(logFile, { allowTornTail: false, expectDatabaseId: DB });
    expect(read.header).toEqual({ type: "header", format: 1, databaseId: DB, firstOperation: 1, createdAt: NOW.toISOString() });
    expect(read.records.map((r) => r.op)).toEqual([1, 2]);
  });

  it("starts a new log after the data file's last operation when there is none (bookkeeping already at 7, its segments end at 7)", async () => {
    await writeLog(path.join(segmentsDir, "log[1-7].journal"), 1, [1, 2, 3, 4, 5, 6, 7]);
    const { log, notes } = await OperationLog.open(opts(7));
    expect(notes).toEqual([]);
    expect(log.firstOperation).toBe(8);
    await expect(log.append(rec(7))).rejects.toMatchObject({ status: 1416 });
    await log.append(rec(8));
    await log.close();
    expect(await ops(logFile)).toEqual([8]);
  });

  it("refuses an append that skips or repeats a number, leaving the file as it was", async () => {
    const { log } = await OperationLog.open(opts(0));
    await log.append(rec(1));
    const before = await fs.readFile(logFile);
    await expect(log.append(rec(3))).rejects.toMatchObject({ status: 1416, message: expect.stringMatching(/Operation 3 can't be logged after operation 1/) });
    await expect(log.append(rec(1))).rejects.toMatchObject({ status: 1416 });
    expect(await fs.readFile(logFile)).toEqual(before);
    await log.append(rec(2));
    await log.close();
    expect(await ops(logFile)).toEqual([1, 2]);
  });

  it("resolves an append only once its record has been flushed (fdatasync)", async () => {
    const { log } = await OperationLog.open(opts(0));
    const probe = await fs.open(path.join(dir, "probe"), "w");
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    let releaseFlush!: () => void;
    const original = proto.datasync;
    const spy = vi.spyOn(proto, "datasync").mockImplementation(function (this: unknown) {
      return new Promise<void>((resolve) => { releaseFlush = resolve; }).then(() => original.call(this));
    });
    let resolved = false;
    const appending = log.append(rec(1)).then(() => { resolved = true; });
    await vi.waitFor(() => expect(spy).toHaveBeenCalledTimes(1));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(false);
    releaseFlush();
    await appending;
    expect(resolved).toBe(true);
    await log.close();
  });

  it("keeps concurrent appends in call order", async () => {
    const { log } = await OperationLog.open(opts(0));
    await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(rec(i + 1))));
    await log.close();
    expect(await ops(logFile)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it("refuses a record that could not be read back, writing nothing", async () => {
    const { log } = await OperationLog.open(opts(0));
    const before = await fs.readFile(logFile);
    await expect(log.append({ ...rec(1), table: "no such; table" } as UnsignedLogRecord)).rejects.toMatchObject({ status: 1403 });
    expect(await fs.readFile(logFile)).toEqual(before);
    await log.append(rec(1));
    await log.close();
  });

  it("refuses calls after close", async () => {
    const { log } = await OperationLog.open(opts(0));
    await log.close();
    await expect(log.append(rec(1))).rejects.toMatchObject({ status: 1403, message: expect.stringMatching(/is closed/) });
  });
});

describe("OperationLog.dropLast", () => {
  it("takes back the last record, and the next append reuses its number", async () => {
    const { log } = await OperationLog.open(opts(0));
    await log.append(rec(1));
    await log.append(rec(2, "failed commit"));
    await log.dropLast(2);
    expect(log.lastOperation).toBe(1);
    await log.append(rec(2, "second try"));
    await log.close();
    expect(await names(logFile)).toEqual(["n1", "second try"]);
  });

  it("refuses to take back anything but the last record appended", async () => {
    const { log } = await OperationLog.open(opts(0));
    await log.append(rec(1));
    await log.append(rec(2));
    await expect(log.dropLast(1)).rejects.toMatchObject({ status: 1403, message: expect.stringMatching(/its last operation is 2/) });
    await log.dropLast(2);
    await expect(log.dropLast(1)).rejects.toMatchObject({ status: 1403 });
    await log.close();
    expect(await ops(logFile)).toEqual([1]);
  });

  it("takes back the last record of a log reopened after a crash (a pending one the replay refused)", async () => {
    await writeLog(logFile, 1, [1, 2, 3]);
    const { log, pending } = await OperationLog.open(opts(2));
    expect(pending.map((r) => r.op)).toEqual([3]);
    await log.dropLast(3);
    await log.close();
    expect(await ops(logFile)).toEqual([1, 2]);
  });
});

describe("OperationLog.appendGroup and takeBack", () => {
  it("appends a group of records with one flush, all numbered after the last, and takes the last group back whole", async () => {
    const { log } = await OperationLog.open(opts(0));
    await log.append(rec(1));
    const probe = await fs.open(path.join(dir, "probe"), "w");
    const datasync = vi.spyOn(Object.getPrototypeOf(probe) as { datasync: () => Promise<void> }, "datasync");
    await probe.close();
    await log.appendGroup([rec(2), rec(3), rec(4)]);
    expect(datasync).toHaveBeenCalledTimes(1);
    expect(log.lastOperation).toBe(4);
    expect(await ops(logFile)).toEqual([1, 2, 3, 4]);
    await log.appendGroup([rec(5, "refused"), rec(6, "refused")]);
    await log.takeBack(5);
    expect(log.lastOperation).toBe(4);
    await log.appendGroup([rec(5, "again")]);
    await log.close();
    expect(await names(logFile)).toEqual(["n1", "n2", "n3", "n4", "again"]);
  });

  it("refuses a group with a gap or a record it can't hold, writing none of it", async () => {
    const { log } = await OperationLog.open(opts(0));
    await log.appendGroup([rec(1)]);
    await expect(log.appendGroup([rec(2), rec(4)])).rejects.toMatchObject({ status: 1416 });
    await expect(log.appendGroup([rec(2), { ...rec(3), table: "no such; table" } as UnsignedLogRecord])).rejects.toMatchObject({ status: 1403 });
    await expect(log.takeBack(2)).rejects.toMatchObject({ status: 1403, message: expect.stringMatching(/not the last group/) });
    await log.appendGroup([rec(2), rec(3)]);
    await log.close();
    expect(await ops(logFile)).toEqual([1, 2, 3]);
  });
});

describe("OperationLog.rotate", () => {
  it("closes the log into a segment named by its range and goes on numbering in a new log", async () => {
    const { log } = await OperationLog.open(opts(0));
    for (let op = 1; op <= 3; op++) await log.append(rec(op));
    const segment = await log.rotate();
    expect(segment).toEqual({ path: path.join(segmentsDir, "log[1-3].journal"), firstOperation: 1, lastOperation: 3 });
    expect(await ops(segment!.path)).toEqual([1, 2, 3]);
    expect((await readLog(logFile, { allowTornTail: false })).header.firstOperation).toBe(4);
    await log.append(rec(4));
    await log.append(rec(5));
    expect(await log.rotate()).toMatchObject({ firstOperation: 4, lastOperation: 5 });
    await log.append(rec(6));
    expect(await log.closedSegments()).toEqual([
      { path: path.join(segmentsDir, "log[1-3].journal"), firstOperation: 1, lastOperation: 3 },
      { path: path.join(segmentsDir, "log[4-5].journal"), firstOperation: 4, lastOperation: 5 },
    ]);
    await log.close();
    expect(await ops(logFile)).toEqual([6]);
  });

  it("returns null and changes nothing when the log holds no record", async () => {
    const { log } = await OperationLog.open(opts(9));
    const before = await fs.readFile(logFile);
    expect(await log.rotate()).toBeNull();
    expect(await fs.readFile(logFile)).toEqual(before);
    expect(await listClosedSegments(segmentsDir)).toEqual([]);
    await log.close();
  });

  it("can't take back a record that went into a segment", async () => {
    const { log } = await OperationLog.open(opts(0));
    await log.append(rec(1));
    await log.rotate();
    await expect(log.dropLast(1)).rejects.toMatchObject({ status: 1403 });
    await log.close();
  });

  it("lists segments by first operation, numerically, ignoring other files", async () => {
    await fs.mkdir(segmentsDir, { recursive: true });
    for (const n of ["log[10-19].journal", "log[2-9].journal", "log[20-20].journal", "notes.txt", "log[1-1].journal.tmp"]) {
      await fs.writeFile(path.join(segmentsDir, n), "");
    }
    expect((await listClosedSegments(segmentsDir)).map((s) => [s.firstOperation, s.lastOperation])).toEqual([[2, 9], [10, 19], [20, 20]]);
    expect(await listClosedSegments(path.join(dir, "missing"))).toEqual([]);
  });
});

describe("OperationLog.open against the data file", () => {
  it("returns the operations logged but not in the data file, to replay", async () => {
    await writeLog(logFile, 1, [1, 2, 3, 4]);
    const { log, pending, notes } = await OperationLog.open(opts(2));
    expect(pending.map((r) => r.op)).toEqual([3, 4]);
    expect(notes).toEqual([]);
    expect(log.lastOperation).toBe(4);
    await log.append(rec(5));
    await log.close();
    expect(await ops(logFile)).toEqual([1, 2, 3, 4, 5]);
  });

  it("cuts off a torn last line (a crash mid-append) and goes on from the last whole record", async () => {
    const whole = await writeLog(logFile, 1, [1, 2]);
    await fs.appendFile(logFile, formatRecord(rec(3)).line.slice(0, 25)); // the crash: half a line, no newline
    const { log, pending, notes } = await OperationLog.open(opts(2));
    expect(pending).toEqual([]);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/line 4\) was incomplete/);
    expect(await fs.readFile(logFile, "utf8")).toBe(whole);
    await log.append(rec(3, "retried"));
    await log.close();
    expect(await names(logFile)).toEqual(["n1", "n2", "retried"]);
  });

  it("refuses another database's log (1416) naming both ids, and leaves it was", async () => {
    const text = await writeLog(logFile, 1, [1], "", "a-different-database");
    const err = await OperationLog.open(opts(1)).catch((e) => e);
    expect(err).toMatchObject({ name: "DomainError", status: 1416 });
    expect(err.message).toContain("a-different-database");
    expect(err.message).toContain(DB);
    expect(err.message).toMatch(/move that log file out of the Data folder/);
    expect(await fs.readFile(logFile, "utf8")).toBe(text);
  });

  it("refuses a damaged log (1403) with the line, even with a torn tail after it, and leaves it was", async () => {
    const good = formatRecord(rec(2)).line;
    const text = await writeLog(logFile, 1, [1], good.replace('"n2"', '"xx"') + "\n" + formatRecord(rec(3)).line.slice(0, 10));
    await expect(OperationLog.open(opts(1))).rejects.toMatchObject({ status: 1403, message: expect.stringMatching(/damaged at line 3/) });
    expect(await fs.readFile(logFile, "utf8")).toBe(text);
  });

  it("refuses a log with a gap (1416)", async () => {
    await writeLog(logFile, 1, [1, 2], formatRecord(rec(5)).line + "\n");
    await expect(OperationLog.open(opts(2))).rejects.toMatchObject({ status: 1416, message: expect.stringMatching(/gap between operation 2 and 5/) });
  });

  it("refuses a log that ends before the data file's last operation (1416), changing nothing", async () => {
    const text = await writeLog(logFile, 1, [1, 2, 3], formatRecord(rec(4)).line.slice(0, 10));
    const err = await OperationLog.open(opts(6)).catch((e) => e);
    expect(err).toMatchObject({ status: 1416 });
    expect(err.message).toMatch(/ends at operation 3 but the data file's last operation is 6: operations 4 to 6 are in no log/);
    expect(await fs.readFile(logFile, "utf8")).toBe(text); // the torn tail is not even cut
  });

  it("refuses a data file older than the log (1416): the log, or the segments, start after it", async () => {
    await writeLog(logFile, 11, [11, 12]);
    await expect(OperationLog.open(opts(4))).rejects.toMatchObject({ status: 1416, message: expect.stringMatching(/operations 5 to 10 are not in it/) });
    await fs.rm(logFile);
    await writeLog(path.join(segmentsDir, "log[1-10].journal"), 1, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await expect(OperationLog.open(opts(4))).rejects.toMatchObject({ status: 1416, message: expect.stringMatching(/segments go up to operation 10/) });
    await expect(fs.access(logFile)).rejects.toThrow(); // nothing was created
  });

  it("starts a new log, with a note, when the log file is missing and the data file has operations no segment holds", async () => {
    await writeLog(path.join(segmentsDir, "log[1-4].journal"), 1, [1, 2, 3, 4]);
    const { log, notes } = await OperationLog.open(opts(9));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/was missing; a new one starts after operation 9\. Operations 5 to 9 are only in the data file/);
    expect(log.firstOperation).toBe(10);
    await log.close();
  });

  it("replaces a log without records that stops before the data file (writes made with the log off), with a note", async () => {
    await writeLog(logFile, 3, []);
    const { log, notes } = await OperationLog.open(opts(8));
    expect(notes[0]).toMatch(/held no operation and started at operation 3, but the data file is at 8/);
    await log.append(rec(9));
    await log.close();
    expect((await readLog(logFile, { allowTornTail: false })).header.firstOperation).toBe(9);
  });

  it("loses nothing when a crash came between closing a segment and creating the next log", async () => {
    const first = await OperationLog.open(opts(0));
    for (let op = 1; op <= 3; op++) await first.log.append(rec(op));
    await first.log.rotate();
    await first.log.close();
    await fs.rm(logFile); // as if the crash came right after the move
    const { log, notes, pending } = await OperationLog.open(opts(3));
    expect(notes).toEqual([]);
    expect(pending).toEqual([]);
    await log.append(rec(4));
    await log.close();
    expect(await ops(logFile)).toEqual([4]);
    expect(await ops(path.join(segmentsDir, "log[1-3].journal"))).toEqual([1, 2, 3]);
  });

  it("removes temporary files a crash left while creating the log or copying a segment", async () => {
    const stray = path.join(dir, "Data", ".data.journal.1234.abcdef012345.tmp");
    await fs.writeFile(stray, "partial");
    await fs.mkdir(segmentsDir, { recursive: true });
    const segmentCopy = path.join(segmentsDir, "log[1-4].journal.tmp");
    await fs.writeFile(segmentCopy, "partial");
    const { log } = await OperationLog.open(opts(0));
    await log.close();
    await expect(fs.access(stray)).rejects.toThrow();
    await expect(fs.access(segmentCopy)).rejects.toThrow();
    expect(await fs.readdir(path.join(dir, "Data"))).toEqual(["data.journal"]);
  });
});
