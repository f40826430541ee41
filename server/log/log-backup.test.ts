// Log backups: closed segments saved as one `<Name>[K].4BL`, whole or not at all, segments kept until then; and
// retention deleting whole backups (an archive with the log backup it wrote), never the log backup just written.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { LogRecord, UnsignedLogRecord } from "../data/write-ops";
import { applyRetention, archiveName } from "../archive/names";
import { listLogBackupTemps, logBackupName, removeSegments, tempLogBackupName, writeLogBackup } from "./log-backup";
import { OperationLog, type ClosedSegment } from "./log-file";
import { formatHeader, formatRecord, readLog } from "./read-log";

let dir: string;
let destination: string;
let segmentsDir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "strongbox-logbackup-"));
  destination = path.join(dir, "backups");
  segmentsDir = path.join(dir, "Logs", "Log segments");
  await fs.mkdir(destination);
  await fs.mkdir(path.join(dir, "Data"));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const DB = "5b0e9a57-1c1d-4d8e-8f43-b1d9e0c2a7f1";
const NOW = new Date("2026-11-26T10:00:00.000Z");
const rec = (op: number): UnsignedLogRecord =>
  ({ op, time: NOW.toISOString(), user: null, kind: "insert", table: "t", key: op, values: { v: `row ${op}` } }) as UnsignedLogRecord;

/** Segments made the way the server makes them: appends, then a rotation at each "snapshot". */
async function makeSegments(ranges: Array<[number, number]>): Promise<ClosedSegment[]> {
  const { log } = await OperationLog.open({ logFile: path.join(dir, "Data", "data.journal"), segmentsDir, databaseId: DB,
    lastOperation: ranges[0][0] - 1, now: () => NOW });
  const out: ClosedSegment[] = [];
  for (const [a, b] of ranges) {
    for (let op = a; op <= b; op++) await log.append(rec(op));
    out.push((await log.rotate())!);
  }
  await log.close();
  return out;
}

const files = async (d: string) => (await fs.readdir(d)).sort();

describe("logBackupName", () => {
  it("numbers log backups on four digits like archives", () => {
    expect(logBackupName("Demo", 0)).toBe("Demo[0000].4BL");
    expect(logBackupName("My Base", 12)).toBe("My Base[0012].4BL");
    expect(logBackupName("Demo", 12345)).toBe("Demo[12345].4BL");
  });
});

