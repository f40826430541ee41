// Restores as operations on a real database with the real data API and log: restore to a folder with the
// log integrated, restore in place while writes go on (none acknowledged is lost), rollback to an operation, and
// verification recorded per archive.
import Database from "better-sqlite3";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import type { CurrentLog } from "../log/current-log";
import type { DataStore } from "../data/data-store";
import { openDataAccess } from "../startup/open-data";
import { databaseLayout } from "../database/layout";
import { openOperations, type TestOperations } from "../../test/helpers/operations";
import { BackupLocks } from "../locks/backup-locks";
import { acquireInstanceLock, type InstanceLock } from "../locks/instance-lock";
import { STATUS } from "../isomorphic/status";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";
import { restoreInPlaceTask, rollbackArchive } from "./restore-in-place-task";
import { restoreToFolderTask } from "./restore-to-folder-task";
import { verificationTask } from "./verification-task";
import { parseBlock } from "../isomorphic/journal-block";
import { runScheduledVerification } from "./scheduled-verification";
import { verificationDue, VerificationStore } from "./verification-store";

let t: TestDatabase;
let store: DataStore;
let log: CurrentLog;
let engine: TestOperations;
let lock: InstanceLock | undefined;

afterEach(async () => {
  await engine?.runner.waitForIdle();
  await store?.close();
  lock?.release();
  t?.cleanup();
});

const alice = { kind: "manual" as const, user: "alice" };

async function setUp(opts: { rows?: number; useLog?: boolean } = {}) {
  const useLog = opts.useLog ?? true;
  t = makeTestDatabase({ rows: opts.rows ?? 200 });
  // As the server holds it: restores into the database's own work folders must not take it for another server's.
  lock = acquireInstanceLock(t.databaseDir);
  if (!useLog) t.writeSettings({ advancedXml: "<UseLog>False</UseLog>" });
  const locks = new BackupLocks();
  const data = await openDataAccess(databaseLayout(t.databaseDir), locks, useLog);
  store = data.store;
  log = data.log;
  engine = openOperations(t, { consoleDb: openConsoleDb(path.join(t.home, "console.sqlite")), locks, log });
  await engine.init();
}

function rows(file: string, tables = ["customers", "notes"]): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const have = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name));
    return Object.fromEntries(tables.filter((n) => have.has(n)).map((n) => [n, db.prepare(`SELECT * FROM "${n}" ORDER BY rowid`).all()]));
  } finally {
    db.close();
  }
}

const write = (w: Parameters<DataStore["write"]>[0]) => store.write(w, { user: "alice" });
const copyOf = (file: string, to: string) => {
  const db = new Database(file, { readonly: true });
  db.prepare("VACUUM INTO ?").run(to);
  db.close();
  return to;
};

