// Crash-safe file writes for the files people and tools read back (backupHistory.json, the backup journal):
// a reader sees either the old content or the new, never a torn one. What is written is the server's own: 0600,
// and never through a symbolic link (a rename over a link replaces the link; an append refuses one).
import { lstat, open, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { openNoFollow, PRIVATE_FILE_MODE } from "./safe-open";

/** Writes a whole buffer, looping on short writes (rare for regular files, but allowed by POSIX). */
async function writeAll(fh: import("node:fs/promises").FileHandle, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

/**
 * Flushes a directory so that a rename or a new entry in it survives a power loss. Some platforms (Windows)
 * cannot open a directory for fsync; there the rename is as durable as the OS makes it, so we go on.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EINVAL" && code !== "EPERM" && code !== "EBADF") throw err;
  } finally {
    await fh?.close();
  }
}

/**
 * Replaces `target` with `data`: temp file in the same folder (rename is only atomic within one file system),
 * fsync, rename over the target, fsync the folder. On failure the temp file is removed and the target is intact.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const fh = await open(tmp, "wx", PRIVATE_FILE_MODE);
  try {
    try {
      await writeAll(fh, buf);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fsyncDir(dir);
}

/**
 * Appends one whole record (one write call for any record the kernel accepts at once) and fsyncs it. If the
 * write fails part-way (disk full), the file is cut back to its previous length so no half record stays. A link
 * or anything but a regular file at `target` is refused (UnsafeFileError), its target untouched.
 */
export async function appendWhole(target: string, text: string): Promise<void> {
  const created = await lstat(target).then(
    () => false,
    (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return true;
      throw err;
    },
  );
  const fh = await openNoFollow(target, "append");
  try {
    const before = (await fh.stat()).size;
    try {
      await writeAll(fh, Buffer.from(text, "utf8"));
      await fh.sync();
    } catch (err) {
      await fh.truncate(before).catch(() => {});
      throw err;
    }
  } finally {
    await fh.close();
  }
  if (created) await fsyncDir(path.dirname(target));
}
