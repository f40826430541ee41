import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ZipWriter, type ZipSource, type WrittenEntry } from "./zip-writer";
import { listEntries, readEntry, verifyArchive } from "./zip-reader";

let tmp: string;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zipw-")); });
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

const sha = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");
const unzipTest = (zip: string) => execFileSync("/usr/bin/unzip", ["-tq", zip], { encoding: "utf8" });

/** Compressible text interleaved with random runs, like a database file. */
function mixed(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let off = 0, i = seed;
  while (off < size) {
    const part = i % 3 === 0 ? crypto.randomBytes(50_000) : Buffer.from(`row ${i} customer-${i % 97} amount ${(i * 7919) % 10000} status paid\n`.repeat(800));
    off += part.copy(out, off);
    i++;
  }
  return out;
}

function sourceFor(p: string, name: string): ZipSource {
  const st = fs.lstatSync(p);
  if (st.isSymbolicLink()) return { kind: "symlink", name, target: fs.readlinkSync(p), mtime: st.mtime };
  if (st.isDirectory()) return { kind: "directory", name, mtime: st.mtime, mode: st.mode };
  return { kind: "file", name, path: p, size: st.size, mtime: st.mtime, mode: st.mode };
}

/** Archives `files` (archive name → path) plus a manifest, the way the backup engine does. */
async function archive(out: string, files: Array<[string, string]>, opts: Partial<ConstructorParameters<typeof ZipWriter>[1]> = {}) {
  const w = new ZipWriter(out, { level: 1, ...opts });
  for (const [name, p] of files) await w.add(sourceFor(p, name));
  const entries = await w.flushEntries();
  await w.add({ kind: "buffer", name: "manifest.json", data: Buffer.from(JSON.stringify(entries)), mtime: new Date() });
  const result = await w.finish();
  return { entries, result };
}

const expectedOf = (entries: WrittenEntry[]) => entries.filter((e) => e.kind !== "directory");

describe("ZipWriter round trip", () => {
  let src: string;
  const files: Array<[string, string]> = [];
  beforeAll(() => {
    src = path.join(tmp, "src");
    fs.mkdirSync(path.join(src, "sub/deeper"), { recursive: true });
    fs.writeFileSync(path.join(src, "text.txt"), "hello strongbox\n".repeat(5000));
    fs.writeFileSync(path.join(src, "random.jpg"), crypto.randomBytes(300_000));
    fs.writeFileSync(path.join(src, "empty"), "");
    fs.writeFileSync(path.join(src, "sub/deeper/é ünïcode.json"), JSON.stringify({ a: [1, 2, 3], b: "x".repeat(10_000) }));
    fs.writeFileSync(path.join(src, "tiny"), "x");
    fs.writeFileSync(path.join(src, "mixed.bin"), mixed(3_500_000));
    fs.chmodSync(path.join(src, "tiny"), 0o755);
    files.push(["sub/", path.join(src, "sub")], ["sub/deeper/", path.join(src, "sub/deeper")]);
    for (const f of ["text.txt", "random.jpg", "empty", "sub/deeper/é ünïcode.json", "tiny", "mixed.bin"]) files.push([f, path.join(src, f)]);
  });

  for (const level of [0, 1, 6] as const) {
    it(`level ${level}: unzip -t, unzip and yauzl give the same bytes`, async () => {
      const out = path.join(tmp, `rt${level}.zip`);
      const { entries, result } = await archive(out, files, { level });
      expect(result.archiveSize).toBe(fs.statSync(out).size);
      expect(result.archiveSha256).toBe(sha(fs.readFileSync(out)));
      expect(entries.map((e) => e.name)).toEqual(files.map(([n]) => n));
      expect(unzipTest(out)).toContain("No errors");
      const dest = path.join(tmp, `rt${level}`);
      execFileSync("/usr/bin/unzip", ["-q", out, "-d", dest]);
      for (const [name, p] of files) {
        if (name.endsWith("/")) { expect(fs.statSync(path.join(dest, name)).isDirectory()).toBe(true); continue; }
        const original = fs.readFileSync(p);
        expect(fs.readFileSync(path.join(dest, name)).equals(original)).toBe(true);
        expect((await readEntry(out, name)).equals(original)).toBe(true);
        expect(entries.find((e) => e.name === name)!.sha256).toBe(sha(original));
      }
      expect(fs.statSync(path.join(dest, "tiny")).mode & 0o777).toBe(0o755);
      expect(JSON.parse((await readEntry(out, "manifest.json")).toString())).toEqual(entries);
      expect(await verifyArchive(out, expectedOf(entries))).toEqual({ ok: true });
      if (level > 0) {
        expect(entries.find((e) => e.name === "text.txt")!.compressedSize).toBeLessThan(2000);
        expect(entries.find((e) => e.name === "random.jpg")!.compressedSize).toBe(300_000); // stored
      }
    });
  }

  it("records the UTC mtime and a DOS time", async () => {
    const out = path.join(tmp, "time.zip");
    const mtime = new Date("2024-03-05T10:20:30Z");
    const w = new ZipWriter(out, { level: 1 });
    await w.add({ kind: "buffer", name: "a.txt", data: Buffer.from("a"), mtime });
    await w.finish();
    const zinfo = execFileSync("/usr/bin/unzip", ["-Z", "-v", out], { encoding: "utf8" });
    expect(zinfo).toMatch(/2024 Mar +0?5 10:20:30 UTC/);
    const [e] = await listEntries(out);
    expect(Math.abs(e!.mtime.getTime() - mtime.getTime())).toBeLessThanOrEqual(2000);
  });
});