describe("restore operations", () => {
  it("restores chosen parts to a folder and integrates the log into the restored data file", async () => {
    await setUp();
    const backup = await engine.backup({ trigger: alice }).done;
    const atBackup = copyOf(t.dataFile, path.join(t.root, "at-backup.sqlite"));
    await write({ kind: "createTable", table: "notes", columns: [{ name: "id", type: "INTEGER", primaryKey: true }, { name: "body", type: "TEXT" }] });
    for (let i = 0; i < 5; i++) await write({ kind: "insert", table: "notes", values: { body: `n${i}` } });
    await write({ kind: "delete", table: "customers", key: 3 });

    const plain = path.join(t.root, "restored-plain");
    const r1 = await engine.start(restoreToFolderTask(engine.db, { archivePath: backup.archivePath!, target: plain,
      parts: { structure: true, dataFile: true }, overwrite: false, integrateLog: false, includeCurrentLog: false, trigger: alice })).done;
    expect(r1.status).toBe(0);
    expect(r1.details?.join("\n")).toContain(plain);
    expect(fs.existsSync(path.join(plain, "Attachments"))).toBe(false);
    expect(fs.readFileSync(path.join(plain, "Project/TestDb.4DProject"))).toEqual(fs.readFileSync(path.join(t.databaseDir, "Project/TestDb.4DProject")));
    expect(rows(path.join(plain, "Data/data.sqlite"))).toEqual(rows(atBackup));

    const forward = path.join(t.root, "restored-forward");
    const r2 = await engine.start(restoreToFolderTask(engine.db, { archivePath: backup.archivePath!, target: forward,
      parts: { dataFile: true }, overwrite: false, integrateLog: true, includeCurrentLog: true, trigger: alice })).done;
    expect(r2.status).toBe(0);
    expect(r2.details?.join("\n")).toMatch(/operations 1 to 7/);
    expect(rows(path.join(forward, "Data/data.sqlite"))).toEqual(rows(t.dataFile));
    const journal = fs.readFileSync(path.join(t.databaseDir, "Logs/Backup Journal[001].txt"), "utf8");
    expect(journal.match(/^\*\*\* Full Backup Restore$/gm)).toHaveLength(2);
    // Each block names what it brought back, by part: the project and the data file, then the data file alone.
    const contentLines = journal.split("\n").filter((l) => l.startsWith("Content : ")).slice(-2);
    expect(contentLines[0]).toMatch(/^Content : project files \(\d+ files?, [\d.]+ \w?B\), data file \([\d.]+ \w?B\)$/);
    expect(contentLines[1]).toMatch(/^Content : data file \([\d.]+ \w?B\)$/);
    const history = Object.values(JSON.parse(fs.readFileSync(path.join(t.destination, "backupHistory.json"), "utf8")))[0] as Array<{ operation: string }>;
    expect(history.filter((e) => e.operation === "restore")).toHaveLength(2);
  });

  it("restores in place while writes go on: none acknowledged is lost, the old files are kept aside, a new log chain starts", async () => {
    await setUp();
    const backup = await engine.backup({ trigger: alice }).done;
    for (let i = 0; i < 5; i++) await write({ kind: "insert", table: "customers", values: { name: `before ${i}`, city: "X" } });
    const acknowledged: string[] = [];
    let stop = false;
    const stream = (async () => {
      for (let i = 0; !stop; i++) {
        const name = `during ${i}`;
        await write({ kind: "insert", table: "customers", values: { name, city: "Y" } });
        acknowledged.push(name);
        await new Promise((r) => setTimeout(r, 3));
      }
    })();
    const outcome = await engine.start(restoreInPlaceTask(engine.db, { archivePath: backup.archivePath!, integrateLog: true, trigger: alice }, { store, log })).done;
    // A few more writes after the swap, then stop the stream.
    const after = acknowledged.length;
    expect(after).toBeGreaterThan(0); // writes really went on while the restore ran
    while (acknowledged.length < after + 5) await new Promise((r) => setTimeout(r, 5));
    stop = true;
    await stream;
    expect(outcome.status).toBe(0);
    const names = new Set((rows(t.dataFile).customers as Array<{ name: string }>).map((r) => r.name));
    for (const n of ["before 0", "before 4", ...acknowledged]) expect(names.has(n)).toBe(true);
    const aside = fs.readdirSync(path.join(t.databaseDir, "Data")).find((n) => n.startsWith("Replaced data file "));
    expect(aside).toBeDefined();
    expect(fs.readdirSync(path.join(t.databaseDir, "Data", aside!))).toEqual(expect.arrayContaining(["data.sqlite", "data.journal"]));
    expect(outcome.details?.join("\n")).toContain(aside!);
    // The new log holds exactly the writes made after the swap, under the new database id.
    const header = JSON.parse(fs.readFileSync(databaseLayout(t.databaseDir).logFile, "utf8").split("\n")[0]);
    expect(header.databaseId).toBe(store.databaseId());
    expect(header.firstOperation).toBeGreaterThan(5);
    // And a backup of the restored data works, with its log backup of the new chain.
    expect((await engine.backup({ trigger: alice }).done).status).toBe(0);
  });

  it("rolls back to just after a chosen operation", async () => {
    await setUp();
    await engine.backup({ trigger: alice }).done;
    let atFour = "";
    for (let i = 1; i <= 8; i++) {
      await write({ kind: "update", table: "customers", key: 1, values: { city: `v${i}` } });
      if (i === 4) atFour = copyOf(t.dataFile, path.join(t.root, "at-4.sqlite"));
    }
    const archive = await rollbackArchive(engine.db, 4);
    const outcome = await engine.start(restoreInPlaceTask(engine.db, { archivePath: archive, integrateLog: true, upToOperation: 4, trigger: alice }, { store, log })).done;
    expect(outcome.status).toBe(0);
    expect(rows(t.dataFile)).toEqual(rows(atFour));
    expect(store.lastOperation()).toBe(4);
    await expect(rollbackArchive(engine.db, 4)).rejects.toThrow(/No backup of this database was taken before operation 4/);
  });

  it("records each archive's verification, and names a damaged one", async () => {
    await setUp();
    const first = await engine.backup({ trigger: alice }).done;
    const second = await engine.backup({ trigger: alice }).done;
    // Damage the second archive in its middle (the data file's compressed bytes).
    const fd = fs.openSync(second.archivePath!, "r+");
    const size = fs.fstatSync(fd).size;
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, Math.floor(size / 2));
    b[0] ^= 0xff;
    fs.writeSync(fd, b, 0, 1, Math.floor(size / 2));
    fs.closeSync(fd);
    const verifications = new VerificationStore(openConsoleDb(path.join(t.home, "console.sqlite")));
    const outcome = await engine.start(verificationTask(engine.db, [first.archivePath!, second.archivePath!], verifications, alice)).done;
    expect(outcome.status).toBe(STATUS.ARCHIVE_CHECK_FAILED);
    expect(verifications.get(first.archivePath!)).toMatchObject({ ok: true, problems: [] });
    expect(verifications.get(second.archivePath!)).toMatchObject({ ok: false });
    expect(outcome.details?.join("\n")).toContain(`${second.archivePath}: FAILED`);
    // A block in the journal like every other operation's: when each archive was last proven readable.
    const journal = fs.readFileSync(path.join(t.databaseDir, "Logs/Backup Journal[001].txt"), "utf8");
    const block = journal.slice(journal.lastIndexOf("*** Archive Verification"));
    expect(block).toMatch(/^\*\*\* Archive Verification aborted\nTrigger : manual \(alice\)\n/);
    expect(block).toContain(`${first.archivePath}: verified`);
    expect(block).toContain(`${second.archivePath}: FAILED`);
    expect(parseBlock(block)).toMatchObject({ kind: "verification", status: "failed" });
  });
});

