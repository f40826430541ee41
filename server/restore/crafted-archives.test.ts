// Crafted and damaged archives against every reader: Verify, restore to a folder, the Restore page's contents, and
// the start-up recovery's record of an unknown archive. Each must end with a failure that says what is wrong — never
// an exception escaping from a stream callback (which left a verification holding the one operation slot, so every
// backup was refused until someone pressed Stop) — and the slot must be free afterwards.
import crypto from "node:crypto";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import { recordFromArchive } from "../archive/record-from-archive";
import { STATUS } from "../isomorphic/status";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";
import { openOperations, type TestOperations } from "../../test/helpers/operations";
import { readArchiveContents } from "../archive/contents";
import { verifyArchiveFile } from "./verify-archive";
import { MAX_MANIFEST_BYTES } from "../archive/manifest";
import { restoreToFolderTask } from "./restore-to-folder-task";
import { runScheduledVerification } from "./scheduled-verification";
import { entryDataSpan, manifestEntry, manifestFor, writeRawZip, zerosBomb, type RawEntry } from "./test-helpers";
import { verificationTask } from "./verification-task";
import { VerificationStore } from "./verification-store";

let db: TestDatabase;
let ops: TestOperations;
let store: VerificationStore;
let good: string; // a real archive made by a backup, with one entry large enough to be streamed
const escaped: unknown[] = [];
const onEscaped = (err: unknown) => { escaped.push(err); };
const alice = { kind: "manual" as const, user: "alice" };
let n = 0;
const fresh = (name: string) => {
  const dir = path.join(db.root, `crafted-${++n}`);
  fs.mkdirSync(dir);
  return path.join(dir, name);
};

beforeAll(async () => {
  process.on("uncaughtException", onEscaped);
  process.on("unhandledRejection", onEscaped);
  db = makeTestDatabase({ rows: 200 });
  fs.writeFileSync(path.join(db.attachmentsDir, "large.bin"), Buffer.concat([crypto.randomBytes(3 << 20), Buffer.alloc(2 << 20, "a")]));
  ops = openOperations(db, { consoleDb: openConsoleDb(path.join(db.home, "console.sqlite")) });
  store = new VerificationStore(ops.consoleDb);
  const outcome = await ops.backup({ trigger: alice }).done;
  expect(outcome.status).toBe(0);
  good = outcome.archivePath!;
});

afterAll(() => {
  process.off("uncaughtException", onEscaped);
  process.off("unhandledRejection", onEscaped);
  db?.cleanup();
});

/** A copy of the good archive, in a folder of its own. */
function copyOfGood(name: string): string {
  const file = fresh(name);
  fs.copyFileSync(good, file);
  return file;
}

/** A manifest whose content is `inflated` bytes of zeros, deflated, declaring `declared` bytes. */
function manifestBomb(inflated: number, declared: number): RawEntry {
  return { name: "manifest.json", deflated: zerosBomb(inflated), declaredSize: declared };
}

const cases: Array<{ name: string; make: () => Promise<string> | string; says: RegExp }> = [
  {
    name: "a manifest that inflates past the reader's limit (declaring a small size)",
    make: () => {
      const file = fresh("Bomb.zip");
      writeRawZip(file, [{ name: "a.txt", data: "a" }, manifestBomb(MAX_MANIFEST_BYTES + (1 << 20), 9 << 20)]);
      return file;
    },
    says: /manifest\.json.*(inflates to more than|larger than)/,
  },
  {
    name: "a manifest that declares more than the reader's limit",
    make: () => {
      const file = fresh("BigManifest.zip");
      writeRawZip(file, [manifestBomb(MAX_MANIFEST_BYTES + (1 << 20), MAX_MANIFEST_BYTES + (1 << 20))]);
      return file;
    },
    says: /manifest\.json.*(declares|larger than)/,
  },
  {
    name: "a truncated archive (cut in the middle of its data)",
    make: () => {
      const file = copyOfGood("Truncated.zip");
      fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
      return file;
    },
    says: /not a readable ZIP|unreadable|end of central directory/i,
  },
  {
    name: "corrupt deflate data in a streamed entry",
    make: async () => {
      const file = copyOfGood("Corrupt.zip");
      const span = await entryDataSpan(file, `Attachments${db.attachmentsDir}/large.bin`);
      // 64 KiB of 0xff inside the data: it covers at least one deflate block header, an invalid block type.
      const fd = fs.openSync(file, "r+");
      try { fs.writeSync(fd, Buffer.alloc(64 << 10, 0xff), 0, 64 << 10, span.offset + span.length - (128 << 10)); } finally { fs.closeSync(fd); }
      return file;
    },
    says: /large\.bin|unreadable|not a readable ZIP/,
  },
  {
    name: "a central directory that records a smaller size than the data inflates to",
    make: () => {
      const file = fresh("Liar.zip");
      const big = Buffer.alloc(20 << 20, "x");
      const entries: RawEntry[] = [{ name: "Project/big.txt", data: big, declaredSize: 9 << 20 }];
      writeRawZip(file, [...entries, { name: "manifest.json", data: JSON.stringify(manifestFor([{ ...manifestEntry({ name: "Project/big.txt", data: big }), size: 9 << 20 }])) }]);
      return file;
    },
    says: /Project\/big\.txt.*(inflates to more than|larger than recorded|SHA-256|size)/,
  },
  {
    name: "a central directory that records a compressed size running past the next entry",
    make: () => {
      const file = fresh("Overrun.zip");
      const a = { name: "Project/a.txt", data: "hello" };
      writeRawZip(file, [{ ...a, declaredCompressedSize: 5000 }, { name: "Project/b.txt", data: "world" },
        { name: "manifest.json", data: JSON.stringify(manifestFor([manifestEntry(a), manifestEntry({ name: "Project/b.txt", data: "world" })])) }]);
      return file;
    },
    says: /Project\/a\.txt|unreadable|not a readable ZIP/,
  },
  {
    name: "entries overlapping (two entries at the same local header)",
    make: () => {
      const file = fresh("Overlap.zip");
      const a = { name: "Project/a.txt", data: "hello" }, b = { name: "Project/b.txt", data: "world", overlapPrevious: true };
      writeRawZip(file, [a, b, { name: "manifest.json", data: JSON.stringify(manifestFor([manifestEntry(a), manifestEntry(b)])) }]);
      return file;
    },
    says: /Project\/b\.txt|unreadable|local header/,
  },
];