describe("ZipWriter large and unusual entries", () => {
  it("splits a large file into parallel chunks that restore byte for byte", async () => {
    const big = path.join(tmp, "big.bin");
    const data = mixed(20 * 1024 * 1024 + 12345, 7);
    fs.writeFileSync(big, data);
    for (const level of [1, 6, 0] as const) {
      const out = path.join(tmp, `big${level}.zip`);
      const { entries } = await archive(out, [["Data/data.sqlite", big]], { level, chunkSize: 1 << 20 });
      expect(entries[0]).toMatchObject({ name: "Data/data.sqlite", size: data.length, sha256: sha(data) });
      if (level) expect(entries[0]!.compressedSize).toBeLessThan(data.length * 0.6);
      expect(unzipTest(out)).toContain("No errors");
      expect((await readEntry(out, "Data/data.sqlite")).equals(data)).toBe(true);
      expect(await verifyArchive(out, expectedOf(entries))).toEqual({ ok: true });
    }
  });

  it("chunked deflate stays within 1% of a single zlib stream", async () => {
    const data = mixed(8 * 1024 * 1024, 3);
    const out = path.join(tmp, "ratio.zip");
    const w = new ZipWriter(out, { level: 6, chunkSize: 1 << 20 });
    await w.add({ kind: "buffer", name: "x", data, mtime: new Date() });
    const { entries } = await w.finish();
    const single = (await import("node:zlib")).deflateRawSync(data, { level: 6 }).length;
    expect(entries[0]!.compressedSize).toBeLessThan(single * 1.01);
  });

  it("never writes through a link at its output path: refused, nothing queued left unhandled, the target untouched", async () => {
    const target = path.join(tmp, "precious.txt");
    fs.writeFileSync(target, "precious");
    const out = path.join(tmp, "planted.zip.tmp");
    fs.symlinkSync(target, out);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    const small = path.join(tmp, "small-for-planted.txt");
    fs.writeFileSync(small, "x".repeat(1000));
    await expect(archive(out, [["a.txt", small], ["b.txt", small]])).rejects.toThrow(/symbolic link/);
    await new Promise((r) => setImmediate(r)); // unhandled rejections are reported once the microtasks have run
    process.off("unhandledRejection", onUnhandled);
    expect(unhandled).toEqual([]);
    expect(fs.readFileSync(target, "utf8")).toBe("precious");
  });

  it("records a symbolic link as a link and never follows it", async () => {
    const dir = path.join(tmp, "links");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "target.txt"), "t".repeat(100_000));
    fs.symlinkSync("target.txt", path.join(dir, "link"));
    fs.symlinkSync("/etc", path.join(dir, "dirlink"));
    const out = path.join(tmp, "links.zip");
    const { entries } = await archive(out, [["link", path.join(dir, "link")], ["dirlink", path.join(dir, "dirlink")]]);
    expect(entries.map((e) => [e.name, e.kind, e.size])).toEqual([["link", "symlink", 10], ["dirlink", "symlink", 4]]);
    const listed = await listEntries(out);
    expect(listed.find((e) => e.name === "link")).toMatchObject({ kind: "symlink", size: 10 });
    expect(execFileSync("/usr/bin/unzip", ["-Z", out], { encoding: "utf8" })).toMatch(/^lrwxrwxrwx .* link$/m);
    expect((await readEntry(out, "link")).toString()).toBe("target.txt");
    const dest = path.join(tmp, "links-out");
    execFileSync("/usr/bin/unzip", ["-q", out, "-d", dest]);
    expect(fs.readlinkSync(path.join(dest, "link"))).toBe("target.txt");
    expect(unzipTest(out)).toContain("No errors");
  });

  it("archives an empty file", async () => {
    const p = path.join(tmp, "empty-only");
    fs.writeFileSync(p, "");
    const out = path.join(tmp, "empty.zip");
    const { entries } = await archive(out, [["empty", p]], { level: 6 });
    expect(entries[0]).toMatchObject({ size: 0, compressedSize: 0, sha256: sha(Buffer.alloc(0)) });
    expect(unzipTest(out)).toContain("No errors");
    expect((await readEntry(out, "empty")).length).toBe(0);
  });

  it("archives what is actually read when files change size, and skips vanished files", async () => {
    const dir = path.join(tmp, "changing");
    fs.mkdirSync(dir, { recursive: true });
    const grewSmall = Buffer.from("g".repeat(5000)), shrank = mixed(3_000_000, 5), grewBig = mixed(3_000_000, 9);
    fs.writeFileSync(path.join(dir, "grew-small"), grewSmall);
    fs.writeFileSync(path.join(dir, "shrank"), shrank);
    fs.writeFileSync(path.join(dir, "grew-big"), grewBig);
    const out = path.join(tmp, "changing.zip");
    const w = new ZipWriter(out, { level: 1, chunkSize: 1 << 20 });
    const file = (name: string, size: number): ZipSource => ({ kind: "file", name, path: path.join(dir, name), size, mtime: new Date(), mode: 0o644 });
    await w.add(file("grew-small", 10)); // listed tiny, now 5000 bytes
    await w.add(file("shrank", 5_000_000)); // listed as 5 MB, now 3 MB
    await w.add(file("grew-big", 100)); // listed tiny, now several chunks
    await w.add(file("vanished", 100));
    const { entries, skipped } = await w.finish();
    expect(entries.map((e) => [e.name, e.size, e.sha256])).toEqual([
      ["grew-small", 5000, sha(grewSmall)], ["shrank", shrank.length, sha(shrank)], ["grew-big", grewBig.length, sha(grewBig)],
    ]);
    expect(skipped).toEqual([expect.objectContaining({ name: "vanished", error: expect.stringContaining("ENOENT") })]);
    expect(unzipTest(out)).toContain("No errors");
    expect(await verifyArchive(out, entries)).toEqual({ ok: true });
  });

  it("skips a file replaced by a FIFO since the listing, small or large, instead of archiving it empty", async () => {
    const dir = path.join(tmp, "fifos");
    fs.mkdirSync(dir, { recursive: true });
    for (const n of ["small", "large"]) execFileSync("mkfifo", [path.join(dir, n)]);
    const out = path.join(tmp, "fifos.zip");
    const w = new ZipWriter(out, { level: 1, chunkSize: 1 << 20 });
    const file = (name: string, size: number): ZipSource => ({ kind: "file", name, path: path.join(dir, name), size, mtime: new Date(), mode: 0o644 });
    await w.add(file("small", 10)); // read by a worker, whole
    await w.add(file("large", 5_000_000)); // listed large: streamed
    const { entries, skipped } = await w.finish();
    expect(entries).toEqual([]);
    expect(skipped.map((s) => [s.name, s.error])).toEqual([["small", expect.stringContaining("ENOTREG")], ["large", expect.stringContaining("ENOTREG")]]);
  });

  it("rejects unsafe names", async () => {
    const w = new ZipWriter(path.join(tmp, "names.zip"), { level: 1 });
    for (const name of ["/abs", "a/../b", "", "a/"]) {
      await expect(w.add({ kind: "buffer", name, data: Buffer.from("x"), mtime: new Date() })).rejects.toThrow(/name/);
    }
    await w.finish();
  });
});

