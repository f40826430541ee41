// Automatic restore at start (docs/operations.md#automatic-restore), on real databases made and backed up by real
// backups and the data API: a corrupted data file is replaced by the last valid backup plus the log, the damaged
// files are kept aside, and the operation is in the journal and the history; a missing file, AutomaticRestore off
// and no valid backup change nothing.
import Database from "better-sqlite3";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openConsoleDb, type ConsoleDb } from "../console/console-db";
import type { DataAccess } from "../startup/open-data";
import { openDataAccess } from "../startup/open-data";
import { databaseLayout } from "../database/layout";
import { openOperations, type TestOperations } from "../../test/helpers/operations";
import { logDatabaseId } from "../log/integration";
import { BackupLocks } from "../locks/backup-locks";
import { readEntry } from "../zip/zip-reader";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";
import { acquireInstanceLock, type InstanceLock } from "../locks/instance-lock";
import { automaticRestoreIfDamaged } from "./automatic-restore-task";
import { checkDataFile } from "./data-file-check";
import { entryDataSpan, flipBit } from "./test-helpers";

let t: TestDatabase;
let consoleDb: ConsoleDb | null = null;
let open: DataAccess[] = [];
let lock: InstanceLock | undefined;

afterEach(async () => {
  for (const d of open) {
    await d.store.close();
    await d.log.close();
  }
  open = [];
  consoleDb?.close();
  consoleDb = null;
  lock?.release();
  t?.cleanup();
});

const alice = { user: "alice" };
/** The damaged files' folder is named after the time (UTC). */
const now = () => new Date("2026-11-25T03:00:01Z");
const KEPT = "Damaged data file 20261125-030001";

function setUp(opts: { automaticRestore?: boolean; logIntegration?: boolean } = {}) {
  t = makeTestDatabase({ rows: 300 });
  // As the server holds it during the start: the restore into Data/'s work folder must not take it for another server's.
  lock = acquireInstanceLock(t.databaseDir);
  const b = (v: boolean) => (v ? "True" : "False");
  t.writeSettings({ advancedXml: `<AutomaticRestore>${b(opts.automaticRestore ?? true)}</AutomaticRestore>` +
    `<AutomaticLogIntegration>${b(opts.logIntegration ?? true)}</AutomaticLogIntegration>` });
  consoleDb = openConsoleDb(path.join(t.home, "console.sqlite"));
  return databaseLayout(t.databaseDir);
}

/** The server's data side and operations, as services.ts opens them. */
async function start(log = true) {
  const locks = new BackupLocks();
  const data = await openDataAccess(databaseLayout(t.databaseDir), locks, true);
  open.push(data);
  const engine = openOperations(t, { consoleDb: consoleDb!, locks, log: log ? data.log : null });
  await engine.init();
  return { engine, store: data.store, data };
}

/** The server stops: connections closed (the WAL is checkpointed and removed), the log closed. */
async function stop(data: DataAccess) {
  await data.store.close();
  await data.log.close();
  open = open.filter((d) => d !== data);
}

/** The operations as the next start makes them, before the data side is open; the clock pinned for the folders' names. */
const restoreAtStart = () => {
  const ops = openOperations(t, { consoleDb: consoleDb!, log: null, clock: { now } });
  return automaticRestoreIfDamaged(ops.db, ops.runner);
};

async function backUp(engine: TestOperations) {
  const outcome = await engine.backup().done;
  expect(outcome.status).toBe(0);
  return outcome.archivePath!;
}

let nextDeleted = 20;
async function someWrites(store: DataAccess["store"], tag: string) {
  await store.write({ kind: "insert", table: "customers", values: { name: `New ${tag}`, city: tag } }, alice);
  await store.write({ kind: "update", table: "customers", key: 5, values: { city: `Moved ${tag}` } }, alice);
  await store.write({ kind: "delete", table: "customers", key: nextDeleted++ }, alice);
  await store.write({ kind: "batch", ops: [
    { kind: "insert", table: "customers", values: { name: `Batch ${tag}`, city: "B" } },
    { kind: "update", table: "customers", key: 2, values: { name: `Renamed ${tag}` } },
  ] }, alice);
}

