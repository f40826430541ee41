// After kill -9 mid-backup, the next start records the interrupted backup as failed in history and journal and
// removes its temporary files; a committed archive missing from the history is verified and recorded.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import { acquireInstanceLock, InstanceLockError } from "../locks/instance-lock";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";
import { writeRawZip, zerosBomb } from "../restore/test-helpers";
import { recordFromArchive } from "../archive/record-from-archive";
import { openOperations } from "../../test/helpers/operations";

let db: TestDatabase;
afterEach(() => db?.cleanup());

const child = (args: string[]) => {
  const p = spawn(process.execPath, ["--import", "tsx", path.resolve("test/helpers/backup-child.ts"), ...args], { stdio: ["ignore", "pipe", "inherit"] });
  // Listened for from the start: an exit that comes before the test kills the child must not be missed.
  const exited = new Promise<void>((r) => p.once("exit", () => r()));
  let out = "";
  p.stdout.on("data", (d) => (out += d));
  return { p, out: () => out, exited };
};

const engineFor = (t: TestDatabase) => openOperations(t, { consoleDb: openConsoleDb(path.join(t.home, "console.sqlite")) });
const historyOf = (t: TestDatabase) => JSON.parse(fs.readFileSync(path.join(t.destination, "backupHistory.json"), "utf8"))[path.join(t.databaseDir, "Project")];