describe("ZipWriter stop", () => {
  it("an abort in the middle of a large file rejects with AbortError and stops reading", async () => {
    const big = path.join(tmp, "abort.bin");
    const size = 48 * 1024 * 1024;
    fs.writeFileSync(big, mixed(size, 11));
    const out = path.join(tmp, "abort.zip");
    const ac = new AbortController();
    const seen: number[] = [];
    const w = new ZipWriter(out, {
      level: 6, signal: ac.signal,
      onProgress: (p) => { seen.push(p.bytesDone); if (p.bytesDone >= 4 << 20) ac.abort(); },
    });
    await w.add(sourceFor(big, "big.bin")).catch(() => {});
    const err = await w.finish().then(() => undefined, (e: unknown) => e as Error);
    expect(err?.name).toBe("AbortError");
    expect(seen.at(-1)!).toBeGreaterThanOrEqual(4 << 20);
    expect(seen.at(-1)!).toBeLessThan(size);
    // The output is closed (the caller deletes it) and nothing holds the source open.
    const open = fs.readdirSync("/proc/self/fd").map((fd) => { try { return fs.readlinkSync(`/proc/self/fd/${fd}`); } catch { return ""; } });
    expect(open).not.toContain(out);
    expect(open).not.toContain(big);
    await expect(w.add({ kind: "buffer", name: "late", data: Buffer.from("x"), mtime: new Date() })).rejects.toMatchObject({ name: "AbortError" });
  });

  it("an abort while batches of small files wait to be written leaves no rejection unhandled", async () => {
    const dir = path.join(tmp, "many");
    fs.mkdirSync(dir);
    const files: Array<[string, string]> = [];
    for (let i = 0; i < 1500; i++) {
      const p = path.join(dir, `f${i}.txt`);
      fs.writeFileSync(p, mixed(8_000, i));
      files.push([`many/f${i}.txt`, p]);
    }
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const ac = new AbortController();
      // The writer crawls (one entry per turn of the event loop) while the dispatcher hands batches to the one
      // worker, which holds two: the others wait in the pool's queue when the abort comes.
      const w = new ZipWriter(path.join(tmp, "many.zip"), {
        level: 6, workers: 1, signal: ac.signal, pace: () => new Promise((r) => setImmediate(r)),
        onProgress: (p) => { if (p.filesDone === 3) ac.abort(); },
      });
      for (const [name, p] of files) await w.add(sourceFor(p, name)).catch(() => {});
      await expect(w.finish()).rejects.toMatchObject({ name: "AbortError" });
      // Rejections nobody handles are reported once the microtasks of a turn have run.
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("an already aborted signal fails at once", async () => {
    const w = new ZipWriter(path.join(tmp, "pre.zip"), { level: 1, signal: AbortSignal.abort() });
    await expect(w.finish()).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("verifyArchive", () => {
  let out: string;
  let entries: WrittenEntry[];
  beforeAll(async () => {
    const dir = path.join(tmp, "ver");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "stored.jpg"), crypto.randomBytes(200_000));
    fs.writeFileSync(path.join(dir, "text.txt"), "verify me please\n".repeat(20_000));
    fs.writeFileSync(path.join(dir, "big.bin"), mixed(3_000_000, 2));
    out = path.join(tmp, "ver.zip");
    ({ entries } = await archive(out, ["stored.jpg", "text.txt", "big.bin"].map((n) => [n, path.join(dir, n)] as [string, string])));
  });

  const flipped = async (name: string) => {
    const copy = path.join(tmp, `flip-${name}.zip`);
    fs.copyFileSync(out, copy);
    const [e] = (await listEntries(copy)).filter((x) => x.name === name);
    const raw = fs.readFileSync(copy);
    // Find the entry's data through its local header (offset from a name search is enough here).
    const at = raw.indexOf(Buffer.from(name)) + name.length + 30 + Math.floor(e!.compressedSize / 2);
    raw[at] ^= 0xff;
    fs.writeFileSync(copy, raw);
    return copy;
  };

  it("accepts the archive as written", async () => {
    expect(await verifyArchive(out, expectedOf(entries))).toEqual({ ok: true });
  });

  for (const name of ["stored.jpg", "text.txt", "big.bin"]) {
    it(`detects a flipped byte in ${name}`, async () => {
      const r = await verifyArchive(await flipped(name), expectedOf(entries));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problems.join("\n")).toContain(name);
      if (!r.ok) expect(r.problems.every((p) => p.startsWith(name))).toBe(true);
    });
  }

  it("detects missing and unexpected entries", async () => {
    const expected = expectedOf(entries).filter((e) => e.name !== "text.txt").concat({ ...entries[0]!, name: "gone.txt" });
    const r = await verifyArchive(out, expected);
    expect(r).toEqual({ ok: false, problems: expect.arrayContaining(["text.txt: unexpected entry", "gone.txt: missing"]) });
  });

  it("reports an unreadable archive instead of throwing", async () => {
    const bad = path.join(tmp, "bad.zip");
    fs.writeFileSync(bad, "not a zip at all");
    const r = await verifyArchive(bad, expectedOf(entries));
    expect(r.ok).toBe(false);
  });
});

describe("ZIP64", () => {
  it("writes zip64 records when forced (sizes, offsets, end records) and readers accept them", async () => {
    const dir = path.join(tmp, "z64");
    fs.mkdirSync(dir, { recursive: true });
    const big = mixed(2_500_000, 4);
    fs.writeFileSync(path.join(dir, "big"), big);
    fs.writeFileSync(path.join(dir, "small"), "small file\n".repeat(100));
    const out = path.join(tmp, "forced64.zip");
    const { entries } = await archive(out, [["big", path.join(dir, "big")], ["small", path.join(dir, "small")]], { forceZip64: true, chunkSize: 1 << 20 });
    expect(unzipTest(out)).toContain("No errors");
    expect(execFileSync("/usr/bin/unzip", ["-Z", "-v", out], { encoding: "utf8" })).toContain("4.5");
    expect((await readEntry(out, "big")).equals(big)).toBe(true);
    expect(await verifyArchive(out, expectedOf(entries))).toEqual({ ok: true });
  });

  it("switches to zip64 end records beyond 65,535 entries", { timeout: 120_000 }, async () => {
    const out = path.join(tmp, "many.zip");
    const w = new ZipWriter(out, { level: 1 });
    const n = 70_000;
    const data = Buffer.from("x");
    for (let i = 0; i < n; i++) await w.add({ kind: "buffer", name: `d${i % 100}/f${i}`, data, mtime: new Date(0) });
    const { entries } = await w.finish();
    expect(entries.length).toBe(n);
    expect(unzipTest(out)).toContain("No errors");
    expect((await listEntries(out)).length).toBe(n);
    const tail = fs.readFileSync(out).subarray(-98);
    expect(tail.readUInt32LE(0)).toBe(0x06064b50); // zip64 end of central directory record
  });
});
