// The engine on real folders and real SQLite files: archive contents against the manifest and `unzip -t`,
// numbering, retention, history, journal, partial backup, Stop in the middle of a file, one backup at a time.
import Database from "better-sqlite3";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import { STATUS } from "../status";
import { readEntry } from "../zip/zip-reader";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";
import { BackupEngine } from "./backup-engine";
import { readArchiveManifest } from "../restore/archive-contents";
import { backupOverview } from "./overview";
import type { OperationProgress } from "./progress";

let db: TestDatabase;
const engines: BackupEngine[] = [];

function engineFor(t: TestDatabase, extra: Partial<ConstructorParameters<typeof BackupEngine>[0]> = {}) {
  const engine = new BackupEngine({
    databaseDir: t.databaseDir, home: t.home, defaultDestination: t.destination,
    consoleDb: openConsoleDb(path.join(t.home, "console.sqlite")), ...extra,
  });
  engines.push(engine);
  return engine;
}

const manual = { trigger: { kind: "manual" as const, user: "alice" } };
const historyOf = (t: TestDatabase) => JSON.parse(fs.readFileSync(path.join(t.destination, "backupHistory.json"), "utf8"));
const journalOf = (t: TestDatabase) => fs.readFileSync(path.join(t.databaseDir, "Logs/Backup Journal[001].txt"), "utf8");
const sha256 = (buf: Buffer) => crypto.createHash("sha256").update(buf).digest("hex");

afterEach(async () => {
  for (const e of engines.splice(0)) await e.waitForIdle();
  db?.cleanup();
});

