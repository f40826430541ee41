// A real database for the off-site tests: the test database (test/helpers/make-database.ts) with its data API,
// log file and operations (test/helpers/operations.ts), an off-site destination saved in its console.sqlite, and the log shipping
// sees it. The cut below is what the server's log will offer (see the report of issue 13, phase 1): the open
// log closed into a segment under the data write lock, exactly as at a backup's snapshot.
import Database from "better-sqlite3";
import path from "node:path";
import { openConsoleDb, type ConsoleDb } from "../../server/console/console-db";
import { readBookkeeping } from "../../server/data/bookkeeping";
import type { DataStore } from "../../server/data/data-store";
import { openDataAccess } from "../../server/startup/open-data";
import type { CurrentLog } from "../../server/log/current-log";
import { databaseLayout, type DatabaseLayout } from "../../server/database/layout";
import { listLogBackups } from "../../server/archive/names";
import { openOperations, type TestOperations } from "../helpers/operations";
import { BackupLocks } from "../../server/locks/backup-locks";
import type { ClosedSegment } from "../../server/log/log-file";
import { readLog } from "../../server/log/read-log";
import type { ShippableLog } from "../../server/offsite/log-shipping";
import { saveDestination, saveOffsiteSettings, storeEncryptionKey, type OffsiteSettings } from "../../server/offsite/offsite-settings";
import { openOffsiteTarget, type OffsiteTarget } from "../../server/offsite/offsite-target";
import { BucketLayout, prepareBucket } from "../../server/offsite/bucket-layout";
import { keyCheckOf } from "../../server/offsite/chunk-cipher";
import { SecretBox } from "../../server/offsite/secret-box";
import type { S3Destination } from "../../server/offsite/s3-client";
import { makeTestDatabase, type TestDatabase } from "../helpers/make-database";

export interface LiveDatabase {
  t: TestDatabase;
  layout: DatabaseLayout;
  store: DataStore;
  log: CurrentLog;
  locks: BackupLocks;
  ops: TestOperations;
  consoleDb: ConsoleDb;
  box: SecretBox;
  shippable: ShippableLog;
  /** Runs a backup; returns the archive and the log backups it wrote. */
  backup(): Promise<{ archivePath: string; logBackups: string[] }>;
  /** Some inserts, updates and deletes through the data API; resolves with the last operation's number. */
  write(tag: string, n: number): Promise<number>;
  /** The off-site target as a task would open it. */
  target(): Promise<OffsiteTarget>;
  close(): Promise<void>;
}

export async function liveDatabase(dest: S3Destination, opts: { settings?: Partial<OffsiteSettings>; passphrase?: string } = {}): Promise<LiveDatabase> {
  const t = makeTestDatabase({ rows: 200 });
  const layout = databaseLayout(t.databaseDir);
  const locks = new BackupLocks();
  const data = await openDataAccess(layout, locks, true);
  const consoleDb = openConsoleDb(path.join(t.home, "console.sqlite"));
  const ops = openOperations(t, { consoleDb, locks, log: data.log });
  await ops.init();
  const box = SecretBox.load(t.home);
  saveDestination(consoleDb, box, { ...dest, secretAccessKey: dest.secretAccessKey }, "admin");
  saveOffsiteSettings(consoleDb, { keepLast: null, lockDays: 0, lockMode: "COMPLIANCE", logIntervalSeconds: 60, ...opts.settings });
  if (opts.passphrase) {
    // What the Settings page does when encryption is turned on: set it up in the bucket, keep the derived key.
    const { makeS3Client } = await import("../../server/offsite/s3-client");
    const { masterKey } = await prepareBucket({ client: makeS3Client(dest), dest }, new BucketLayout(dest.prefix), { passphrase: opts.passphrase });
    storeEncryptionKey(consoleDb, box, masterKey!, keyCheckOf(masterKey!));
  }
  const store = data.store;
  const listeners = new Set<(s: ClosedSegment) => void>();
  const shippable: ShippableLog = {
    async cut() {
      const release = await locks.acquire("data");
      try {
        const db = new Database(layout.dataFile, { readonly: true });
        const bookkeeping = (() => { try { return readBookkeeping(db)!; } finally { db.close(); } })();
        const segment = await data.log.atSnapshot(true, bookkeeping);
        if (segment) for (const l of listeners) l(segment);
        return segment;
      } finally {
        release();
      }
    },
    closedSegments: () => data.log.closedSegments(),
    onSegmentClosed(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    async firstOpenOperation() {
      const r = (await readLog(layout.logFile, { allowTornTail: true })).records[0];
      return r ? { op: r.op, time: r.time } : null;
    },
    lastOperation: () => store.lastOperation(),
    databaseId: () => store.databaseId(),
  };
  let tableMade = false;
  let nextDelete = 100;
  return {
    t, layout, store, log: data.log, locks, ops, consoleDb, box, shippable,
    async backup() {
      const before = new Set((await listLogBackups(t.destination, "TestDb")).map((l) => l.path));
      const outcome = await ops.backup().done;
      if (outcome.status !== 0) throw new Error(`backup failed: ${outcome.status} ${outcome.statusText}`);
      const logBackups = (await listLogBackups(t.destination, "TestDb")).map((l) => l.path).filter((p) => !before.has(p));
      return { archivePath: outcome.archivePath!, logBackups };
    },
    async write(tag, n) {
      const u = { user: "alice" };
      if (!tableMade) {
        await store.write({ kind: "createTable", table: "orders", columns: [{ name: "id", type: "INTEGER", primaryKey: true }, { name: "label", type: "TEXT" }] }, u);
        tableMade = true;
      }
      let last = 0;
      for (let i = 0; i < n; i++) {
        last = (await store.write({ kind: "insert", table: "customers", values: { name: `${tag} ${i}`, city: tag } }, u)).operation;
        if (i % 3 === 0) last = (await store.write({ kind: "update", table: "customers", key: 1 + i, values: { city: `${tag} updated` } }, u)).operation;
        if (i % 5 === 0) last = (await store.write({ kind: "insert", table: "orders", values: { label: `${tag} order ${i}` } }, u)).operation;
        if (i % 7 === 0) last = (await store.write({ kind: "delete", table: "customers", key: nextDelete++ }, u)).operation;
      }
      return last;
    },
    async target() {
      const target = await openOffsiteTarget(consoleDb, box);
      if (!target) throw new Error("no off-site destination");
      return target;
    },
    async close() {
      await ops.runner.waitForIdle();
      await store.close();
      await data.log.close();
      consoleDb.close();
      t.cleanup();
    },
  };
}

export { tables } from "../helpers/tables";
