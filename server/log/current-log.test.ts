// The log file as the server holds it: UseLog switched off and on again, and a restart after a restore that fails.
import fs from "node:fs";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import { databaseLayout } from "../database/layout";
import { openOperations } from "../../test/helpers/operations";
import { BackupLocks } from "../locks/backup-locks";
import { readLog } from "./read-log";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";
import { openDataAccess } from "../startup/open-data";

let t: TestDatabase;
afterEach(() => t?.cleanup());
const alice = { kind: "manual" as const, user: "alice" };

it("UseLog off at a start with a log that holds operations, then on again: nothing lost, backups go on", async () => {
  t = makeTestDatabase({ rows: 50 });
  const layout = databaseLayout(t.databaseDir);
  const open = async (useLog: boolean) => {
    const locks = new BackupLocks();
    const d = await openDataAccess(layout, locks, useLog);
    const engine = openOperations(t, { consoleDb: openConsoleDb(path.join(t.home, "console.sqlite")), locks, log: d.log });
    await engine.init();
    return { ...d, engine };
  };
  let s = await open(true);
  expect((await s.engine.backup({ trigger: alice }).done).status).toBe(0);
  for (let i = 0; i < 3; i++) await s.store.write({ kind: "insert", table: "customers", values: { name: `a${i}` } }, { user: "a" });
  await s.store.close();
  await s.log.close();
  t.writeSettings({ advancedXml: "<UseLog>False</UseLog>" });
  s = await open(false);
  for (let i = 0; i < 2; i++) await s.store.write({ kind: "insert", table: "customers", values: { name: `b${i}` } }, { user: "a" });
  expect((await s.engine.backup({ trigger: alice }).done).status).toBe(0);
  // The logged operations 1–3 went into the log backup of the second archive.
  expect((await readLog(path.join(t.destination, "TestDb[0001].4BL"), { allowTornTail: false })).records.map((r) => r.op)).toEqual([1, 2, 3]);
  t.writeSettings({ advancedXml: "<UseLog>True</UseLog>" });
  expect((await s.engine.backup({ trigger: alice }).done).status).toBe(0);
  await s.store.write({ kind: "insert", table: "customers", values: { name: "c" } }, { user: "a" });
  const current = await readLog(layout.logFile, { allowTornTail: false });
  expect(current.header.firstOperation).toBe(6);
  expect(current.records.map((r) => r.op)).toEqual([6]);
  await s.store.close();
  await s.log.close();
});

it("a new log that can't be started after a restore refuses writes instead of leaving them unlogged", async () => {
  t = makeTestDatabase({ rows: 5 });
  const layout = databaseLayout(t.databaseDir);
  const d = await openDataAccess(layout, new BackupLocks(), true);
  fs.rmSync(layout.logSegmentsDir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(layout.logSegmentsDir), { recursive: true });
  fs.writeFileSync(layout.logSegmentsDir, "not a folder");
  fs.renameSync(layout.logFile, `${layout.logFile}.aside`);
  await expect(d.log.restart(true, { databaseId: d.store.databaseId(), lastOperation: 0 })).rejects.toThrow();
  await expect(d.store.write({ kind: "insert", table: "customers", values: { name: "unlogged" } }, { user: "a" })).rejects.toThrow();
  expect(d.log.error).not.toBeNull();
  await d.store.close();
});

it("at start, an operation in the log that the data file lacks (a crash between the flush and the commit) is replayed", async () => {
  t = makeTestDatabase({ rows: 5 });
  const layout = databaseLayout(t.databaseDir);
  const first = await openDataAccess(layout, new BackupLocks(), true);
  await first.store.write({ kind: "insert", table: "customers", values: { name: "one", city: "A" } }, { user: "a" });
  const id = first.store.databaseId();
  await first.store.close();
  await first.log.close();
  // The crash: the record is flushed to the log, the data file's transaction never commits.
  const { OperationLog } = await import("./log-file");
  const { log } = await OperationLog.open({ logFile: layout.logFile, segmentsDir: layout.logSegmentsDir, databaseId: id, lastOperation: 1 });
  await log.append({ op: 2, time: new Date().toISOString(), user: "a", kind: "insert", table: "customers", key: 1000, values: { name: "logged only", city: "B" } });
  await log.close();
  const again = await openDataAccess(layout, new BackupLocks(), true);
  expect(again.messages.join("\n")).toContain("Replayed 1 operation(s)");
  expect(again.store.lastOperation()).toBe(2);
  expect(again.store.readRows("customers", { offset: 0, limit: 1, filter: { column: "id", op: "eq", value: 1000 } }).rows[0]).toMatchObject({ name: "logged only" });
  // And the next write follows it.
  expect((await again.store.write({ kind: "delete", table: "customers", key: 1000 }, { user: "a" })).operation).toBe(3);
  await again.store.close();
  await again.log.close();
});

it("at start, a whole group in the log that the data file lacks (a crash between its flush and its commit) is replayed, in order", async () => {
  t = makeTestDatabase({ rows: 5 });
  const layout = databaseLayout(t.databaseDir);
  const first = await openDataAccess(layout, new BackupLocks(), true);
  await first.store.write({ kind: "insert", table: "customers", values: { name: "one", city: "A" } }, { user: "a" });
  const id = first.store.databaseId();
  await first.store.close();
  await first.log.close();
  // The crash: the group's records are flushed to the log with one fdatasync, the data file's transaction never commits.
  const { OperationLog } = await import("../log/log-file");
  const { log } = await OperationLog.open({ logFile: layout.logFile, segmentsDir: layout.logSegmentsDir, databaseId: id, lastOperation: 1 });
  const time = new Date().toISOString();
  await log.appendGroup([
    { op: 2, time, user: "a", kind: "insert", table: "customers", key: 1000, values: { name: "g1", city: "B" } },
    { op: 3, time, user: "b", kind: "update", table: "customers", key: 1000, values: { city: "C" } },
    { op: 4, time, user: "c", kind: "insert", table: "customers", key: 1001, values: { name: "g3", city: "D" } },
  ]);
  await log.close();
  const again = await openDataAccess(layout, new BackupLocks(), true);
  expect(again.messages.join("\n")).toContain("Replayed 3 operation(s)");
  expect(again.store.lastOperation()).toBe(4);
  const rows = again.store.readRows("customers", { offset: 0, limit: 10, filter: { column: "id", op: "gt", value: 999 } }).rows;
  expect(rows.map((r) => [r.id, r.city])).toEqual([[1000, "C"], [1001, "D"]]);
  expect((await again.store.write({ kind: "delete", table: "customers", key: 1001 }, { user: "a" })).operation).toBe(5);
  await again.store.close();
  await again.log.close();
});