describe("crafted and damaged archives", () => {
  for (const c of cases) {
    it(`${c.name}: verification, restore and contents end with a clear failure, and the slot is free`, { timeout: 30_000 }, async () => {
      const archive = await c.make();

      const verify = await ops.start(verificationTask(ops.db, [archive], store, alice)).done;
      expect(verify.status).toBe(STATUS.ARCHIVE_CHECK_FAILED);
      expect(store.get(archive)?.ok).toBe(false);
      expect(store.get(archive)?.problems.join("\n")).toMatch(c.says);
      expect(ops.runner.running).toBeNull();

      const target = path.join(path.dirname(archive), "restored");
      const restore = await ops.start(restoreToFolderTask(ops.db, { archivePath: archive, target,
        parts: { structure: true, dataFile: true, dataSettings: true, attachments: true, other: true }, overwrite: false, integrateLog: false,
        includeCurrentLog: false, trigger: alice })).done;
      expect([STATUS.ARCHIVE_CHECK_FAILED, STATUS.BACKUP_ERROR]).toContain(restore.status);
      expect(fs.existsSync(target)).toBe(false);
      expect(ops.runner.running).toBeNull();

      // The Restore page's contents, and start-up recovery's record of an archive the history doesn't know.
      const contents = await readArchiveContents(archive).then(() => null, (err: Error) => err);
      const recorded = await recordFromArchive(archive, { verify: true }).then((r) => r.status, (err: Error) => err);
      expect(contents === null || contents.name === "DomainError").toBe(true);
      expect(recorded instanceof Error || recorded === STATUS.ARCHIVE_CHECK_FAILED).toBe(true);
      expect(escaped).toEqual([]);
    });
  }

  it("a backup still runs afterwards, and nothing escaped as an uncaught exception", async () => {
    expect(ops.runner.running).toBeNull();
    const after = await ops.backup({ trigger: alice }).done;
    expect(after.status).toBe(0);
    expect(escaped).toEqual([]);
  });
});

describe("the scheduled verification", () => {
  it("picks a crafted archive up by itself, fails it, and leaves the slot free for the next backup", { timeout: 30_000 }, async () => {
    const bomb = path.join(db.destination, "TestDb[0050].zip"); // named like one of ours: listed with the others
    writeRawZip(bomb, [manifestBomb(MAX_MANIFEST_BYTES + (1 << 20), 9 << 20)]);
    try {
      const now = new Date();
      store.setSchedule({ frequency: "Daily", hour: now.getHours(), weekday: 0 }, new Date(now.getTime() - 24 * 3600_000));
      expect(await runScheduledVerification(ops.db, ops.runner, store, now)).toBe(true);
      await ops.runner.waitForIdle();
      expect(ops.runner.lastResult).toMatchObject({ kind: "verify", status: STATUS.ARCHIVE_CHECK_FAILED });
      expect(store.get(bomb)?.problems.join("\n")).toMatch(/manifest\.json/);
      expect(store.get(good)?.ok).toBe(true);
      expect(ops.runner.running).toBeNull();
      expect(escaped).toEqual([]);
    } finally {
      fs.rmSync(bomb);
      store.setSchedule({ frequency: "Never", hour: 0, weekday: 0 }, new Date());
    }
  });
});

describe("an archive path that is not a regular file", () => {
  it("a FIFO is refused at once by Verify, restore and contents (it can't hang the open), and Stop is never needed", { timeout: 30_000 }, async () => {
    const fifo = fresh("Fifo.zip");
    execFileSync("mkfifo", [fifo]);
    const verify = await ops.start(verificationTask(ops.db, [fifo], store, alice)).done;
    expect(verify.status).toBe(STATUS.ARCHIVE_CHECK_FAILED);
    expect(store.get(fifo)?.problems.join("\n")).toMatch(/FIFO/);
    await expect(readArchiveContents(fifo)).rejects.toThrow(/is a FIFO \(named pipe\), not an archive file/);
    await expect(verifyArchiveFile(fifo)).rejects.toThrow(/FIFO/);
    const restore = await ops.start(restoreToFolderTask(ops.db, { archivePath: fifo, target: path.join(path.dirname(fifo), "r"),
      parts: { structure: true }, overwrite: false, integrateLog: false, includeCurrentLog: false, trigger: alice })).done;
    expect(restore.statusText).toMatch(/FIFO/);
    expect(ops.runner.running).toBeNull();
  });

  it("a device (/dev/zero) is refused the same way", async () => {
    await expect(readArchiveContents("/dev/zero")).rejects.toThrow(/device/);
    await expect(verifyArchiveFile("/dev/zero")).rejects.toThrow(/device/);
  });
});

describe("Stop ends a verification", () => {
  it("of a large archive, at once, and the slot is free", async () => {
    const op = ops.start(verificationTask(ops.db, [good, good, good, good], store, alice));
    expect(ops.runner.stop()).toBe(true);
    const outcome = await op.done;
    expect(outcome.status).toBe(STATUS.CANCELED_BY_USER);
    expect(ops.runner.running).toBeNull();
  });
});
