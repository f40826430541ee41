// Reading archives back with yauzl: listing, reading one entry, and verifying against the manifest.
import crypto from "node:crypto";
import yauzl from "yauzl";

export interface ListedEntry {
  name: string;
  kind: "file" | "directory" | "symlink";
  size: number;
  compressedSize: number;
  crc32: number;
  mode: number;
  mtime: Date;
}
export interface ExpectedEntry { name: string; size: number; sha256: string }
export type VerifyResult = { ok: true } | { ok: false; problems: string[] };
export interface VerifyOptions {
  signal?: AbortSignal;
  onProgress?: (p: { bytesDone: number; filesDone: number; currentName: string }) => void;
  /** Entries inflated and hashed at once. Default 4. */
  concurrency?: number;
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true, strictFileNames: false }, (err, zip) => (err ? reject(err) : resolve(zip))),
  );
}

function describe(e: yauzl.Entry): ListedEntry {
  const unixMode = (e.versionMadeBy >> 8) === 3 ? e.externalFileAttributes >>> 16 : 0;
  const type = unixMode & 0o170000;
  const kind = type === 0o120000 ? "symlink" : type === 0o040000 || e.fileName.endsWith("/") ? "directory" : "file";
  return { name: e.fileName, kind, size: e.uncompressedSize, compressedSize: e.compressedSize, crc32: e.crc32, mode: unixMode & 0o7777, mtime: e.getLastModDate() };
}

/** Calls `onEntry` for each central directory entry, in order; waits for it before reading the next. */
async function eachEntry(zip: yauzl.ZipFile, onEntry: (e: yauzl.Entry) => Promise<void> | void): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    zip.on("error", reject);
    zip.on("end", () => resolve());
    zip.on("entry", (e: yauzl.Entry) => {
      Promise.resolve(onEntry(e)).then(() => zip.readEntry(), reject);
    });
    zip.readEntry();
  });
}

export async function listEntries(path: string): Promise<ListedEntry[]> {
  const zip = await openZip(path);
  const out: ListedEntry[] = [];
  try {
    await eachEntry(zip, (e) => { out.push(describe(e)); });
  } finally {
    zip.close();
  }
  return out;
}

function openStream(zip: yauzl.ZipFile, e: yauzl.Entry): Promise<NodeJS.ReadableStream & { destroy(err?: Error): void }> {
  return new Promise((resolve, reject) => zip.openReadStream(e, (err, s) => (err ? reject(err) : resolve(s))));
}

/** The uncompressed content of entry `name` (e.g. `manifest.json`). */
export async function readEntry(path: string, name: string): Promise<Buffer> {
  const zip = await openZip(path);
  let found: Buffer | undefined;
  try {
    await eachEntry(zip, async (e) => {
      if (found || e.fileName !== name) return;
      const parts: Buffer[] = [];
      for await (const b of await openStream(zip, e)) parts.push(b as Buffer);
      found = Buffer.concat(parts);
    });
  } finally {
    zip.close();
  }
  if (!found) throw new Error(`${name}: not in the archive`);
  return found;
}

function abortError(reason: unknown): Error {
  const e = new Error("Verification was stopped", { cause: reason });
  e.name = "AbortError";
  return e;
}

/**
 * Reads every entry back and checks it against `expected` (size and SHA-256). Any other
 * non-directory entry than those and `manifest.json` is a problem too. Rejects only on abort.
 */
export async function verifyArchive(path: string, expected: ExpectedEntry[], opts: VerifyOptions = {}): Promise<VerifyResult> {
  const problems: string[] = [];
  const wanted = new Map(expected.map((e) => [e.name, e]));
  const seen = new Set<string>();
  const active = new Set<Promise<void>>();
  const streams = new Set<{ destroy(err?: Error): void }>();
  const limit = opts.concurrency ?? 4;
  let bytesDone = 0, filesDone = 0;
  const signal = opts.signal;
  if (signal?.aborted) throw abortError(signal.reason);
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(path);
  } catch (e) {
    return { ok: false, problems: [`archive unreadable: ${(e as Error).message}`] };
  }
  const onAbort = () => { for (const s of streams) s.destroy(abortError(signal?.reason)); };
  signal?.addEventListener("abort", onAbort, { once: true });

  const check = async (e: yauzl.Entry, want: ExpectedEntry) => {
    const hash = crypto.createHash("sha256");
    let size = 0;
    try {
      const stream = await openStream(zip, e);
      streams.add(stream);
      try {
        for await (const b of stream) {
          hash.update(b as Buffer);
          size += (b as Buffer).length;
          bytesDone += (b as Buffer).length;
          opts.onProgress?.({ bytesDone, filesDone, currentName: e.fileName });
        }
      } finally {
        streams.delete(stream);
      }
    } catch (err) {
      if (signal?.aborted) throw abortError(signal.reason);
      problems.push(`${e.fileName}: unreadable (${(err as Error).message})`);
      return;
    }
    filesDone++;
    if (size !== want.size) problems.push(`${e.fileName}: size ${size}, expected ${want.size}`);
    else if (hash.digest("hex") !== want.sha256) problems.push(`${e.fileName}: SHA-256 mismatch`);
  };

  try {
    await eachEntry(zip, async (e) => {
      if (signal?.aborted) throw abortError(signal.reason);
      const name = e.fileName;
      const want = wanted.get(name);
      if (seen.has(name)) problems.push(`${name}: duplicate entry`);
      seen.add(name);
      if (!want) {
        if (!name.endsWith("/") && name !== "manifest.json") problems.push(`${name}: unexpected entry`);
        return;
      }
      const task = check(e, want);
      active.add(task);
      task.finally(() => active.delete(task)).catch(() => {});
      while (active.size >= limit) await Promise.race(active);
    });
    await Promise.all(active);
  } catch (err) {
    await Promise.allSettled(active);
    if (signal?.aborted) throw abortError(signal.reason);
    problems.push(`archive unreadable: ${(err as Error).message}`);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    zip.close();
  }
  for (const name of wanted.keys()) if (!seen.has(name)) problems.push(`${name}: missing`);
  return problems.length ? { ok: false, problems } : { ok: true };
}