/** Every table's rows (rowid included), read on a read-write connection so that no -wal/-shm is left behind. */
function rows(file: string, opts: { withoutId?: boolean } = {}): Record<string, unknown[]> {
  const db = new Database(file, { fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>;
    const out = Object.fromEntries(tables.map(({ name }) => [name, db.prepare(`SELECT rowid AS _rowid, * FROM "${name}" ORDER BY rowid`).all()]));
    if (opts.withoutId) out.strongbox_bookkeeping = out.strongbox_bookkeeping!.filter((r) => (r as { key: string }).key !== "database_id");
    return out;
  } finally {
    db.close();
  }
}

function pageSize(file: string): number {
  const n = fs.readFileSync(file).readUInt16BE(16);
  return n === 1 ? 65536 : n;
}

/**
 * What a crash on a failing disk leaves: the second page's b-tree header (the customers table's root) overwritten,
 * and a -wal with frames plus a -shm beside it (a connection that wrote and never closed).
 */
function corruptLikeACrash(file: string): { wal: Buffer; shm: Buffer; main: Buffer } {
  const copies = path.join(t.root, "crash-copies");
  fs.mkdirSync(copies);
  const fd = fs.openSync(file, "r+");
  fs.writeSync(fd, Buffer.alloc(16, 0xff), 0, 16, pageSize(file));
  fs.closeSync(fd);
  const db = new Database(file);
  db.pragma("wal_autocheckpoint = 0");
  db.exec("CREATE TABLE written_before_the_crash (x)");
  for (const s of ["", "-wal", "-shm"]) fs.copyFileSync(file + s, path.join(copies, "data.sqlite" + s));
  db.close();
  for (const s of ["", "-wal", "-shm"]) fs.copyFileSync(path.join(copies, "data.sqlite" + s), file + s);
  return { main: fs.readFileSync(file), wal: fs.readFileSync(file + "-wal"), shm: fs.readFileSync(file + "-shm") };
}

const journal = () => fs.readFileSync(path.join(t.databaseDir, "Logs", "Backup Journal[001].txt"), "utf8");
const history = () => JSON.parse(fs.readFileSync(path.join(t.destination, "backupHistory.json"), "utf8"))[databaseLayout(t.databaseDir).projectDir] as Array<Record<string, unknown>>;

describe("checkDataFile", () => {
  it("says ok for a sound data file and leaves no -wal/-shm behind; damaged for a bad page or a bad header", async () => {
    const layout = setUp();
    expect(await checkDataFile(layout.dataFile)).toEqual({ state: "ok" });
    expect(fs.readdirSync(layout.dataDir).filter((n) => n.startsWith("data.sqlite"))).toEqual(["data.sqlite"]);

    const fd = fs.openSync(layout.dataFile, "r+");
    fs.writeSync(fd, Buffer.alloc(16, 0xff), 0, 16, pageSize(layout.dataFile));
    fs.closeSync(fd);
    const page = await checkDataFile(layout.dataFile);
    // Depending on what the page held, SQLite's first read fails (SQLITE_CORRUPT) or quick_check lists the problem.
    expect(page).toMatchObject({ state: "damaged", reason: expect.stringMatching(/SQLITE_CORRUPT|quick_check found: .*page 2/) });

    fs.writeFileSync(layout.dataFile, Buffer.concat([Buffer.from("this is no SQLite header at all"), fs.readFileSync(layout.dataFile).subarray(31)]));
    expect(await checkDataFile(layout.dataFile)).toMatchObject({ state: "damaged", reason: expect.stringContaining("SQLITE_NOTADB") });
    expect(fs.readdirSync(layout.dataDir).filter((n) => n.startsWith("data.sqlite"))).toEqual(["data.sqlite"]);
  });

  it("a missing file or a missing folder is not damage, and says which is gone", async () => {
    const layout = setUp();
    fs.rmSync(layout.dataFile);
    expect(await checkDataFile(layout.dataFile)).toEqual({ state: "missing", message: expect.stringContaining(`The data file ${layout.dataFile} is missing`) });
    fs.rmSync(layout.dataDir, { recursive: true });
    expect(await checkDataFile(layout.dataFile)).toEqual({ state: "missing", message: expect.stringContaining(`The folder ${layout.dataDir}, which holds the data file`) });
  });
});

describe("automaticRestoreIfDamaged", () => {
  it("restores the last backup, integrates the log, keeps the damaged files aside and records it", async () => {
    const layout = setUp();
    const { engine, store, data } = await start();
    await someWrites(store, "before");
    const archive = await backUp(engine);
    await someWrites(store, "after");
    const lastOperation = store.lastOperation();
    await stop(data);
    const expected = rows(layout.dataFile);
    expect(expected.customers).toContainEqual(expect.objectContaining({ name: "New after" }));
    const damaged = corruptLikeACrash(layout.dataFile);
    expect(damaged.wal.length).toBeGreaterThan(0);
    expect((await checkDataFile(layout.dataFile)).state).toBe("damaged");

    const result = await restoreAtStart();

    expect(result).toMatchObject({
      outcome: "restored", restoredFrom: archive, backupNumber: 1, damagedKeptIn: path.join(layout.dataDir, KEPT),
      logIntegration: { applied: 4, lastOperation }, newLogChain: false,
    });
    expect(rows(layout.dataFile)).toEqual(expected);
    // The damaged file and its -wal/-shm are kept as they were; none of them is left beside the restored file.
    const kept = path.join(layout.dataDir, KEPT);
    expect(fs.readdirSync(kept).sort()).toEqual(["data.sqlite", "data.sqlite-shm", "data.sqlite-wal"]);
    expect(fs.readFileSync(path.join(kept, "data.sqlite")).equals(damaged.main)).toBe(true);
    expect(fs.readFileSync(path.join(kept, "data.sqlite-wal")).equals(damaged.wal)).toBe(true);
    // The -shm is an index of the WAL that every connection rewrites (the check's read marks too): kept, not byte-equal.
    expect(fs.statSync(path.join(kept, "data.sqlite-shm")).size).toBe(damaged.shm.length);
    expect(fs.readdirSync(layout.dataDir).filter((n) => n.startsWith("data.sqlite") || n.startsWith(".automatic-restore"))).toEqual(["data.sqlite"]);
    expect(fs.existsSync(layout.logFile)).toBe(true);

    const block = journal().split("\n\n").at(-1)!;
    expect(block).toMatch(new RegExp(`^\\*\\*\\* Automatic Full Backup Restore\\nTrigger : startup\\nRestoring archive : ${escapeRe(archive)}\\n`));
    expect(block).toContain(`Damaged files kept in : ${kept} (data.sqlite, data.sqlite-wal, data.sqlite-shm)`);
    expect(block).toContain(`Log integrated : operations 5 to ${lastOperation} (4 operations)`);
    expect(block).not.toContain("Error reported");
    expect(history().at(-1)).toMatchObject({ operation: "restore", trigger: "startup", user: null, backupNumber: 1, backupPath: archive, status: 0,
      dataPath: layout.dataFile });

    // The next start finds a sound file and a log that follows it: nothing replayed, new writes go on the same chain.
    expect(await restoreAtStart()).toBeNull();
    const again = await start();
    expect(again.data.messages.join("\n")).not.toMatch(/Replay/);
    expect((await again.store.write({ kind: "insert", table: "customers", values: { name: "Later", city: "L" } }, alice)).operation).toBe(lastOperation + 1);
  });

  it("uses the previous archive when the newest one is damaged, and still integrates the whole log", async () => {
    const layout = setUp();
    const { engine, store, data } = await start();
    await someWrites(store, "one");
    const first = await backUp(engine);
    await someWrites(store, "two");
    const second = await backUp(engine);
    await someWrites(store, "three");
    await stop(data);
    const expected = rows(layout.dataFile);
    const span = await entryDataSpan(second, "Data/data.sqlite");
    flipBit(second, span.offset + Math.floor(span.length / 2));
    corruptLikeACrash(layout.dataFile);

    const result = await restoreAtStart();

    expect(result).toMatchObject({ outcome: "restored", restoredFrom: first, backupNumber: 1, logIntegration: { applied: 8 }, newLogChain: false });
    expect(rows(layout.dataFile)).toEqual(expected);
    expect(journal()).toMatch(new RegExp(`Archive skipped : ${escapeRe(second)} \\(The archive .* is damaged: entry "Data/data.sqlite"`));
    if (result?.outcome !== "restored") throw new Error("not restored");
    expect(result.notes.join("\n")).toContain(second);
  });

  it("with AutomaticLogIntegration off, restores the snapshot only, and a new log chain starts", async () => {
    const layout = setUp({ logIntegration: false });
    const { engine, store, data } = await start();
    await someWrites(store, "before");
    const archive = await backUp(engine);
    const snapshotOperation = store.lastOperation();
    await someWrites(store, "after");
    await stop(data);
    const oldId = await logDatabaseId(layout.logFile);
    const snapshot = path.join(t.root, "snapshot.sqlite");
    fs.writeFileSync(snapshot, await readEntry(archive, "Data/data.sqlite"));
    corruptLikeACrash(layout.dataFile);

    const result = await restoreAtStart();

    expect(result).toMatchObject({ outcome: "restored", restoredFrom: archive, logIntegration: { problem: expect.stringContaining("AutomaticLogIntegration") }, newLogChain: true });
    expect(rows(layout.dataFile, { withoutId: true })).toEqual(rows(snapshot, { withoutId: true }));
    // The old log went with the damaged files: the start must not replay it into the snapshot.
    const kept = path.join(layout.dataDir, KEPT);
    expect(fs.readdirSync(kept).sort()).toEqual(["data.journal", "data.sqlite", "data.sqlite-shm", "data.sqlite-wal"]);
    expect(fs.existsSync(layout.logFile)).toBe(false);
    expect(journal()).toContain(`A new log chain starts after operation ${snapshotOperation}`);

    const again = await start();
    expect(again.data.messages.join("\n")).not.toMatch(/Replayed/);
    expect(rows(layout.dataFile, { withoutId: true }).customers).toEqual(rows(snapshot).customers);
    expect((await again.store.write({ kind: "insert", table: "customers", values: { name: "Later", city: "L" } }, alice)).operation).toBe(snapshotOperation + 1);
    const newId = await logDatabaseId(layout.logFile);
    expect(newId).not.toBeNull();
    expect(newId).not.toBe(oldId);
  });

  it("keeps the restored file without the log when the log has a gap, and says so", async () => {
    const layout = setUp();
    const { engine, store, data } = await start();
    await someWrites(store, "one");
    const first = await backUp(engine);
    await someWrites(store, "two");
    const second = await backUp(engine);
    await someWrites(store, "three");
    await stop(data);
    const snapshot = path.join(t.root, "snapshot.sqlite");
    fs.writeFileSync(snapshot, await readEntry(first, "Data/data.sqlite"));
    // The newest archive is damaged and the log backup between the two archives is gone: operations 5–8 are nowhere.
    const span = await entryDataSpan(second, "Data/data.sqlite");
    flipBit(second, span.offset + 10);
    fs.rmSync(path.join(t.destination, "TestDb[0001].4BL"));
    corruptLikeACrash(layout.dataFile);

    const result = await restoreAtStart();

    expect(result).toMatchObject({ outcome: "restored", restoredFrom: first, newLogChain: true,
      logIntegration: { problem: expect.stringMatching(/operations 5 to 8 are in none of the log files/) } });
    expect(rows(layout.dataFile, { withoutId: true })).toEqual(rows(snapshot, { withoutId: true }));
    expect(journal()).toMatch(/Log not integrated : The log can't be integrated after operation 4/);
  });

  it("does nothing for a missing data file, and says so", async () => {
    const layout = setUp();
    const { engine, data } = await start();
    await backUp(engine);
    await stop(data);
    const journalBefore = journal();
    fs.rmSync(layout.dataFile);

    const result = await restoreAtStart();

    expect(result).toEqual({ outcome: "missing", message: expect.stringContaining(`The data file ${layout.dataFile} is missing`) });
    expect(fs.existsSync(layout.dataFile)).toBe(false);
    expect(fs.readdirSync(layout.dataDir).filter((n) => n.startsWith("Damaged"))).toEqual([]);
    expect(journal()).toBe(journalBefore);
    expect(history().map((e) => e.operation)).toEqual(["backup"]);
  });

  it("with AutomaticRestore off, changes nothing and says the data file is damaged", async () => {
    const layout = setUp({ automaticRestore: false });
    const { engine, data } = await start();
    await backUp(engine);
    await stop(data);
    const journalBefore = journal();
    const damaged = corruptLikeACrash(layout.dataFile);

    const result = await restoreAtStart();

    expect(result).toMatchObject({ outcome: "off", damage: expect.stringMatching(/SQLITE_CORRUPT|quick_check/), message: expect.stringContaining("AutomaticRestore") });
    expect(fs.readFileSync(layout.dataFile).equals(damaged.main)).toBe(true);
    expect(fs.readFileSync(layout.dataFile + "-wal").equals(damaged.wal)).toBe(true);
    expect(fs.readdirSync(layout.dataDir).filter((n) => n.startsWith("Damaged") || n.startsWith(".automatic"))).toEqual([]);
    expect(journal()).toBe(journalBefore);
  });

  it("without a valid backup, leaves the damaged file where it is and records the failure", async () => {
    const layout = setUp();
    const { engine, data } = await start();
    const archive = await backUp(engine);
    await stop(data);
    const span = await entryDataSpan(archive, "Data/data.sqlite");
    flipBit(archive, span.offset + 10);
    const damaged = corruptLikeACrash(layout.dataFile);

    const result = await restoreAtStart();

    expect(result).toMatchObject({ outcome: "failed", message: expect.stringContaining("could not be restored automatically") });
    expect(fs.readFileSync(layout.dataFile).equals(damaged.main)).toBe(true);
    expect(fs.readFileSync(layout.dataFile + "-wal").equals(damaged.wal)).toBe(true);
    expect(fs.readdirSync(layout.dataDir).filter((n) => n.startsWith("Damaged") || n.startsWith(".automatic"))).toEqual([]);
    const block = journal().split("\n\n").at(-1)!;
    expect(block).toMatch(/^\*\*\* Automatic Full Backup Restore aborted\nTrigger : startup\n/);
    expect(block).toContain(`Archive skipped : ${archive}`);
    expect(block).toMatch(/Error reported : 1411 None of the 1 archive\(s\)/);
    expect(history().at(-1)).toMatchObject({ operation: "restore", trigger: "startup", status: 1411 });
  });
});

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