describe("a full backup", () => {
  it("writes an archive that unzip accepts and that matches its manifest, history and journal", async () => {
    db = makeTestDatabase();
    const engine = engineFor(db);
    await engine.init();
    const outcome = await engine.start(manual).done;
    expect(outcome.status).toBe(0);
    const archive = path.join(db.destination, "TestDb[0001].zip");
    expect(outcome.archivePath).toBe(archive);
    expect(fs.readdirSync(db.destination).sort()).toEqual(["TestDb[0001].zip", "backupHistory.json"]);
    execFileSync("unzip", ["-tq", archive]);

    const manifest = await readArchiveManifest(archive);
    expect(manifest.backupNumber).toBe(1);
    expect(manifest.databaseName).toBe("TestDb");
    expect(manifest.databaseId).toMatch(/^[0-9a-f-]{36}$/);
    const names = manifest.entries.map((e) => e.path);
    expect(names).toContain("Project/TestDb.4DProject");
    expect(names).toContain("Settings/Backup.4DSettings");
    expect(names).toContain("Data/data.sqlite");
    expect(names).toContain("Data/Settings/settings.json");
    expect(names).toContain("Project/Empty/");
    const attachmentPrefix = "Attachments/" + db.attachmentsDir.replace(/^\//, "");
    expect(names).toContain(`${attachmentPrefix}/notes.txt`);
    // Every file entry's SHA-256 is the one of the original file (the data file excepted: it is a snapshot).
    for (const e of manifest.entries.filter((e) => e.kind === "file" && e.path !== "Data/data.sqlite")) {
      expect(e.sha256).toBe(sha256(fs.readFileSync(e.originalPath)));
      expect((await readEntry(archive, e.path)).equals(fs.readFileSync(e.originalPath))).toBe(true);
    }
    // A symbolic link is recorded as a link, not followed.
    const link = manifest.entries.find((e) => e.path === `${attachmentPrefix}/link-to-notes`)!;
    expect(link.kind).toBe("symlink");
    const listing = execFileSync("unzip", ["-Z", archive]).toString();
    expect(listing).toMatch(/^l.*link-to-notes$/m);

    // The data file in the archive is a SQLite database with the rows.
    const restored = path.join(db.root, "restored.sqlite");
    fs.writeFileSync(restored, await readEntry(archive, "Data/data.sqlite"));
    const r = new Database(restored, { readonly: true });
    expect(r.prepare("SELECT count(*) AS n FROM customers").get()).toEqual({ n: 2000 });
    r.close();

    const history = historyOf(db);
    const key = path.join(db.databaseDir, "Project");
    expect(Object.keys(history)).toEqual([key]);
    const entry = history[key][0];
    expect(entry).toMatchObject({
      operation: "backup", backupNumber: 1, backupPath: archive, structurePath: key, dataPath: db.dataFile, logPath: "",
      scheduledDate: null, status: 0, statusText: "OK", partial: false, trigger: "manual", user: "alice",
      attachments: [{ attachmentPath: db.attachmentsDir, found: true }],
    });
    expect(entry.duration).toBe(Date.parse(entry.endingDate) - Date.parse(entry.startingDate));
    expect(entry.archiveSize).toBe(fs.statSync(archive).size);
    expect(entry.archiveSha256).toBe(sha256(fs.readFileSync(archive)));
    expect(entry.files).toContain(path.join(db.attachmentsDir, "notes.txt"));
    expect(entry.files).toContain(db.dataFile);

    const journal = journalOf(db);
    expect(journal).toMatch(/^\*\*\* Full Backup\n/);
    expect(journal).toContain("Trigger : manual (alice)");
    expect(journal).toContain(`Creating archive : ${archive}`);
    expect(journal).toContain(`\t${db.attachmentsDir} [OK]`);
    expect(journal).toMatch(/Archive : .* verified/);
  });

  it("numbers backups, keeps only the last X and prunes the history to match", async () => {
    db = makeTestDatabase();
    db.writeSettings({ keep: 2 });
    const engine = engineFor(db);
    for (let i = 1; i <= 3; i++) expect((await engine.start(manual).done).status).toBe(0);
    const zips = fs.readdirSync(db.destination).filter((n) => n.endsWith(".zip")).sort();
    expect(zips).toEqual(["TestDb[0002].zip", "TestDb[0003].zip"]);
    const entries = historyOf(db)[path.join(db.databaseDir, "Project")];
    expect(entries.map((e: { backupNumber: number }) => e.backupNumber)).toEqual([2, 3]);
  });

  it("ends as a partial backup (1409) that keeps its archive when an attachment is missing", async () => {
    db = makeTestDatabase();
    const missing = path.join(db.root, "nowhere/missing.pdf");
    db.writeSettings({ attachments: [db.attachmentsDir, missing] });
    const outcome = await engineFor(db).start(manual).done;
    expect(outcome.status).toBe(STATUS.BACKUP_ERROR);
    expect(outcome.partial).toBe(true);
    expect(outcome.statusText).toContain(missing);
    expect(fs.existsSync(path.join(db.destination, "TestDb[0001].zip"))).toBe(true);
    const entry = historyOf(db)[path.join(db.databaseDir, "Project")][0];
    expect(entry).toMatchObject({ status: 1409, partial: true, attachments: [{ found: true }, { attachmentPath: missing, found: false }] });
    const journal = journalOf(db);
    expect(journal).toContain(`\t${missing} [NOT FOUND]`);
    expect(journal).toMatch(/Error reported : 1409 .*missing\.pdf/);
  });

  it("writes a short journal block when verbose mode is off", async () => {
    db = makeTestDatabase();
    db.writeSettings({ verbose: false });
    await engineFor(db).start(manual).done;
    const lines = journalOf(db).trim().split("\n");
    expect(lines[0]).toBe("*** Full Backup");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^Starting : \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d$/);
  });

  it("stores entries uncompressed with None and compresses more with Compact than with Fast", async () => {
    db = makeTestDatabase({ rows: 20000 });
    const sizes: Record<string, number> = {};
    for (const compression of ["None", "Fast", "Compact"] as const) {
      db.writeSettings({ compression, keep: null });
      const outcome = await engineFor(db).start(manual).done;
      expect(outcome.status).toBe(0);
      execFileSync("unzip", ["-tq", outcome.archivePath!]);
      sizes[compression] = fs.statSync(outcome.archivePath!).size;
    }
    expect(sizes.Fast).toBeLessThan(sizes.None!);
    expect(sizes.Compact).toBeLessThanOrEqual(sizes.Fast!);
    expect(execFileSync("unzip", ["-v", path.join(db.destination, "TestDb[0001].zip")]).toString()).toMatch(/Stored/);
  });
});

