// manifest.json at the archive's root (docs/archive.md#manifest): what the archive holds (every entry with its
// size and SHA-256), enough to verify it, restore it and rebuild its history entry. Its one reader is here: an
// archive on disk is input like any other (damaged, hand-made, from a newer Strongbox), so every field is checked
// with zod and its size is capped, and crash recovery, the history rebuild, restores, verification and off-site
// copies all read it through loadManifest / readArchiveManifest.
import { z } from "zod";
import { DomainError } from "../errors";
import type { Trigger } from "../isomorphic/operation-kinds";
import type { AttachmentResult } from "../operation";
import { STATUS } from "../isomorphic/status";
import { MANIFEST_NAME } from "../database/layout";
import type { BackupSettings } from "../settings/model";
import { EntryDataError, openArchive, type OpenedArchive } from "../zip/archive-file";

export const MANIFEST_FORMAT = 1;

export interface ManifestEntry {
  path: string;
  originalPath: string;
  kind: "file" | "symlink" | "directory";
  size: number;
  mtime: string;
  sha256: string;
}

export interface Manifest {
  format: number;
  generator: "strongbox";
  databaseId: string | null;
  databaseName: string;
  backupNumber: number;
  trigger: Trigger;
  scheduledDate: string | null;
  startingDate: string;
  /** When the archive's content was complete (the manifest is its last entry). */
  endingDate: string;
  structurePath: string;
  dataPath: string;
  settings: BackupSettings;
  log: { firstOperation: number | null; lastOperation: number | null };
  attachments: AttachmentResult[];
  entries: ManifestEntry[];
}

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "not a date");
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "not a SHA-256 digest");
const count = z.number().int().nonnegative().refine(Number.isSafeInteger, "too large");

export const manifestEntrySchema = z.object({
  path: z.string().min(1),
  originalPath: z.string(),
  kind: z.enum(["file", "symlink", "directory"]),
  size: count,
  mtime: isoDate,
  sha256,
}) satisfies z.ZodType<ManifestEntry>;

export const manifestSchema = z.object({
  format: z.number().int().positive().max(MANIFEST_FORMAT, `made by a newer Strongbox (this one reads format ${MANIFEST_FORMAT})`),
  generator: z.literal("strongbox"),
  databaseId: z.string().nullable(),
  databaseName: z.string(),
  backupNumber: z.number().int().nonnegative(),
  trigger: z.object({ kind: z.enum(["manual", "scheduler", "command", "retry"]), user: z.string().nullable() }),
  scheduledDate: isoDate.nullable(),
  startingDate: isoDate,
  endingDate: isoDate,
  structurePath: z.string(),
  dataPath: z.string(),
  // The settings in force are informative here (the restore never applies them): any object is accepted.
  settings: z.custom<BackupSettings>((v) => typeof v === "object" && v !== null && !Array.isArray(v), "not an object"),
  log: z.object({ firstOperation: z.number().int().nullable(), lastOperation: z.number().int().nullable() }),
  attachments: z.array(z.object({ attachmentPath: z.string(), found: z.boolean() })),
  entries: z.array(manifestEntrySchema),
}) satisfies z.ZodType<Manifest>;

/**
 * manifest.json larger than this is refused rather than read into memory: about 190,000 entries at ~350 bytes each.
 * The engine refuses to write a larger one, so every archive it makes can be read back; a crafted archive costs the
 * reader at most this much (it once took start-up to 1.5 GB).
 */
export const MAX_MANIFEST_BYTES = 64 << 20;

/** Parses manifest.json's bytes; throws an Error saying what is wrong (the caller names the archive). */
export function parseArchiveManifest(buf: Buffer): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(buf.toString("utf8"));
  } catch (err) {
    throw new Error(`${MANIFEST_NAME} is not valid JSON (${(err as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
    throw new Error(`${MANIFEST_NAME} is not a valid Strongbox manifest (${issues.join("; ")}${parsed.error.issues.length > 3 ? "; …" : ""})`);
  }
  return parsed.data;
}

/**
 * Opens the archive (a clear DomainError when it is missing or not a ZIP). The caller closes it.
 * Errors: 1409 when the file can't be opened, 1411 when it is not a readable ZIP.
 */
export async function openArchiveFile(archivePath: string): Promise<OpenedArchive> {
  try {
    return await openArchive(archivePath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new DomainError(STATUS.BACKUP_ERROR, `The archive ${archivePath} does not exist.`);
    if (code === "EISDIR") throw new DomainError(STATUS.BACKUP_ERROR, `${archivePath} is a folder, not an archive.`);
    if (code === "ENOTREG") throw new DomainError(STATUS.BACKUP_ERROR, `${(err as Error).message} Choose the archive file itself.`);
    if (code) throw new DomainError(STATUS.BACKUP_ERROR, `The archive ${archivePath} can't be opened (${code}).`);
    throw new DomainError(STATUS.ARCHIVE_CHECK_FAILED, `${archivePath} is not a readable ZIP archive (${(err as Error).message}).`);
  }
}

/**
 * Reads and validates manifest.json: the one way the server reads a manifest. Its declared size and what it really
 * inflates to are both capped (MAX_MANIFEST_BYTES), so a crafted archive can't make the server inflate a zip bomb.
 * A missing, oversized or garbled manifest is a 1411 naming the archive.
 */
export async function loadManifest(archive: OpenedArchive, opts: { signal?: AbortSignal } = {}): Promise<Manifest> {
  const found = archive.entries.filter((e) => e.name === MANIFEST_NAME);
  const fail = (why: string) => new DomainError(STATUS.ARCHIVE_CHECK_FAILED,
    `The archive ${archive.path} can't be used: ${why}. It was not made by Strongbox, or it is damaged.`);
  if (found.length === 0) throw fail(`it has no ${MANIFEST_NAME}`);
  if (found.length > 1) throw fail(`it has ${found.length} entries named ${MANIFEST_NAME}`);
  let buf: Buffer;
  try {
    buf = await archive.readAll(found[0]!, MAX_MANIFEST_BYTES, opts);
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    throw fail(`${MANIFEST_NAME} can't be read (${err instanceof EntryDataError ? err.reason : (err as Error).message})`);
  }
  try {
    return parseArchiveManifest(buf);
  } catch (err) {
    throw fail((err as Error).message);
  }
}

/** The manifest of the archive at `archivePath` (see loadManifest). */
export async function readArchiveManifest(archivePath: string, opts: { signal?: AbortSignal } = {}): Promise<Manifest> {
  const archive = await openArchiveFile(archivePath);
  try {
    return await loadManifest(archive, opts);
  } finally {
    await archive.close();
  }
}
