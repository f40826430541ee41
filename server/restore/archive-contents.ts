// What an archive holds, as the Restore page shows it (structure, data file, data settings, attachments by their
// original folder), and the "Verify" action: every entry read back against its manifest SHA-256 and size.
import fs from "node:fs/promises";
import { MANIFEST_NAME, type Manifest, type ManifestEntry } from "../engine/manifest";
import { DomainError } from "../errors";
import { STATUS } from "../isomorphic/status";
import { verifyArchive } from "../zip/zip-reader";
import { EntryDataError, openArchive, type OpenedArchive } from "./archive-file";
import { planEntries, UnsafeEntryError } from "./entry-checks";
import { MAX_MANIFEST_BYTES, parseArchiveManifest } from "./manifest-schema";

export interface ContentGroup {
  /** Every entry: files, symbolic links and (empty) folders. */
  entries: number;
  /** Files and symbolic links. */
  files: number;
  /** Their sizes added up (uncompressed). */
  bytes: number;
}

export interface AttachmentGroup extends ContentGroup {
  /** The attachment's original absolute path (as listed in the settings at backup time). */
  path: string;
  /** Whether the backup found it. */
  found: boolean;
}

export interface ArchiveContents {
  archivePath: string;
  /** The archive file's size on disk. */
  archiveSize: number;
  manifest: Manifest;
  /** Project/ and Settings/. */
  structure: ContentGroup;
  /** Data/data.sqlite. */
  dataFile: ContentGroup;
  /** Data/Settings/. */
  dataSettings: ContentGroup;
  attachments: AttachmentGroup[];
  /** Anything else (a Strongbox archive has nothing here). */
  other: ContentGroup;
  total: ContentGroup;
}

export type ContentPart = "structure" | "dataFile" | "dataSettings" | "attachment" | "other";

/** The archive prefix of an attachment: `Attachments/` + its absolute path without the leading slash (spec §3). */
export const attachmentPrefix = (attachmentPath: string) => "Attachments/" + attachmentPath.replace(/^\/+/, "").replace(/\/+$/, "");

const under = (p: string, prefix: string) => p === prefix || p === prefix + "/" || p.startsWith(prefix + "/");

/** The part of the archive an entry belongs to; an attachment names its root (the longest that matches). */
export function partOf(entry: Pick<ManifestEntry, "path">, attachmentRoots: readonly string[]): { part: ContentPart; attachment?: string } {
  const p = entry.path;
  if (under(p, "Project") || under(p, "Settings")) return { part: "structure" };
  if (p === "Data/data.sqlite") return { part: "dataFile" };
  if (under(p, "Data/Settings")) return { part: "dataSettings" };
  let best: string | undefined;
  for (const root of attachmentRoots) {
    if (under(p, attachmentPrefix(root)) && (!best || root.length > best.length)) best = root;
  }
  return best ? { part: "attachment", attachment: best } : { part: "other" };
}

/** What the Restore page's check boxes chose. Absent means unticked; `attachments: true` means all of them. */
export interface PartSelection {
  structure?: boolean;
  dataFile?: boolean;
  dataSettings?: boolean;
  /** true: every attachment; a list: those original paths only. */
  attachments?: boolean | readonly string[];
  other?: boolean;
}

/** A `select` function for restoreArchive from the check boxes. */
export function selectParts(manifest: Manifest, selection: PartSelection): (e: ManifestEntry) => boolean {
  const roots = manifest.attachments.map((a) => a.attachmentPath);
  const chosen = selection.attachments;
  return (e) => {
    const { part, attachment } = partOf(e, roots);
    if (part === "attachment") return chosen === true || (Array.isArray(chosen) && chosen.includes(attachment!));
    return selection[part] === true;
  };
}

const emptyGroup = (): ContentGroup => ({ entries: 0, files: 0, bytes: 0 });
function add(g: ContentGroup, e: ManifestEntry): void {
  g.entries++;
  if (e.kind !== "directory") g.files++;
  g.bytes += e.size;
}

