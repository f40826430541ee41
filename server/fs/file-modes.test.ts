// What the server writes is readable by its own user only: archives, log backups, backupHistory.json, the journal,
// the log file and its segments, the settings file, console.sqlite (and -wal/-shm), the instance lock — 0600; the
// folders it creates — 0700; a restore's folder 0700 with the files in it keeping their archived modes. Checked
// with the umask most systems run with (022), which alone would have made them 0644/0755 and readable by anyone.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import { openDataAccess } from "../startup/open-data";
import { databaseLayout } from "../database/layout";
import { openOperations } from "../../test/helpers/operations";
import { acquireInstanceLock } from "../locks/instance-lock";
import { BackupLocks } from "../locks/backup-locks";
import { restoreArchive } from "../restore/restore-archive";
import { loadSettings, saveSettings } from "../settings/backup-settings-file";
import { listEntries } from "../zip/zip-reader";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";

const modeOf = (p: string) => fs.lstatSync(p).mode & 0o777;
const alice = { kind: "manual" as const, user: "alice" };
let t: TestDatabase;
let umask: number;
let close: () => Promise<void>;

beforeAll(() => {
  umask = process.umask(0o022);
  t = makeTestDatabase({ rows: 100 });
});
afterAll(async () => {
  await close?.();
  process.umask(umask);
  t?.cleanup();
});

describe("file modes", () => {
  it("backups, log backups, history, journal, log, settings and console state are 0600; the folders made for them 0700", async () => {
    const home = path.join(t.root, "new-home");
    const consoleDb = openConsoleDb(path.join(home, "console.sqlite"));
    consoleDb.exec("CREATE TABLE IF NOT EXISTS probe (x); INSERT INTO probe VALUES (1)"); // makes -wal and -shm
    const layout = databaseLayout(t.databaseDir);
    fs.rmSync(layout.logsDir, { recursive: true, force: true });
    const lock = acquireInstanceLock(t.databaseDir);
    const locks = new BackupLocks();
    const data = await openDataAccess(layout, locks, true);
    close = async () => { await data.store.close(); lock.release(); consoleDb.close(); };
    const engine = openOperations({ ...t, home }, { consoleDb, locks, log: data.log });
    await engine.init();
    const first = await engine.backup({ trigger: alice }).done;
    await data.store.write({ kind: "update", table: "customers", key: 1, values: { name: "changed" } }, { user: "alice" });
    const second = await engine.backup({ trigger: alice }).done;
    expect([first.status, second.status]).toEqual([0, 0]);
    await saveSettings(t.databaseDir, await loadSettings(t.databaseDir, t.destination));

    const files = [
      first.archivePath!, second.archivePath!, path.join(t.destination, "TestDb[0001].4BL"), path.join(t.destination, "backupHistory.json"),
      path.join(layout.logsDir, "Backup Journal[001].txt"), layout.logFile, layout.settingsFile, path.join(layout.logsDir, ".strongbox-server.lock"),
      ...["", "-wal", "-shm"].map((s) => path.join(home, "console.sqlite" + s)),
    ];
    expect(Object.fromEntries(files.map((f) => [f, modeOf(f).toString(8)]))).toEqual(Object.fromEntries(files.map((f) => [f, "600"])));
    const dirs = [home, layout.logsDir, layout.logSegmentsDir];
    expect(Object.fromEntries(dirs.map((d) => [d, modeOf(d).toString(8)]))).toEqual(Object.fromEntries(dirs.map((d) => [d, "700"])));
    // The data file's copy in the archive (the snapshot) was private too: a restore brings it back 0600.
    expect((await listEntries(first.archivePath!)).find((e) => e.name === "Data/data.sqlite")?.mode).toBe(0o600);
  });

  it("tightens a console.sqlite an earlier version left 0644", () => {
    const file = path.join(t.root, "old-home", "console.sqlite");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    openConsoleDb(file).close();
    fs.chmodSync(file, 0o644);
    openConsoleDb(file).close();
    expect(modeOf(file)).toBe(0o600);
  });

  it("restores into a 0700 folder, each file keeping its archived mode, folders without an entry 0700", async () => {
    fs.chmodSync(path.join(t.attachmentsDir, "notes.txt"), 0o644);
    fs.chmodSync(path.join(t.attachmentsDir, "photo.bin"), 0o640);
    const engine = openOperations(t, { consoleDb: openConsoleDb(path.join(t.home, "console.sqlite")) });
    const outcome = await engine.backup({ trigger: alice }).done;
    const target = path.join(t.root, "restores", "one");
    await restoreArchive({ archivePath: outcome.archivePath!, target });
    const attachments = path.join(target, "Attachments", ...t.attachmentsDir.split("/").filter(Boolean));
    expect(modeOf(target)).toBe(0o700);
    expect(modeOf(path.join(t.root, "restores"))).toBe(0o700); // a parent the restore had to create
    expect(modeOf(path.join(target, "Attachments"))).toBe(0o700);
    expect(modeOf(path.join(attachments, "notes.txt"))).toBe(0o644);
    expect(modeOf(path.join(attachments, "photo.bin"))).toBe(0o640);
  });
});