describe("writeLogBackup", () => {
  it("writes every segment into one log backup that reads back as one log, then the segments can go", async () => {
    const segments = await makeSegments([[1, 3], [4, 4], [5, 8]]);
    const written = await writeLogBackup({ destination, databaseName: "Demo", number: 2, databaseId: DB, segments: [...segments].reverse(), now: () => NOW });
    expect(written).toEqual({ path: path.join(destination, "Demo[0002].4BL"), firstOperation: 1, lastOperation: 8, records: 8 });
    const back = await readLog(written.path, { allowTornTail: false, expectDatabaseId: DB });
    expect(back.header).toEqual({ type: "header", format: 1, databaseId: DB, firstOperation: 1, createdAt: NOW.toISOString() });
    expect(back.records.map((r) => r.op)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // The records are the segments' own, byte for byte.
    const segmentLines = (await Promise.all(segments.map((s) => fs.readFile(s.path, "utf8")))).flatMap((t) => t.trim().split("\n").slice(1));
    expect((await fs.readFile(written.path, "utf8")).trim().split("\n").slice(1)).toEqual(segmentLines);
    expect(await files(destination)).toEqual(["Demo[0002].4BL"]);
    expect((await fs.readdir(segmentsDir)).length).toBe(3); // removal is the caller's next step
    await removeSegments(segments);
    expect(await fs.readdir(segmentsDir)).toEqual([]);
  });

  it("refuses segments that don't follow each other (1408), writing nothing and keeping them", async () => {
    const segments = await makeSegments([[1, 3], [4, 6], [7, 9]]);
    const err = await writeLogBackup({ destination, databaseName: "Demo", number: 0, databaseId: DB, segments: [segments[0], segments[2]] }).catch((e) => e);
    expect(err).toMatchObject({ name: "DomainError", status: 1408 });
    expect(err.message).toMatch(/log\[1-3\]\.journal ends at operation 3 and log\[7-9\]\.journal starts at 7/);
    expect(await files(destination)).toEqual([]);
    expect((await fs.readdir(segmentsDir)).length).toBe(3);
  });

  it("refuses a damaged segment (1408), leaving no temporary file and no log backup", async () => {
    const segments = await makeSegments([[1, 2], [3, 5]]);
    const text = await fs.readFile(segments[1].path, "utf8");
    await fs.writeFile(segments[1].path, text.replace('"row 4"', '"row X"'));
    const err = await writeLogBackup({ destination, databaseName: "Demo", number: 1, databaseId: DB, segments }).catch((e) => e);
    expect(err).toMatchObject({ status: 1408 });
    expect(err.message).toMatch(/log\[3-5\]\.journal is damaged at line 3/);
    expect(await files(destination)).toEqual([]);
  });

  it("refuses a segment whose content is not what its name says (1408)", async () => {
    const [segment] = await makeSegments([[1, 3]]);
    const renamed = { path: path.join(segmentsDir, "log[1-4].journal"), firstOperation: 1, lastOperation: 4 };
    await fs.rename(segment.path, renamed.path);
    await expect(writeLogBackup({ destination, databaseName: "Demo", number: 0, databaseId: DB, segments: [renamed] }))
      .rejects.toMatchObject({ status: 1408, message: expect.stringMatching(/holds operations 1 to 3, not what its name says/) });
  });

  it("refuses another database's segment (1416)", async () => {
    const [segment] = await makeSegments([[1, 2]]);
    await expect(writeLogBackup({ destination, databaseName: "Demo", number: 0, databaseId: "another-id", segments: [segment] }))
      .rejects.toMatchObject({ status: 1416 });
    expect(await files(destination)).toEqual([]);
  });

  it("never replaces an existing log backup (1408)", async () => {
    const segments = await makeSegments([[1, 2]]);
    await fs.writeFile(path.join(destination, "Demo[0003].4BL"), "older");
    await expect(writeLogBackup({ destination, databaseName: "Demo", number: 3, databaseId: DB, segments }))
      .rejects.toMatchObject({ status: 1408, message: expect.stringMatching(/already exists/) });
    expect(await fs.readFile(path.join(destination, "Demo[0003].4BL"), "utf8")).toBe("older");
  });

  it("fails with 1408 and keeps the segments when the destination is gone", async () => {
    const segments = await makeSegments([[1, 2]]);
    await fs.rm(destination, { recursive: true });
    await expect(writeLogBackup({ destination, databaseName: "Demo", number: 0, databaseId: DB, segments }))
      .rejects.toMatchObject({ status: 1408, message: expect.stringMatching(/could not be written \(ENOENT\); the closed log segments are kept/) });
    expect((await fs.readdir(segmentsDir)).length).toBe(1);
  });

  it("refuses an empty list of segments", async () => {
    await expect(writeLogBackup({ destination, databaseName: "Demo", number: 0, databaseId: DB, segments: [] })).rejects.toMatchObject({ status: 1408 });
  });

  it("lists the temporary log backups a crash left, for this database only", async () => {
    await fs.writeFile(path.join(destination, tempLogBackupName("Demo", 4)), "half");
    await fs.writeFile(path.join(destination, tempLogBackupName("Other", 4)), "half");
    await fs.writeFile(path.join(destination, "Demo[0004].4BL"), formatHeader({ type: "header", format: 1, databaseId: DB, firstOperation: 1, createdAt: "" }) + "\n");
    expect(await listLogBackupTemps(destination, "Demo")).toEqual([path.join(destination, "Demo[0004].4BL.tmp")]);
  });
});

describe("retention of log backups (engine/archives.ts applyRetention, docs/log-file.md)", () => {
  it("deletes whole backups: each archive with the log backup it wrote ([N-1].4BL), the newest X kept", async () => {
    for (let n = 1; n <= 5; n++) await fs.writeFile(path.join(destination, archiveName("Demo", n)), "zip");
    const oneRecord = formatHeader({ type: "header", format: 1, databaseId: DB, firstOperation: 1, createdAt: "" }) + "\n" + formatRecord(rec(1)).line + "\n";
    for (let k = 0; k <= 4; k++) await fs.writeFile(path.join(destination, logBackupName("Demo", k)), oneRecord);
    const { oldestKept, deleted } = await applyRetention(destination, "Demo", 3);
    expect(oldestKept).toBe(3);
    // Archive 3 plus [0003] and [0004] (and the current log) replay everything after archive 3's snapshot; [0002],
    // written by backup 3, stays with it.
    expect(await files(destination)).toEqual(["Demo[0002].4BL", "Demo[0003].4BL", "Demo[0003].zip", "Demo[0004].4BL", "Demo[0004].zip", "Demo[0005].zip"].sort());
    expect(deleted.map((d) => path.basename(d)).sort()).toEqual(["Demo[0000].4BL", "Demo[0001].4BL", "Demo[0001].zip", "Demo[0002].zip"]);
  });

  it("counts backups: with fewer than X, nothing is deleted, not even the first backup's log backup [0000]", async () => {
    await fs.writeFile(path.join(destination, archiveName("Demo", 1)), "zip");
    await fs.writeFile(path.join(destination, logBackupName("Demo", 0)), "log");
    expect(await applyRetention(destination, "Demo", 3)).toEqual({ deleted: [], oldestKept: 1 });
    expect(await files(destination)).toEqual(["Demo[0000].4BL", "Demo[0001].zip"]);
    // Keeping one: the newest backup and the log backup it has just written.
    await fs.writeFile(path.join(destination, archiveName("Demo", 2)), "zip");
    await fs.writeFile(path.join(destination, logBackupName("Demo", 1)), "log");
    await applyRetention(destination, "Demo", 1);
    expect(await files(destination)).toEqual(["Demo[0001].4BL", "Demo[0002].zip"]);
  });
});