describe("a scheduled verification cut by the server shutting down", () => {
  it("ends with 1409 saying so, and its time is not used up: it is due again at the next start", async () => {
    await setUp();
    await engine.backup({ trigger: alice }).done;
    const verifications = new VerificationStore(openConsoleDb(path.join(t.home, "console.sqlite")));
    const saved = new Date(2026, 10, 25, 12);
    verifications.setSchedule({ frequency: "Daily", hour: 3, weekday: 0 }, saved);
    const now = new Date(2026, 10, 26, 3, 0, 30);
    expect(verificationDue(verifications.schedule(), now)).toBe(true);
    expect(await runScheduledVerification(engine.db, engine.runner, verifications, now)).toBe(true);
    const running = engine.runner.running!;
    await engine.runner.shutDown();
    expect(engine.runner.lastResult).toMatchObject({ operationId: running.operationId, kind: "verify", status: STATUS.BACKUP_ERROR });
    expect(engine.runner.lastResult!.statusText).toMatch(/^The verification was interrupted because the server was shutting down\./);
    expect(verifications.schedule().lastRun).toBe(saved.toISOString());
    expect(verificationDue(verifications.schedule(), now)).toBe(true);
  });
});

describe("restore in place, the hard cases (a review found these)", () => {
  const count = (f: string, where: string) => {
    const db = new Database(f, { readonly: true });
    try { return (db.prepare(`SELECT count(*) n FROM customers WHERE ${where}`).get() as { n: number }).n; } finally { db.close(); }
  };
  const inPlace = (archivePath: string, integrateLog: boolean) =>
    engine.start(restoreInPlaceTask(engine.db, { archivePath, integrateLog, trigger: alice }, { store, log })).done;

  it("a read during the swap never reopens the old file: writes after it land in the live data file", async () => {
    await setUp();
    const b = await engine.backup({ trigger: alice }).done;
    let done = false;
    const reader = (async () => { while (!done) { try { store.listTables(); } catch { /* refused during the swap */ } await new Promise((r) => setImmediate(r)); } })();
    expect((await inPlace(b.archivePath!, false)).status).toBe(0);
    done = true;
    await reader;
    await write({ kind: "insert", table: "customers", values: { name: "after swap", city: "Z" } });
    expect(count(t.dataFile, "name = 'after swap'")).toBe(1);
  });

  it("an absolute symbolic link elsewhere in the archive doesn't block restoring the data file", async () => {
    await setUp();
    fs.symlinkSync("/etc/hostname", path.join(t.databaseDir, "Project", "link"));
    const b = await engine.backup({ trigger: alice }).done;
    expect((await inPlace(b.archivePath!, false)).status).toBe(0);
  });

  it("refuses, changing nothing, to restore 'with the log' when the log doesn't reach the live data file", async () => {
    await setUp({ rows: 50, useLog: false });
    const b = await engine.backup({ trigger: alice }).done;
    for (let i = 0; i < 5; i++) await write({ kind: "insert", table: "customers", values: { name: `acked ${i}` } });
    const o = await inPlace(b.archivePath!, true);
    expect(o.status).toBe(STATUS.FOREIGN_LOG_FILE);
    expect(o.statusText).toContain("operations 1 to 5 are in no log file");
    expect(count(t.dataFile, "name LIKE 'acked %'")).toBe(5);
  });
});
