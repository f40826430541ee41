// The hooks inside a real backup (docs/operations.md#hooks): a startup hook cancels with its exit code, the shutdown hook gets the
// status, their output goes into the verbose journal, a timeout is 1409, two candidates are refused.
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";
import { openOperations } from "../../test/helpers/operations";

let db: TestDatabase;
afterEach(() => db?.cleanup());

const hooksDir = () => path.join(db.databaseDir, "Project/Sources/DatabaseMethods");
const engineFor = (hookTimeoutMs?: number) => openOperations(db, { consoleDb: openConsoleDb(path.join(db.home, "console.sqlite")), hookTimeoutMs });
const journal = () => fs.readFileSync(path.join(db.databaseDir, "Logs/Backup Journal[001].txt"), "utf8");
const zips = () => fs.readdirSync(db.destination).filter((n) => n.endsWith(".zip"));
function hook(name: string, body: string) {
  fs.mkdirSync(hooksDir(), { recursive: true });
  fs.writeFileSync(path.join(hooksDir(), name), body, { mode: 0o755 });
}

describe("backup hooks", () => {
  it("a startup hook's non-zero exit code cancels the backup with that status, and it is not an archive", async () => {
    db = makeTestDatabase();
    hook("onBackupStartup", "#!/bin/sh\necho \"refusing backup $STRONGBOX_BACKUP_NUMBER ($STRONGBOX_TRIGGER)\"\nexit 7\n");
    const outcome = await engineFor().backup().done;
    expect(outcome.status).toBe(7);
    expect(outcome.statusText).toMatch(/Canceled by the On Backup Startup hook \(returned 7\)/);
    expect(zips()).toEqual([]);
    expect(journal()).toContain("refusing backup 1 (manual)");
    expect(journal()).toMatch(/Error reported : 7 /);
  });

  it("the shutdown hook gets the status and the archive, and its output goes into the journal", async () => {
    db = makeTestDatabase();
    hook("onBackupStartup.mjs", "console.log('startup says hello');\n");
    hook("onBackupShutdown", "#!/bin/sh\necho \"shutdown status=$STRONGBOX_STATUS archive=$STRONGBOX_ARCHIVE\"\n");
    const outcome = await engineFor().backup().done;
    expect(outcome.status).toBe(0);
    expect(journal()).toContain("startup says hello");
    expect(journal()).toContain(`shutdown status=0 archive=${outcome.archivePath}`);
  });

  it("a startup hook that times out fails the backup with 1409", async () => {
    db = makeTestDatabase();
    hook("onBackupStartup", "#!/bin/sh\nsleep 30\n");
    const outcome = await engineFor(500).backup().done;
    expect(outcome.status).toBe(1409);
    expect(outcome.statusText).toMatch(/timed out/);
    expect(zips()).toEqual([]);
  });

  it("two candidates for one hook are refused with 1409", async () => {
    db = makeTestDatabase();
    hook("onBackupStartup", "#!/bin/sh\nexit 0\n");
    hook("onBackupStartup.js", "process.exit(0)\n");
    const outcome = await engineFor().backup().done;
    expect(outcome.status).toBe(1409);
    expect(outcome.statusText).toMatch(/onBackupStartup/);
  });
});
