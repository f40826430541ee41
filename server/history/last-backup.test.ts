// The last backup after the destination changed or was lost, on a real engine and real files: the Backup page and
// BACKUP INFO still show it (kept in console.sqlite) with the history it is in, a stopped attempt names no archive,
// and the last successful backup stays known, its archive said gone once it is.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import { backupOverview } from "../backup/overview";
import { STATUS } from "../isomorphic/status";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";
import { openOperations, type TestOperations } from "../../test/helpers/operations";

let db: TestDatabase | null = null;
const opened: TestOperations[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.runner.waitForIdle();
  db?.cleanup();
  db = null;
});
const overview = (o: TestOperations) => backupOverview(o.db, o.runner.lastAttempts, null, { content: false });

const manual = { trigger: { kind: "manual" as const, user: "alice" } };

it("survives a change of destination, says where its history is, and never names an archive a failed attempt did not make", async () => {
  db = makeTestDatabase();
  const consoleDb = openConsoleDb(path.join(db.home, "console.sqlite"));
  const engine = openOperations(db, { consoleDb, throttleBytesPerSecond: 4 * 1024 * 1024 });
  opened.push(engine);
  await engine.init();
  const first = await engine.backups.start(manual).done;
  expect(first.status).toBe(0);
  const oldHistory = path.join(db.destination, "backupHistory.json");
  const archive = path.join(db.destination, "TestDb[0001].zip");

  // The destination changes: the new one has no history, the last backup is still known, in its old history.
  const moved = path.join(db.root, "new-destination");
  fs.mkdirSync(moved);
  db.writeSettings({ destination: moved });
  let o = await overview(engine);
  expect(o.historyPath).toBe(path.join(moved, "backupHistory.json"));
  expect(o.lastBackup).toMatchObject({ backupNumber: 1, status: 0, archivePath: archive, archiveExists: true, historyPath: oldHistory, inCurrentDestination: false });
  expect(o.lastCommitted).toBeNull();

  // A backup stopped in the new destination: it is the last attempt, with no archive; the last success is still shown.
  fs.writeFileSync(path.join(db.attachmentsDir, "big.bin"), crypto.randomBytes(16 * 1024 * 1024));
  const run = engine.backups.start(manual);
  await expect.poll(() => engine.runner.running?.phase, { timeout: 30_000 }).toBe("archive");
  engine.runner.stop();
  expect((await run.done).status).toBe(STATUS.CANCELED_BY_USER);
  o = await overview(engine);
  expect(o.lastBackup).toMatchObject({ status: STATUS.CANCELED_BY_USER, archivePath: null, archiveExists: false, inCurrentDestination: true });
  expect(o.lastCommitted).toMatchObject({ backupNumber: 1, status: 0, archivePath: archive, historyPath: oldHistory, inCurrentDestination: false });

  // The old destination is lost, and the server restarts: both are still known; the archive is said to be gone.
  fs.rmSync(db.destination, { recursive: true });
  await engine.runner.waitForIdle();
  const again = openOperations(db, { consoleDb });
  opened.push(again);
  await again.init();
  o = await overview(again);
  expect(o.lastBackup).toMatchObject({ status: STATUS.CANCELED_BY_USER, archivePath: null });
  expect(o.lastCommitted).toMatchObject({ backupNumber: 1, archivePath: archive, archiveExists: false, historyPath: oldHistory });
});