describe("refusals and failures", () => {
  it("refuses a second backup while one runs, with -9976", async () => {
    db = makeTestDatabase();
    const engine = engineFor(db);
    const first = engine.start(manual);
    expect(() => engine.start(manual)).toThrowError(expect.objectContaining({ status: STATUS.BACKUP_IN_PROGRESS }));
    expect((await first.done).status).toBe(0);
  });

  it("fails with 1407 when the destination is missing, and uses up no number", async () => {
    db = makeTestDatabase();
    db.writeSettings({ destination: path.join(db.root, "no-such-folder") });
    const engine = engineFor(db);
    const outcome = await engine.start(manual).done;
    expect(outcome.status).toBe(STATUS.DESTINATION_INVALID);
    expect(outcome.statusText).toContain("does not exist");
    expect(journalOf(db)).toMatch(/\*\*\* Full Backup aborted\n[\s\S]*Error reported : 1407/);
    db.writeSettings();
    expect((await engine.start(manual).done).backupNumber).toBe(1);
  });

  it("fails with 1407 and the reason when a hand-edited destination lies inside the database, writing nothing there", async () => {
    db = makeTestDatabase();
    const inside = path.join(db.databaseDir, "Project", "Backups");
    fs.mkdirSync(inside);
    db.writeSettings({ destination: inside });
    const outcome = await engineFor(db).start(manual).done;
    expect(outcome.status).toBe(STATUS.DESTINATION_INVALID);
    expect(outcome.statusText).toContain(`The destination folder ${inside} (General/DestinationFolder in the settings) is inside the database folder`);
    expect(fs.readdirSync(inside)).toEqual([]);
    db.writeSettings({ destination: db.home });
    expect((await engineFor(db).start(manual).done).statusText).toContain("is STRONGBOX_HOME");
  });

  it("removes a link planted at its temporary name without following it: the link's target untouched", async () => {
    db = makeTestDatabase();
    const target = path.join(db.root, "precious.txt");
    fs.writeFileSync(target, "precious");
    const planted = path.join(db.destination, "TestDb[0001].zip.tmp");
    fs.symlinkSync(target, planted);
    const outcome = await engineFor(db).start(manual).done;
    expect(outcome.status).toBe(0);
    expect(fs.readFileSync(target, "utf8")).toBe("precious");
    expect(fs.existsSync(planted)).toBe(false);
    expect(fs.lstatSync(outcome.archivePath!).isFile()).toBe(true);
  });

  it("fails with 1407 when the destination is a file, not a folder", async () => {
    db = makeTestDatabase();
    const file = path.join(db.root, "a-file");
    fs.writeFileSync(file, "x");
    db.writeSettings({ destination: path.join(file, "sub") });
    const outcome = await engineFor(db).start(manual).done;
    expect(outcome.status).toBe(STATUS.DESTINATION_INVALID);
  });
});

describe("Stop", () => {
  it("lands in the middle of a large file: 1406, no archive, no temporary file", async () => {
    db = makeTestDatabase();
    // 64 MB of incompressible data, read at most 16 MB/s: Stop comes while this one file is being copied.
    fs.writeFileSync(path.join(db.attachmentsDir, "big.bin"), crypto.randomBytes(64 * 1024 * 1024));
    const engine = engineFor(db, { throttleBytesPerSecond: 16 * 1024 * 1024 });
    const seen: OperationProgress[] = [];
    engine.on("event", (e) => { if (e.type === "progress") seen.push(e.progress); });
    const run = engine.start(manual);
    await expect.poll(() => seen.at(-1)?.currentFile ?? "", { timeout: 30_000 }).toMatch(/big\.bin$/);
    await expect.poll(() => seen.at(-1)?.bytesDone ?? 0).toBeGreaterThan(seen.find((p) => p.currentFile?.endsWith("big.bin"))!.bytesDone + 1_000_000);
    expect(engine.stop()).toBe(true);
    const outcome = await run.done;
    const last = seen.at(-1)!;
    expect(outcome.status).toBe(STATUS.CANCELED_BY_USER);
    expect(last.currentFile).toMatch(/big\.bin$/);
    expect(last.bytesDone).toBeLessThan(last.bytesTotal);
    expect(fs.readdirSync(db.destination).filter((n) => n !== "backupHistory.json")).toEqual([]);
    expect(historyOf(db)[path.join(db.databaseDir, "Project")][0]).toMatchObject({ status: 1406, partial: false });
    expect(journalOf(db)).toContain("Error reported : 1406");
    // The number was not used up.
    db.writeSettings();
    fs.rmSync(path.join(db.attachmentsDir, "big.bin"));
    expect((await engineFor(db).start(manual).done).backupNumber).toBe(1);
  });
});