/** Groups a manifest's entries the way the Restore page lists them. */
export function groupContents(manifest: Manifest): Omit<ArchiveContents, "archivePath" | "archiveSize" | "manifest"> {
  const groups = { structure: emptyGroup(), dataFile: emptyGroup(), dataSettings: emptyGroup(), other: emptyGroup(), total: emptyGroup() };
  const attachments = new Map<string, AttachmentGroup>();
  for (const a of manifest.attachments) {
    if (!attachments.has(a.attachmentPath)) attachments.set(a.attachmentPath, { path: a.attachmentPath, found: a.found, ...emptyGroup() });
  }
  const roots = [...attachments.keys()];
  for (const e of manifest.entries) {
    const { part, attachment } = partOf(e, roots);
    add(part === "attachment" ? attachments.get(attachment!)! : groups[part], e);
    add(groups.total, e);
  }
  return { ...groups, attachments: [...attachments.values()] };
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

/** The archive's manifest and its contents grouped for the Restore page, plus the archive's size. */
export async function readArchiveContents(archivePath: string): Promise<ArchiveContents> {
  const archive = await openArchiveFile(archivePath);
  try {
    const manifest = await loadManifest(archive);
    return { archivePath, archiveSize: archive.size, manifest, ...groupContents(manifest) };
  } finally {
    await archive.close();
  }
}

export interface VerifyProgress { bytesDone: number; bytesTotal: number; filesDone: number; filesTotal: number; currentFile: string | null }
export interface VerifyReport {
  ok: boolean;
  /** One line per problem, each naming the entry (or the archive). */
  problems: string[];
  /** Entries checked (every manifest entry) and their bytes. */
  entries: number;
  bytes: number;
}

/**
 * The "Verify" action on any archive: every entry listed in the manifest is read back and checked against its
 * size and SHA-256 (and CRC-32); an entry the manifest doesn't list, an unsafe name or a missing entry is a
 * problem too. Resolves with the problems; rejects when the file can't be opened at all, and on Stop (the
 * signal's reason, or an AbortError).
 */
export async function verifyArchiveFile(archivePath: string, opts: { signal?: AbortSignal; onProgress?: (p: VerifyProgress) => void } = {}): Promise<VerifyReport> {
  const archive = await openArchiveFile(archivePath).catch((err: DomainError) => {
    if (err.status === STATUS.ARCHIVE_CHECK_FAILED) return err; // not a ZIP: a verification result, not an error
    throw err;
  });
  if (archive instanceof Error) return { ok: false, problems: [archive.message], entries: 0, bytes: 0 };
  let manifest: Manifest;
  const problems: string[] = [];
  try {
    manifest = await loadManifest(archive, opts);
    try {
      planEntries(manifest, archive.entries);
    } catch (err) {
      if (!(err instanceof UnsafeEntryError)) throw err;
      problems.push(`${err.entry}: ${err.reason}`);
    }
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    return { ok: false, problems: [(err as Error).message], entries: 0, bytes: 0 };
  } finally {
    await archive.close();
  }
  const bytesTotal = manifest.entries.reduce((n, e) => n + e.size, 0);
  const filesTotal = manifest.entries.length;
  opts.onProgress?.({ bytesDone: 0, bytesTotal, filesDone: 0, filesTotal, currentFile: null });
  const result = await verifyArchive(archivePath, manifest.entries.map((e) => ({ name: e.path, size: e.size, sha256: e.sha256 })), {
    signal: opts.signal,
    onProgress: (p) => opts.onProgress?.({ bytesDone: p.bytesDone, bytesTotal, filesDone: p.filesDone, filesTotal, currentFile: p.currentName }),
  }).catch((err) => {
    throw opts.signal?.aborted ? opts.signal.reason : err;
  });
  if (!result.ok) for (const p of result.problems) if (!problems.includes(p)) problems.push(p);
  return { ok: problems.length === 0, problems, entries: filesTotal, bytes: bytesTotal };
}
