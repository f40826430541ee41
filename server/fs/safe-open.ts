// Opening the files the server owns (journal, history, settings, log files, archives it writes) without being led
// astray: a symbolic link planted under one of their names is refused, never followed (the server may run as root,
// so following it would read or append to whatever the link names); a FIFO or a device is refused without blocking
// (O_NONBLOCK: the open of a FIFO with no writer would otherwise hang a threadpool thread for good); and a file read
// whole is refused past a size cap instead of being read into memory. Only the last part of the path is checked:
// the folders on the way are the administrator's to arrange.
import { constants, mkdirSync } from "node:fs";
import { lstat, mkdir, open, type FileHandle } from "node:fs/promises";

/** What the server writes is readable by its own user only. */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

const { O_RDONLY, O_RDWR, O_WRONLY, O_APPEND, O_CREAT, O_TRUNC, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;

/** Why a file can't be used: a link, not a regular file, or too large. `code` is ELOOP, ENOTREG or EFBIG. */
export class UnsafeFileError extends Error {
  constructor(readonly file: string, readonly code: "ELOOP" | "ENOTREG" | "EFBIG", readonly reason: string) {
    super(`${file} ${reason}`);
    this.name = "UnsafeFileError";
  }
}

/** By name and code, not instanceof (Next may bundle this module twice). */
export const isUnsafeFileError = (err: unknown): err is UnsafeFileError =>
  err instanceof Error && err.name === "UnsafeFileError";

type FileKind = { isFile(): boolean; isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean };

function kindOf(st: FileKind): string {
  if (st.isDirectory()) return "a folder";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  return "not a regular file";
}

const LINK_REASON = "is a symbolic link: the server does not follow links for this file. Replace the link by the file itself, or remove it.";

/** The refusal of a symbolic link found where the server keeps one of its files. */
export const linkRefused = (file: string) => new UnsafeFileError(file, "ELOOP", LINK_REASON);

/**
 * How a file is opened:
 * - `read`: an existing file, for reading;
 * - `update`: an existing file, for reading and writing in place (the log file);
 * - `append`: created (0600) when missing, every write at the end;
 * - `replace`: created (0600) when missing, else emptied;
 * - `create`: created (0600), refused when anything already has that name.
 */
export type OpenMode = "read" | "update" | "append" | "replace" | "create";

const FLAGS: Record<OpenMode, number> = {
  read: O_RDONLY,
  update: O_RDWR,
  append: O_WRONLY | O_APPEND | O_CREAT,
  replace: O_WRONLY | O_CREAT | O_TRUNC,
  create: O_WRONLY | O_CREAT | O_EXCL,
};

/**
 * Opens `file` without following a link at its name and checks it is a regular file. Errors: the system's
 * (ENOENT…) as they are, an UnsafeFileError for a link or anything but a regular file. A file this creates is 0600;
 * one `replace` empties is set to 0600 too, since what goes into it is the server's.
 */
export async function openNoFollow(file: string, how: OpenMode): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(file, FLAGS[how] | O_NOFOLLOW | O_NONBLOCK, PRIVATE_FILE_MODE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ELOOP is what O_NOFOLLOW gives for a link; with O_CREAT|O_EXCL a dangling link is EEXIST.
    if (code === "ELOOP" || (how === "create" && code === "EEXIST" && (await isLink(file)))) throw linkRefused(file);
    // A FIFO with no reader (opened for writing) or a socket: ENXIO. Say what it is.
    if (code === "ENXIO") {
      const st = await lstat(file).catch(() => null);
      if (st && !st.isFile()) throw notRegular(file, st);
    }
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegular(file, st);
    if (how === "replace") await fh.chmod(PRIVATE_FILE_MODE);
    return fh;
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}

function notRegular(file: string, st: FileKind, expected = "a regular file: the server only reads and writes regular files here"): UnsafeFileError {
  return new UnsafeFileError(file, "ENOTREG", `is ${kindOf(st)}, not ${expected}.`);
}

/**
 * Throws an UnsafeFileError (ENOTREG) saying what `file` is instead, unless `st` (its fstat) is a regular file.
 * For files opened O_NONBLOCK that may be links (an archive the user named): a FIFO or a device is refused at once.
 */
export function assertRegular(file: string, st: FileKind, expected?: string): void {
  if (!st.isFile()) throw notRegular(file, st, expected);
}

async function isLink(file: string): Promise<boolean> {
  return lstat(file).then((s) => s.isSymbolicLink(), () => false);
}

export interface ReadResult {
  data: Buffer;
  /** The file as it was read (fstat of the open file): dev, ino, size and times identify the version read. */
  stat: import("node:fs").Stats;
}

/**
 * Reads a whole regular file, refusing a link, a FIFO or a device (UnsafeFileError), and a file larger than
 * `maxBytes` (EFBIG, also when it grows past the cap while being read).
 */
export async function readFileNoFollow(file: string, maxBytes: number): Promise<ReadResult> {
  const fh = await openNoFollow(file, "read");
  try {
    const stat = await fh.stat();
    return { data: await readOpened(fh, file, maxBytes, stat.size), stat };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** The whole content of a file opened by openNoFollow (`size`: its fstat size), capped as readFileNoFollow does. */
export async function readOpened(fh: FileHandle, file: string, maxBytes: number, size: number): Promise<Buffer> {
  const tooLarge = () => new UnsafeFileError(file, "EFBIG",
    `is larger than ${formatLimit(maxBytes)}, the most the server reads of this file: it is not a file the server wrote. Replace it by the right file, or remove it.`);
  if (size > maxBytes) throw tooLarge();
  // Read to the end, not to the size seen: a file that grew past the cap since the fstat is caught too.
  const parts: Buffer[] = [];
  let n = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(Math.min(maxBytes + 1 - n, Math.max(size - n + 1, 64 << 10)));
    const { bytesRead } = await fh.read(buf, 0, buf.length, n);
    if (bytesRead === 0) break;
    n += bytesRead;
    if (n > maxBytes) throw tooLarge();
    parts.push(buf.subarray(0, bytesRead));
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
}

export function formatLimit(bytes: number): string {
  return bytes % (1 << 20) === 0 ? `${bytes / (1 << 20)} MiB` : bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

/** Creates a folder (and missing parents) readable by the server's user only; returns the first one created. */
export function makePrivateDir(dir: string): Promise<string | undefined> {
  return mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

export function makePrivateDirSync(dir: string): string | undefined {
  return mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}