describe("a stop because the server shuts down", () => {
  it("ends with 1409 saying so, not a user's 1406, and no operation starts afterwards", async () => {
    db = makeTestDatabase();
    fs.writeFileSync(path.join(db.attachmentsDir, "big.bin"), crypto.randomBytes(16 * 1024 * 1024));
    const engine = engineFor(db, { throttleBytesPerSecond: 4 * 1024 * 1024 });
    const run = engine.start(manual);
    await expect.poll(() => engine.running?.phase, { timeout: 30_000 }).toBe("archive");
    await engine.shutDown();
    const outcome = await run.done;
    const text = "The backup was interrupted because the server was shutting down.";
    expect(outcome).toMatchObject({ status: STATUS.BACKUP_ERROR, statusText: text, archivePath: null });
    expect(historyOf(db)[path.join(db.databaseDir, "Project")][0]).toMatchObject({ status: 1409, statusText: text });
    expect(journalOf(db)).toContain(`Error reported : 1409`);
    expect(fs.readdirSync(db.destination).filter((n) => n !== "backupHistory.json")).toEqual([]);
    expect(() => engine.start(manual)).toThrow(/The server is shutting down/);
  });
});

describe("a destination removed during the backup", () => {
  it("is reported as 1407 'disappeared', and the Backup page and BACKUP INFO still show the attempt, also after a restart", async () => {
    db = makeTestDatabase();
    fs.writeFileSync(path.join(db.attachmentsDir, "big.bin"), crypto.randomBytes(16 * 1024 * 1024));
    const engine = engineFor(db, { throttleBytesPerSecond: 4 * 1024 * 1024 });
    const run = engine.start(manual);
    await expect.poll(() => engine.running?.phase, { timeout: 30_000 }).toBe("archive");
    fs.renameSync(db.destination, `${db.destination}-moved`); // the history file goes with it
    const outcome = await run.done;
    const text = `Destination folder not valid: ${db.destination} disappeared during the backup.`;
    expect(outcome).toMatchObject({ status: STATUS.DESTINATION_INVALID, archivePath: null });
    expect(outcome.statusText).toContain(text);
    expect(journalOf(db)).toContain("Error reported : 1407");
    expect((await backupOverview(engine, null, { content: false })).lastBackup).toMatchObject({ backupNumber: 1, status: 1407, statusText: outcome.statusText, user: "alice" });
    // A restart: the attempt is kept in console.sqlite.
    const again = engineFor(db);
    await again.init();
    expect((await backupOverview(again, null, { content: false })).lastBackup).toMatchObject({ backupNumber: 1, status: 1407 });
    // Once the folder is back, a newer backup in its history is what shows.
    fs.renameSync(`${db.destination}-moved`, db.destination);
    fs.rmSync(path.join(db.attachmentsDir, "big.bin"));
    const next = await again.start(manual).done;
    expect(next.statusText).toBe("OK");
    expect((await backupOverview(again, null, { content: false })).lastBackup).toMatchObject({ backupNumber: 1, status: 0 });
    expect(journalOf(db)).toContain(`Removed ${path.join(db.destination, "TestDb[0001].zip.tmp")}, left by an earlier attempt.`);
  });
});