describe("crash recovery", () => {
  it("records a backup killed mid-way as failed, removes its temporary files, and numbering goes on", async () => {
    db = makeTestDatabase();
    fs.writeFileSync(path.join(db.attachmentsDir, "big.bin"), crypto.randomBytes(32 * 1024 * 1024));
    const c = child(["backup", db.databaseDir, db.home, db.destination]);
    await expect.poll(c.out, { timeout: 30_000 }).toContain("ARCHIVING");
    expect(fs.readdirSync(db.destination).some((n) => n.endsWith(".tmp"))).toBe(true);
    c.p.kill("SIGKILL");
    await c.exited;

    const engine = engineFor(db);
    const messages = await engine.init();
    expect(messages.join("\n")).toMatch(/Interrupted backup #1/);
    expect(fs.readdirSync(db.destination)).toEqual(["backupHistory.json"]);
    expect(historyOf(db)).toEqual([expect.objectContaining({ backupNumber: 1, status: 1409, partial: false, trigger: "manual", user: "crash" })]);
    const journal = fs.readFileSync(path.join(db.databaseDir, "Logs/Backup Journal[001].txt"), "utf8");
    expect(journal).toMatch(/\*\*\* Full Backup aborted\n[\s\S]*Error reported : 1409 The backup was interrupted/);
    // A second init finds nothing more to recover.
    expect(await engineFor(db).init()).toEqual([]);
    fs.rmSync(path.join(db.attachmentsDir, "big.bin"));
    const next = await engine.backup({ trigger: { kind: "manual", user: "me" } }).done;
    expect(next).toMatchObject({ status: 0, backupNumber: 1 });
  });

  it("verifies and records a committed archive that the history does not know", async () => {
    db = makeTestDatabase();
    const engine = engineFor(db);
    const first = await engine.backup({ trigger: { kind: "manual", user: "me" } }).done;
    // As if the server died between the rename and the history write.
    fs.rmSync(path.join(db.destination, "backupHistory.json"));
    const messages = await engineFor(db).init();
    expect(messages.join("\n")).toContain("missing from the history");
    expect(historyOf(db)).toEqual([expect.objectContaining({ backupNumber: 1, status: 0, backupPath: first.archivePath })]);
    expect((await engine.backup({ trigger: { kind: "manual", user: "me" } }).done).backupNumber).toBe(2);
  });
});

describe("recovery leftovers", () => {
  it("removes snapshot journals and stray probes, and never records an operation twice", async () => {
    db = makeTestDatabase();
    const engine = engineFor(db);
    const done = await engine.backup({ trigger: { kind: "manual", user: "me" } }).done;
    // As if the server died after the history write but before the ledger was closed.
    const consoleDb = openConsoleDb(path.join(db.home, "console.sqlite"));
    consoleDb.prepare("UPDATE operations SET state = 'recorded' WHERE id = ?").run(done.operationId);
    for (const leftover of ["TestDb[0002].data.tmp-journal", "TestDb[0002].zip.tmp", ".strongbox-probe-0a1b2c", ".backupHistory.json.123.abcdef.tmp"]) {
      fs.writeFileSync(path.join(db.destination, leftover), "x");
    }
    const messages = await engineFor(db).init();
    expect(messages.join("\n")).toMatch(/Interrupted backup #1 recorded with status 0/);
    expect(fs.readdirSync(db.destination).sort()).toEqual(["TestDb[0001].zip", "backupHistory.json"]);
    expect(historyOf(db)).toHaveLength(1);
    expect(await engineFor(db).init()).toEqual([]);
  });

  it("does not keep the server from starting when the destination is gone", async () => {
    db = makeTestDatabase();
    const c = child(["backup", db.databaseDir, db.home, db.destination]);
    fs.writeFileSync(path.join(db.attachmentsDir, "big.bin"), crypto.randomBytes(16 * 1024 * 1024));
    await expect.poll(c.out, { timeout: 30_000 }).toContain("ARCHIVING");
    c.p.kill("SIGKILL");
    await c.exited;
    fs.rmSync(db.destination, { recursive: true });
    const messages = await engineFor(db).init();
    expect(messages.join("\n")).toMatch(/could not be recorded yet/);
    fs.mkdirSync(db.destination);
    expect((await engineFor(db).init()).join("\n")).toMatch(/Interrupted backup #1 recorded with status 1409/);
  });
});

describe("one engine per database", () => {
  it("refuses a second holder of the database lock, in another process, with a clear message", async () => {
    db = makeTestDatabase();
    const lock = acquireInstanceLock(db.databaseDir);
    const c = child(["lock", db.databaseDir, db.home, db.destination]);
    await expect.poll(c.out, { timeout: 20_000 }).toMatch(/REFUSED Another Strongbox server/);
    c.p.kill("SIGKILL");
    lock.release();
    // The kernel drops the lock as the process dies; poll a little, as a loaded machine may report the exit first.
    const free = () => { try { acquireInstanceLock(db.databaseDir).release(); return true; } catch { return false; } };
    await expect.poll(free, { timeout: 5_000 }).toBe(true);
  });

  it("frees the lock when its holder is killed", async () => {
    db = makeTestDatabase();
    const c = child(["lock", db.databaseDir, db.home, db.destination]);
    await expect.poll(c.out, { timeout: 20_000 }).toContain("LOCKED");
    expect(() => acquireInstanceLock(db.databaseDir)).toThrow(InstanceLockError);
    c.p.kill("SIGKILL");
    await c.exited;
    // The kernel drops the lock as the process dies; poll a little, as a loaded machine may report the exit first.
    const free = () => { try { acquireInstanceLock(db.databaseDir).release(); return true; } catch { return false; } };
    await expect.poll(free, { timeout: 5_000 }).toBe(true);
  });
});

describe("an unknown archive found at start", () => {
  it("has its manifest capped: a declared size over the cap is refused unread, an inflated one stops at the declared size", async () => {
    db = makeTestDatabase({ rows: 50 });
    // Declares 1 GiB; its data is not even valid deflate: the declared size alone refuses it, nothing is inflated.
    const declared = path.join(db.destination, "TestDb[0007].zip");
    writeRawZip(declared, [{ name: "manifest.json", deflated: Buffer.alloc(4096, 0xff), declaredSize: 1 << 30 }]);
    await expect(recordFromArchive(declared, { verify: true })).rejects.toThrow(/manifest\.json can't be read \(declares 1073741824 bytes, more than the \d+ allowed/);
    // Declares 1 KiB and inflates to 512 MiB (a 512 KiB zip bomb): stopped just past 1 KiB.
    const bomb = path.join(db.destination, "TestDb[0008].zip");
    writeRawZip(bomb, [{ name: "manifest.json", deflated: zerosBomb(512 << 20), declaredSize: 1024 }]);
    await expect(recordFromArchive(bomb, { verify: true })).rejects.toThrow(/manifest\.json can't be read \(inflates to more than the 1024 bytes recorded/);
    // The start goes on; neither is recorded, both are left where they are.
    const messages = await engineFor(db).init();
    expect(messages.join("\n")).not.toMatch(/TestDb\[000[78]\]/);
    expect(fs.existsSync(declared) && fs.existsSync(bomb)).toBe(true);
    const next = await engineFor(db).backup({ trigger: { kind: "manual", user: "me" } }).done;
    expect(next).toMatchObject({ status: 0, backupNumber: 9 });
  });
});
