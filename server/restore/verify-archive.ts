// The "Verify" action on any archive (docs/operations.md#verification): every entry listed in the manifest read
// back against its size and SHA-256, with the entry rules a restore applies.
import { loadManifest, openArchiveFile, type Manifest } from "../archive/manifest";
import type { DomainError } from "../errors";
import { STATUS } from "../isomorphic/status";
import { verifyArchive } from "../zip/zip-reader";
import { planEntries, UnsafeEntryError } from "./entry-checks";

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