describe("Stop during the snapshot", () => {
  it("kills the snapshot in flight: 1406, the archive phase never starts, no temporary file", async () => {
    db = makeTestDatabase();
    // An exclusive lock on the data file keeps VACUUM INTO waiting (for up to two minutes), so the Stop is sure to
    // land while the snapshot runs; only a snapshot that is really killed lets the outcome arrive before then.
    const holder = new Database(db.dataFile);
    holder.pragma("locking_mode = EXCLUSIVE");
    holder.exec("BEGIN EXCLUSIVE; INSERT INTO customers (name, city) VALUES ('x', 'y'); COMMIT;");
    try {
      const engine = engineFor(db);
      const phases: string[] = [];
      engine.on("event", (e) => { if (e.type === "progress") phases.push(e.progress.phase); });
      const run = engine.start(manual);
      await expect.poll(() => phases.at(-1)).toBe("snapshot");
      await new Promise((r) => setTimeout(r, 300)); // the snapshot process is up and waiting on the lock
      expect(engine.stop()).toBe(true);
      const outcome = await run.done;
      expect(outcome.status).toBe(STATUS.CANCELED_BY_USER);
      expect(phases).not.toContain("archive");
      expect(fs.readdirSync(db.destination).filter((n) => n !== "backupHistory.json")).toEqual([]);
    } finally {
      holder.close();
    }
  });
});

describe("EraseOldBackupBefore", () => {
  it("with keep only the last 1, deletes the previous archive before writing the new one", async () => {
    db = makeTestDatabase();
    db.writeSettings({ keep: 1, eraseBefore: true });
    const engine = engineFor(db);
    await engine.start(manual).done;
    const deleted: boolean[] = [];
    engine.on("event", (e) => {
      if (e.type === "progress" && e.progress.phase === "archive") deleted.push(!fs.existsSync(path.join(db.destination, "TestDb[0001].zip")));
    });
    expect((await engine.start(manual).done).status).toBe(0);
    expect(deleted[0]).toBe(true);
    expect(fs.readdirSync(db.destination).filter((n) => n.endsWith(".zip"))).toEqual(["TestDb[0002].zip"]);
    expect(journalOf(db)).toContain(`Deleted before the backup (EraseOldBackupBefore): ${path.join(db.destination, "TestDb[0001].zip")}`);
  });
});

describe("the data snapshot", () => {
  it("is transactionally consistent while writes go on", async () => {
    db = makeTestDatabase();
    const w = new Database(db.dataFile);
    w.pragma("journal_mode = WAL");
    w.exec("CREATE TABLE ledger (id INTEGER PRIMARY KEY, amount INTEGER); CREATE TABLE totals (id INTEGER PRIMARY KEY, total INTEGER); INSERT INTO totals VALUES (1, 0);");
    // Each transaction moves the ledger and the total together: a torn copy would break the invariant.
    const tx = w.transaction((n: number) => {
      w.prepare("INSERT INTO ledger (amount) VALUES (?)").run(n);
      w.prepare("UPDATE totals SET total = total + ? WHERE id = 1").run(n);
    });
    let writing = true, writes = 0;
    const loop = async () => { while (writing) { tx(++writes % 97); await new Promise((r) => setImmediate(r)); } };
    const writer = loop();
    const engine = engineFor(db);
    const outcome = await engine.start(manual).done;
    writing = false;
    await writer;
    w.close();
    expect(outcome.status).toBe(0);
    expect(writes).toBeGreaterThan(0);
    const copy = path.join(db.root, "snap.sqlite");
    fs.writeFileSync(copy, await readEntry(outcome.archivePath!, "Data/data.sqlite"));
    const s = new Database(copy, { readonly: true });
    expect(s.pragma("integrity_check", { simple: true })).toBe("ok");
    const { sum } = s.prepare("SELECT coalesce(sum(amount), 0) AS sum FROM ledger").get() as { sum: number };
    const { total } = s.prepare("SELECT total FROM totals").get() as { total: number };
    expect(sum).toBe(total);
    s.close();
  });
});
