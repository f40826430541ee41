// Downloads of the backup journal (docs/console.md): one file exactly as it is on disk, or every file as one ZIP streamed
// by archiver. A file is named by its number only and found in the Logs folder's listing: nothing from a request
// is ever joined to a path. Answers are web-standard Responses so the route handlers stay a few lines.
import type { FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import { isUnsafeFileError, openNoFollow } from "../fs/safe-open";
import { ZipArchive } from "archiver";
import { BackupJournal, formatLocalTime, type JournalFile } from "./backup-journal";

/** What a URL may say for a file: its number, 1 to 3 digits (4D numbers journals [001]…[999]). */
const NUMBER_PARAM = /^\d{1,3}$/;
/** Bytes read at a time when streaming one file. */
const READ_BYTES = 64 * 1024;

function textResponse(status: number, text: string): Response {
  return new Response(text + "\n", { status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });
}

/**
 * `Content-Disposition` for a download: a plain `filename` for old clients (anything outside printable ASCII, and
 * quotes and backslashes, replaced) and the exact name as RFC 5987/6266 `filename*`.
 */
export function attachmentDisposition(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\]/g, "_");
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** The listed journal file a URL parameter names, or the error response to send. */
export async function journalFileFor(logsDir: string, param: string): Promise<JournalFile | Response> {
  if (!NUMBER_PARAM.test(param) || Number(param) < 1) {
    return textResponse(400, "A journal file is named by its number, from 1 to 999 (e.g. /api/journal/1 for Backup Journal[001].txt).");
  }
  const number = Number(param);
  const file = (await new BackupJournal(logsDir).list()).find((f) => f.number === number);
  return file ?? textResponse(404, `There is no journal file number ${number} in the Logs folder.`);
}

/** A web stream of the first `size` bytes of an open file; the file is closed at the end or on cancel. */
function fileStream(fh: FileHandle, size: number): ReadableStream<Uint8Array> {
  let pos = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const buf = Buffer.alloc(Math.min(READ_BYTES, size - pos));
        const { bytesRead } = buf.length ? await fh.read(buf, 0, buf.length, pos) : { bytesRead: 0 };
        pos += bytesRead;
        if (bytesRead > 0) controller.enqueue(new Uint8Array(buf.buffer, buf.byteOffset, bytesRead));
        // Stop at the size announced (a block appended meanwhile waits for the next download) or at a shrink.
        if (bytesRead === 0 || pos >= size) {
          controller.close();
          await fh.close();
        }
      } catch (err) {
        controller.error(err);
        await fh.close().catch(() => undefined);
      }
    },
    async cancel() {
      await fh.close().catch(() => undefined);
    },
  });
}

/**
 * One journal file as it is on disk (`GET /api/journal/<number>`): the bytes of the file as it was when the
 * request came, with its own name. A symbolic link planted under a journal's name is refused, not followed.
 */
export async function journalFileDownload(logsDir: string, param: string): Promise<Response> {
  const found = await journalFileFor(logsDir, param);
  if (found instanceof Response) return found;
  let fh: FileHandle;
  try {
    fh = await openNoFollow(found.path, "read");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return textResponse(404, `The journal file ${found.name} is no longer in the Logs folder.`);
    if (isUnsafeFileError(err)) return textResponse(404, `${found.name} is no longer a journal file: it ${err.reason}`);
    throw err;
  }
  const st = await fh.stat();
  return new Response(fileStream(fh, st.size), {
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "content-length": String(st.size),
      "content-disposition": attachmentDisposition(found.name),
      "last-modified": st.mtime.toUTCString(),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}

/**
 * A file's content, opened only when archiver comes to it (one file open at a time) and without following a link:
 * a link or FIFO planted under the name since the listing ends the download instead of being read.
 */
function noFollowStream(file: string): Readable {
  let fh: FileHandle | null = null;
  let pos = 0;
  return new Readable({
    highWaterMark: READ_BYTES,
    read() {
      (async () => {
        fh ??= await openNoFollow(file, "read");
        const buf = Buffer.allocUnsafe(READ_BYTES);
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        pos += bytesRead;
        this.push(bytesRead ? buf.subarray(0, bytesRead) : null);
      })().catch((err: Error) => this.destroy(err));
    },
    destroy(err, cb) {
      const closing = fh ? fh.close() : Promise.resolve();
      fh = null;
      closing.then(() => cb(err), () => cb(err));
    },
  });
}

/** `Demo Backup Journals 2026-11-26.zip`: the database's name (already cleaned) and the server's local date. */
export function allJournalsFileName(databaseName: string, now: Date, timeZone?: string): string {
  return `${databaseName} Backup Journals ${formatLocalTime(now, timeZone).slice(0, 10)}.zip`;
}

/**
 * Every journal file as one ZIP (`GET /api/journal/all`), streamed as archiver writes it: nothing is staged on
 * disk or held whole in memory. Entries are the files' own names at the ZIP's root, with their times.
 */
export async function allJournalsDownload(logsDir: string, opts: { databaseName: string; now: Date; timeZone?: string }): Promise<Response> {
  // Only regular files are listed: a link under a journal's name is left out.
  const regular = await new BackupJournal(logsDir).list();
  if (regular.length === 0) return textResponse(404, "There is no backup journal yet: one is written when the first backup ends.");

  const archive = new ZipArchive({ zlib: { level: 6 } });
  archive.on("warning", (err) => {
    // A file removed between the listing and its turn (a wrap replaced it) is skipped; anything else ends the download.
    if (err.code !== "ENOENT") archive.destroy(err);
  });
  archive.on("error", (err) => archive.destroy(err));
  for (const f of regular) archive.append(noFollowStream(f.path), { name: f.name, date: f.mtime });
  // Not awaited: finalize resolves once everything has been read, which needs the client to be reading.
  archive.finalize().catch((err: Error) => archive.destroy(err));
  return new Response(Readable.toWeb(archive) as ReadableStream<Uint8Array>, {
    headers: {
      "content-type": "application/zip",
      "content-disposition": attachmentDisposition(allJournalsFileName(opts.databaseName, opts.now, opts.timeZone)),
      "cache-control": "no-store",
    },
  });
}
