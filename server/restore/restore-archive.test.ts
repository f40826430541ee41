// Restoring real archives made by the engine from a real database: byte-equal files and an equal data snapshot,
// partial restores, damage caught and named, crafted archives refused, Stop, and the destination rules.
import Database from "better-sqlite3";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import { openOperations } from "../../test/helpers/operations";
import type { Manifest } from "../archive/manifest";
import { STATUS } from "../isomorphic/status";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";
import { readArchiveContents, selectParts } from "../archive/contents";
import { restoreArchive, type RestoreProgress } from "./restore-archive";
import { entryDataSpan, flipBit, writeCraftedArchive, type RawEntry } from "./test-helpers";

let db: TestDatabase;
let archive: string;
let manifest: Manifest;
/** Every table's rows in the live data file right after the backup (nothing writes in between). */
let liveRows: Record<string, unknown[]>;
let n = 0;

function tableRows(file: string): Record<string, unknown[]> {
  const d = new Database(file, { readonly: true });
  try {
    const tables = d.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>;
    return Object.fromEntries(tables.map(({ name }) => [name, d.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all()]));
  } finally {
    d.close();
  }
}

async function backup(t: TestDatabase): Promise<string> {
  const engine = openOperations(t, { consoleDb: openConsoleDb(path.join(t.home, "console.sqlite")) });
  await engine.init();
  const outcome = await engine.backup().done;
  expect(outcome.status).toBe(0);
  return outcome.archivePath!;
}

/** A fresh folder for one test: the target goes inside, so that anything written beside it shows up. */
function workDir(): string {
  const dir = path.join(db.root, `work-${++n}`);
  fs.mkdirSync(dir);
  return dir;
}

