// An archive's contents as the Restore page groups them, a missing or garbled manifest, and "Verify" on real
// archives: a clean one passes, a flipped bit is named.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import { openOperations } from "../../test/helpers/operations";
import { STATUS } from "../isomorphic/status";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";
import { partOf, readArchiveContents, selectParts } from "./contents";
import { verifyArchiveFile, type VerifyProgress } from "../restore/verify-archive";
import { entryDataSpan, flipBit, manifestEntry, manifestFor, writeCraftedArchive, writeRawZip } from "../restore/test-helpers";

let db: TestDatabase;
let archive: string;
let n = 0;
const fresh = (name: string) => {
  const dir = path.join(db.root, `case-${++n}`);
  fs.mkdirSync(dir);
  return path.join(dir, name);
};

beforeAll(async () => {
  db = makeTestDatabase();
  const missing = path.join(db.root, "nowhere/missing.pdf");
  db.writeSettings({ attachments: [db.attachmentsDir, missing] });
  const engine = openOperations(db, { consoleDb: openConsoleDb(path.join(db.home, "console.sqlite")) });
  const outcome = await engine.backup().done;
  expect(outcome.partial).toBe(true);
  archive = outcome.archivePath!;
});
afterAll(() => db?.cleanup());

describe("readArchiveContents", () => {
  it("groups the manifest into structure, data file, data settings and attachments, with counts and bytes", async () => {
    const c = await readArchiveContents(archive);
    expect(c.archiveSize).toBe(fs.statSync(archive).size);
    expect(c.manifest.backupNumber).toBe(1);
    const entries = c.manifest.entries;
    const sum = (pred: (p: string) => boolean) => entries.filter((e) => pred(e.path)).reduce((s, e) => s + e.size, 0);
    const count = (pred: (p: string) => boolean) => entries.filter((e) => pred(e.path)).length;

    const structure = (p: string) => p.startsWith("Project/") || p.startsWith("Settings/");
    expect(c.structure).toEqual({ entries: count(structure), files: count(structure) - 1 /* Project/Empty/ */, bytes: sum(structure) });
    expect(c.structure.files).toBe(22); // 20 methods, the project file and Backup.4DSettings
    expect(c.dataFile).toEqual({ entries: 1, files: 1, bytes: entries.find((e) => e.path === "Data/data.sqlite")!.size });
    expect(c.dataSettings).toEqual({ entries: 1, files: 1, bytes: 2 });
    expect(c.attachments).toEqual([
      { path: db.attachmentsDir, found: true, entries: 3, files: 3,
        bytes: fs.statSync(path.join(db.attachmentsDir, "notes.txt")).size + 200_000 + "notes.txt".length },
      { path: path.join(db.root, "nowhere/missing.pdf"), found: false, entries: 0, files: 0, bytes: 0 },
    ]);
    expect(c.other).toEqual({ entries: 0, files: 0, bytes: 0 });
    expect(c.total).toEqual({ entries: entries.length, files: entries.length - 1, bytes: sum(() => true) });
  });

  it("says clearly when the manifest is missing, not JSON, the wrong shape, or from a newer Strongbox", async () => {
    const noManifest = fresh("NoManifest.zip");
    writeRawZip(noManifest, [{ name: "Project/a.txt", data: "a" }]);
    await expect(readArchiveContents(noManifest)).rejects.toMatchObject({
      status: STATUS.ARCHIVE_CHECK_FAILED, message: expect.stringMatching(/NoManifest\.zip can't be used: it has no manifest\.json/),
    });
    const garbled = fresh("Garbled.zip");
    writeRawZip(garbled, [{ name: "manifest.json", data: "{ not json" }]);
    await expect(readArchiveContents(garbled)).rejects.toThrow(/manifest\.json is not valid JSON/);
    const shape = fresh("Shape.zip");
    const bad = manifestFor([{ ...manifestEntry({ name: "a", data: "a" }), sha256: "nope" }]);
    writeRawZip(shape, [{ name: "manifest.json", data: JSON.stringify(bad) }]);
    await expect(readArchiveContents(shape)).rejects.toThrow(/not a valid Strongbox manifest \(entries\.0\.sha256: not a SHA-256 digest\)/);
    const newer = fresh("Newer.zip");
    writeRawZip(newer, [{ name: "manifest.json", data: JSON.stringify(manifestFor([], { format: 2 })) }]);
    await expect(readArchiveContents(newer)).rejects.toThrow(/format: made by a newer Strongbox/);
  });

  it("says clearly when the file is not a ZIP, or missing", async () => {
    const text = fresh("Text.zip");
    fs.writeFileSync(text, "hello, not a zip");
    await expect(readArchiveContents(text)).rejects.toMatchObject({ status: STATUS.ARCHIVE_CHECK_FAILED, message: expect.stringMatching(/not a readable ZIP archive/) });
    await expect(readArchiveContents(path.join(db.root, "gone.zip"))).rejects.toThrow(/gone\.zip does not exist/);
  });

  it("reads a crafted archive's manifest without writing anything (the restore is what refuses it)", async () => {
    const file = fresh("Crafted.zip");
    writeCraftedArchive(file, [{ name: "../evil", data: "x" }]);
    const c = await readArchiveContents(file);
    expect(c.other.entries).toBe(1);
  });
});

describe("selectParts and partOf", () => {
  it("select by the Restore page's check boxes, attachments by their original path", async () => {
    const { manifest } = await readArchiveContents(archive);
    const paths = (sel: Parameters<typeof selectParts>[1]) => manifest.entries.filter(selectParts(manifest, sel)).map((e) => e.path);
    expect(paths({ dataFile: true })).toEqual(["Data/data.sqlite"]);
    expect(paths({ attachments: [db.attachmentsDir] }).every((p) => p.startsWith("Attachments/"))).toBe(true);
    expect(paths({ attachments: [db.attachmentsDir] })).toHaveLength(3);
    expect(paths({ attachments: true })).toHaveLength(3);
    expect(paths({ attachments: ["/elsewhere"] })).toEqual([]);
    expect(paths({ structure: true, dataFile: true, dataSettings: true, attachments: true })).toHaveLength(manifest.entries.length);
  });

  it("gives an entry to the longest matching attachment root, and not to a root that is only a name prefix", () => {
    expect(partOf({ path: "Attachments/srv/files/a/b.txt" }, ["/srv/files", "/srv/files/a"])).toEqual({ part: "attachment", attachment: "/srv/files/a" });
    expect(partOf({ path: "Attachments/srv/files2/x" }, ["/srv/files"])).toEqual({ part: "other" });
    expect(partOf({ path: "Attachments/srv/files" }, ["/srv/files"])).toEqual({ part: "attachment", attachment: "/srv/files" });
    expect(partOf({ path: "Data/Settings/x.json" }, [])).toEqual({ part: "dataSettings" });
    expect(partOf({ path: "Data/data.sqlite-wal" }, [])).toEqual({ part: "other" });
  });
});

describe("verifyArchiveFile", () => {
  it("passes a sound archive, reporting every entry and byte, with progress up to the totals", async () => {
    const progress: VerifyProgress[] = [];
    const report = await verifyArchiveFile(archive, { onProgress: (p) => progress.push(p) });
    const { manifest } = await readArchiveContents(archive);
    expect(report).toEqual({ ok: true, problems: [], entries: manifest.entries.length, bytes: manifest.entries.reduce((s, e) => s + e.size, 0) });
    expect(progress.at(-1)).toMatchObject({ bytesDone: report.bytes, bytesTotal: report.bytes, filesDone: report.entries, filesTotal: report.entries });
  });

  it("names the entry where a bit flipped", async () => {
    const copy = fresh("Damaged.zip");
    fs.copyFileSync(archive, copy);
    const span = await entryDataSpan(copy, "Data/data.sqlite");
    flipBit(copy, span.offset + Math.floor(span.length / 3));
    const report = await verifyArchiveFile(copy);
    expect(report.ok).toBe(false);
    expect(report.problems.join("\n")).toMatch(/^Data\/data\.sqlite: /m);
  });

  it("reports a missing manifest, a crafted name and a non-ZIP as problems", async () => {
    const noManifest = fresh("NoManifest.zip");
    writeRawZip(noManifest, [{ name: "Project/a.txt", data: "a" }]);
    expect((await verifyArchiveFile(noManifest)).problems).toEqual([expect.stringMatching(/no manifest\.json/)]);
    const crafted = fresh("Crafted.zip");
    writeCraftedArchive(crafted, [{ name: "../evil", data: "x" }]);
    const r = await verifyArchiveFile(crafted);
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatch(/^\.\.\/evil: has a "\.\." segment/);
    const text = fresh("Text.zip");
    fs.writeFileSync(text, "not a zip");
    expect((await verifyArchiveFile(text)).problems).toEqual([expect.stringMatching(/not a readable ZIP archive/)]);
  });

  it("stops on the signal", async () => {
    const abort = new AbortController();
    abort.abort();
    await expect(verifyArchiveFile(archive, { signal: abort.signal })).rejects.toMatchObject({ name: "AbortError" });
  });
});