/** Every path under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

beforeAll(async () => {
  db = makeTestDatabase();
  fs.mkdirSync(path.join(db.attachmentsDir, "empty-folder"));
  fs.chmodSync(path.join(db.attachmentsDir, "notes.txt"), 0o640);
  archive = await backup(db);
  liveRows = tableRows(db.dataFile);
  manifest = (await readArchiveContents(archive)).manifest;
});
afterAll(() => db?.cleanup());

describe("a full restore", () => {
  it("brings back every file byte for byte, the links, empty folders, times and modes, and the data snapshot", async () => {
    const target = path.join(workDir(), "Restored");
    const progress: RestoreProgress[] = [];
    const result = await restoreArchive({ archivePath: archive, target, onProgress: (p) => progress.push(p) });
    expect(result).toMatchObject({ target, files: manifest.entries.length, skipped: 0, replaced: null });

    for (const e of manifest.entries) {
      const restored = path.join(target, e.path);
      const st = fs.lstatSync(restored);
      if (e.kind === "directory") {
        expect(st.isDirectory(), e.path).toBe(true);
        expect(fs.readdirSync(restored)).toEqual([]);
      } else if (e.kind === "symlink") {
        expect(st.isSymbolicLink(), e.path).toBe(true);
        expect(fs.readlinkSync(restored)).toBe(fs.readlinkSync(e.originalPath));
      } else if (e.path !== "Data/data.sqlite") {
        expect(fs.readFileSync(restored).equals(fs.readFileSync(e.originalPath)), e.path).toBe(true);
        expect(st.mode & 0o777, e.path).toBe(fs.statSync(e.originalPath).mode & 0o777);
      }
      expect(Math.round(st.mtimeMs), e.path).toBe(Date.parse(e.mtime)); // utimes takes seconds as a double
    }
    // Attachments under their original absolute path, inside the target (never at their original place).
    expect(fs.readFileSync(path.join(target, "Attachments", db.attachmentsDir, "notes.txt"), "utf8")).toMatch(/^hello attachments/);
    expect(fs.statSync(path.join(target, "Attachments", db.attachmentsDir, "notes.txt")).mode & 0o777).toBe(0o640);
    expect(fs.statSync(path.join(target, "Attachments", db.attachmentsDir, "empty-folder")).isDirectory()).toBe(true);

    // The data file is the snapshot: the same rows as the live file at backup time, in every table.
    const restoredData = path.join(db.root, "restored-copy.sqlite");
    fs.copyFileSync(path.join(target, "Data/data.sqlite"), restoredData); // opened elsewhere: no -wal/-shm in the restore
    expect(Object.keys(liveRows)).toContain("customers");
    expect(tableRows(restoredData)).toEqual(liveRows);

    // Nothing but the target beside it; progress reached the totals.
    expect(fs.readdirSync(path.dirname(target))).toEqual(["Restored"]);
    const last = progress.at(-1)!;
    expect(last).toMatchObject({ bytesDone: result.bytes, bytesTotal: result.bytes, filesDone: result.files, filesTotal: result.files });
    expect(result.bytes).toBe(manifest.entries.reduce((s, e) => s + e.size, 0));
  });

  it("still completes where the `sync` command is missing (each file is flushed instead)", async () => {
    const target = path.join(workDir(), "NoSync");
    const pathBefore = process.env.PATH;
    process.env.PATH = path.join(db.root, "no-such-bin");
    try {
      await restoreArchive({ archivePath: archive, target });
    } finally {
      process.env.PATH = pathBefore;
    }
    const notes = manifest.entries.find((e) => e.path.endsWith("/notes.txt"))!;
    expect(fs.readFileSync(path.join(target, notes.path)).equals(fs.readFileSync(notes.originalPath))).toBe(true);
  });

  it("creates missing parent folders of a new target", async () => {
    const target = path.join(workDir(), "a/b/Restored");
    await restoreArchive({ archivePath: archive, target });
    expect(fs.existsSync(path.join(target, "Project/TestDb.4DProject"))).toBe(true);
  });
});

describe("a partial restore", () => {
  it("restores only the chosen parts: without attachments there is no Attachments folder", async () => {
    const target = path.join(workDir(), "NoAttachments");
    const select = selectParts(manifest, { structure: true, dataFile: true, dataSettings: true });
    const result = await restoreArchive({ archivePath: archive, target, select });
    expect(fs.readdirSync(target).sort()).toEqual(["Data", "Project", "Settings"]);
    const attachments = manifest.entries.filter((e) => e.path.startsWith("Attachments/")).length;
    expect(attachments).toBeGreaterThan(0);
    expect(result.skipped).toBe(attachments);
    expect(result.files).toBe(manifest.entries.length - attachments);
  });

  it("restores the data file alone", async () => {
    const target = path.join(workDir(), "DataOnly");
    await restoreArchive({ archivePath: archive, target, select: (e) => e.path === "Data/data.sqlite" });
    expect(tree(target)).toEqual(["Data", path.join("Data", "data.sqlite")]);
  });
});

describe("a damaged archive", () => {
  async function damaged(entry: string): Promise<{ copy: string; dir: string }> {
    const dir = workDir();
    const copy = path.join(dir, "Damaged.zip");
    fs.copyFileSync(archive, copy);
    const span = await entryDataSpan(copy, entry);
    expect(span.length).toBeGreaterThan(1000);
    flipBit(copy, span.offset + Math.floor(span.length / 2));
    return { copy, dir };
  }

  it("is caught when a bit flips inside a stored entry: the entry is named and nothing is left", async () => {
    const photo = manifest.entries.find((e) => e.path.endsWith("/photo.bin"))!.path;
    const { copy, dir } = await damaged(photo);
    expect((await entryDataSpan(copy, photo)).method).toBe(0); // random bytes are stored, not deflated
    const target = path.join(dir, "Restored");
    await expect(restoreArchive({ archivePath: copy, target })).rejects.toMatchObject({
      status: STATUS.ARCHIVE_CHECK_FAILED, message: expect.stringContaining(`"${photo}" does not match its SHA-256`),
    });
    expect(fs.readdirSync(dir)).toEqual(["Damaged.zip"]);
  });

  it("is caught when a bit flips inside a deflated entry (the data file)", async () => {
    const { copy, dir } = await damaged("Data/data.sqlite");
    expect((await entryDataSpan(copy, "Data/data.sqlite")).method).toBe(8);
    await expect(restoreArchive({ archivePath: copy, target: path.join(dir, "Restored") })).rejects.toMatchObject({
      status: STATUS.ARCHIVE_CHECK_FAILED, message: expect.stringMatching(/damaged: entry "Data\/data\.sqlite"/),
    });
    expect(fs.readdirSync(dir)).toEqual(["Damaged.zip"]);
  });

  it("is caught when an entry inflates to more than its declared size (small and streamed entries)", async () => {
    for (const [content, declared] of [[Buffer.alloc(100_000), 10], [Buffer.alloc(20 << 20), 9 << 20]] as const) {
      const dir = workDir();
      const file = path.join(dir, "Bomb.zip");
      writeCraftedArchive(file, [{ name: "Project/bomb.bin", data: content, declaredSize: declared }]);
      await expect(restoreArchive({ archivePath: file, target: path.join(dir, "Restored") })).rejects.toMatchObject({
        status: STATUS.ARCHIVE_CHECK_FAILED, message: expect.stringMatching(/damaged: entry "Project\/bomb\.bin" (inflates to more|is longer)/),
      });
      expect(tree(dir)).toEqual(["Bomb.zip"]);
    }
  });

  it("is refused when truncated", async () => {
    const dir = workDir();
    const copy = path.join(dir, "Truncated.zip");
    fs.copyFileSync(archive, copy);
    fs.truncateSync(copy, Math.floor(fs.statSync(copy).size / 2));
    await expect(restoreArchive({ archivePath: copy, target: path.join(dir, "Restored") })).rejects.toMatchObject({
      status: STATUS.ARCHIVE_CHECK_FAILED, message: expect.stringMatching(/not a readable ZIP archive/),
    });
    expect(fs.readdirSync(dir)).toEqual(["Truncated.zip"]);
  });
});

describe("a crafted archive", () => {
  const evilEtc = `/etc/strongbox-evil-${crypto.randomBytes(4).toString("hex")}`;
  const cases: Array<{ what: string; entries: RawEntry[]; unlisted?: string[]; named: string; reason: RegExp }> = [
    { what: "a ../ entry", entries: [{ name: "Project/ok.txt", data: "ok" }, { name: "../evil", data: "evil" }], named: "../evil", reason: /"\.\." segment/ },
    { what: "a ../ entry deeper down", entries: [{ name: "Project/../../evil", data: "evil" }], named: "Project/../../evil", reason: /"\.\." segment/ },
    { what: "an absolute entry", entries: [{ name: evilEtc.slice(0), data: "evil" }], named: evilEtc, reason: /absolute path/ },
    { what: "a Windows path", entries: [{ name: "..\\evil", data: "evil" }], named: "..\\evil", reason: /backslash/ },
    { what: "a drive letter", entries: [{ name: "C:/evil", data: "evil" }], named: "C:/evil", reason: /drive letter/ },
    { what: "a NUL in a name", entries: [{ name: "Project/a\0b", data: "x" }], named: "Project/a\0b", reason: /NUL/ },
    { what: "a link that climbs out", entries: [{ name: "Attachments/srv/link", kind: "symlink", data: "../../../outside" }],
      named: "Attachments/srv/link", reason: /leads outside the restore folder/ },
    { what: "a link to an absolute path", entries: [{ name: "Attachments/srv/passwd", kind: "symlink", data: "/etc/passwd" }],
      named: "Attachments/srv/passwd", reason: /absolute path/ },
    { what: "a chain of links that climbs out", entries: [
      { name: "a/up", kind: "symlink", data: ".." }, // → the root of the restore: harmless alone
      { name: "b/l2", kind: "symlink", data: "../a/up/.." }, // lexically inside, really the restore's parent
    ], named: "b/l2", reason: /leads outside/ },
    { what: "a file written through a link", entries: [
      { name: "Attachments/dir", kind: "symlink", data: "../Project" },
      { name: "Attachments/dir/evil.txt", data: "evil" },
    ], named: "Attachments/dir/evil.txt", reason: /through the link/ },
    { what: "an entry missing from the manifest", entries: [{ name: "Project/ok.txt", data: "ok" }, { name: "Project/extra.txt", data: "x" }],
      unlisted: ["Project/extra.txt"], named: "Project/extra.txt", reason: /not in its manifest/ },
  ];

  for (const c of cases) {
    it(`is refused as a whole, naming the entry, for ${c.what}`, async () => {
      const dir = workDir();
      const file = path.join(dir, "Crafted.zip");
      writeCraftedArchive(file, c.entries, { unlisted: c.unlisted });
      const target = path.join(dir, "out/Restored");
      const err = await restoreArchive({ archivePath: file, target }).then(() => null, (e: unknown) => e as Error & { status: number });
      expect(err?.status).toBe(STATUS.ARCHIVE_CHECK_FAILED);
      expect(err?.message).toContain(`entry ${JSON.stringify(c.named)}`);
      expect(err?.message).toMatch(c.reason);
      expect(err?.message).toContain("Nothing was restored");
      // Nothing at the target, nothing beside it, nothing outside.
      expect(tree(dir)).toEqual(["Crafted.zip"]);
      expect(fs.existsSync(path.join(db.root, "evil"))).toBe(false);
      expect(fs.existsSync(evilEtc)).toBe(false);
    });
  }

  it("is refused when the manifest lists an entry the archive lacks", async () => {
    const dir = workDir();
    const file = path.join(dir, "Crafted.zip");
    const { writeRawZip, manifestFor, manifestEntry } = await import("./test-helpers");
    writeRawZip(file, [{ name: "manifest.json", data: JSON.stringify(manifestFor([manifestEntry({ name: "Project/gone.txt", data: "x" })])) }]);
    await expect(restoreArchive({ archivePath: file, target: path.join(dir, "Restored") })).rejects.toThrow(/"Project\/gone\.txt" is listed in the manifest but missing/);
    expect(tree(dir)).toEqual(["Crafted.zip"]);
  });

  it("is refused when its declared sizes exceed the free space", async () => {
    const dir = workDir();
    const file = path.join(dir, "Huge.zip");
    writeCraftedArchive(file, [{ name: "Data/data.sqlite", data: "tiny", declaredSize: 2 ** 50 }]);
    await expect(restoreArchive({ archivePath: file, target: path.join(dir, "Restored") })).rejects.toMatchObject({
      status: STATUS.BACKUP_ERROR, message: expect.stringMatching(/Not enough free space/),
    });
    expect(tree(dir)).toEqual(["Huge.zip"]);
  });

  it("restores safe links that stay inside the folder", async () => {
    const dir = workDir();
    const file = path.join(dir, "Links.zip");
    writeCraftedArchive(file, [
      { name: "Project/a.txt", data: "a" },
      { name: "Project/sub/link", kind: "symlink", data: "../a.txt" },
      { name: "Project/up", kind: "symlink", data: "sub/.." },
    ]);
    const target = path.join(dir, "Restored");
    await restoreArchive({ archivePath: file, target });
    expect(fs.readFileSync(path.join(target, "Project/sub/link"), "utf8")).toBe("a");
    expect(fs.readlinkSync(path.join(target, "Project/up"))).toBe("sub/..");
  });
});

describe("Stop", () => {
  it("during a large file leaves nothing at the target and nothing beside it", async () => {
    const t = makeTestDatabase({ rows: 10 });
    try {
      fs.writeFileSync(path.join(t.attachmentsDir, "big.bin"), crypto.randomBytes(50 << 20));
      const big = await backup(t);
      const dir = path.join(t.root, "restores");
      fs.mkdirSync(dir);
      const abort = new AbortController();
      const seen: RestoreProgress[] = [];
      const outcome = restoreArchive({
        archivePath: big, target: path.join(dir, "Restored"), signal: abort.signal,
        onProgress: (p) => {
          seen.push(p);
          if (p.currentFile?.endsWith("/big.bin") && p.bytesDone > 0) abort.abort();
        },
      });
      await expect(outcome).rejects.toMatchObject({ name: "AbortError" });
      expect(seen.some((p) => p.currentFile?.endsWith("/big.bin"))).toBe(true);
      expect(seen.at(-1)!.bytesDone).toBeLessThan(seen.at(-1)!.bytesTotal);
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      t.cleanup();
    }
  });

  it("passes on the signal's own reason (the engine's Stop)", async () => {
    const abort = new AbortController();
    const reason = Object.assign(new Error("Backup canceled by user"), { name: "DomainError", status: STATUS.CANCELED_BY_USER });
    abort.abort(reason);
    const dir = workDir();
    await expect(restoreArchive({ archivePath: archive, target: path.join(dir, "Restored"), signal: abort.signal })).rejects.toBe(reason);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe("the destination", () => {
  const forbidden = () => ({ databaseDir: db.databaseDir, home: db.home, dataFile: db.dataFile, destination: db.destination });

  it("refuses the live database folder and STRONGBOX_HOME, writing nothing", async () => {
    const before = tree(db.databaseDir);
    await expect(restoreArchive({ archivePath: archive, target: path.join(db.databaseDir, "Restored"), forbidden: forbidden() }))
      .rejects.toMatchObject({ status: STATUS.DESTINATION_INVALID, message: expect.stringMatching(/inside the live database folder/) });
    expect(tree(db.databaseDir)).toEqual(before);
    await expect(restoreArchive({ archivePath: archive, target: db.databaseDir, overwrite: true, forbidden: forbidden() }))
      .rejects.toMatchObject({ status: STATUS.DESTINATION_INVALID });
    expect(tree(db.databaseDir)).toEqual(before);
    await expect(restoreArchive({ archivePath: archive, target: path.join(db.home, "x"), forbidden: forbidden() }))
      .rejects.toMatchObject({ status: STATUS.DESTINATION_INVALID, message: expect.stringMatching(/inside STRONGBOX_HOME/) });
    expect(fs.existsSync(path.join(db.home, "x"))).toBe(false);
  });

  it("refuses a folder holding the archive itself, even with overwrite", async () => {
    await expect(restoreArchive({ archivePath: archive, target: db.destination, overwrite: true }))
      .rejects.toMatchObject({ status: STATUS.DESTINATION_INVALID, message: expect.stringMatching(/contains the archive/) });
    expect(fs.existsSync(archive)).toBe(true);
  });

  it("refuses a non-empty folder unless overwriting is confirmed, then moves the old content aside", async () => {
    const dir = workDir();
    const target = path.join(dir, "Restored");
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, "old.txt"), "previous content");
    await expect(restoreArchive({ archivePath: archive, target })).rejects.toMatchObject({
      status: STATUS.DESTINATION_INVALID, message: expect.stringMatching(/is not empty/),
    });
    expect(tree(dir)).toEqual(["Restored", path.join("Restored", "old.txt")]);

    const now = () => new Date("2026-11-26T03:00:01.500Z");
    const result = await restoreArchive({ archivePath: archive, target, overwrite: true, now });
    expect(result.replaced).toBe(`${target}.replaced-20261126T030001Z`);
    expect(fs.readFileSync(path.join(result.replaced!, "old.txt"), "utf8")).toBe("previous content");
    expect(fs.existsSync(path.join(target, "old.txt"))).toBe(false);
    expect(fs.existsSync(path.join(target, "Project/TestDb.4DProject"))).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(["Restored", "Restored.replaced-20261126T030001Z"]);
  });

  it("restores into an existing empty folder", async () => {
    const target = path.join(workDir(), "Empty");
    fs.mkdirSync(target);
    const result = await restoreArchive({ archivePath: archive, target });
    expect(result.replaced).toBeNull();
    expect(fs.existsSync(path.join(target, "Settings/Backup.4DSettings"))).toBe(true);
  });
});
