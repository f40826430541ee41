// This database's archives and log backups in the destination: `<DatabaseName>[NNNN].zip` and `[NNNN].4BL`.
import fs from "node:fs/promises";
import path from "node:path";

export interface ArchiveFile { number: number; path: string; size: number; mtime: Date }

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export function archiveName(databaseName: string, number: number): string {
  return `${databaseName}[${String(number).padStart(4, "0")}].zip`;
}

export function tempArchiveName(databaseName: string, number: number): string {
  return `${archiveName(databaseName, number)}.tmp`;
}

export function tempSnapshotName(databaseName: string, number: number): string {
  return `${databaseName}[${String(number).padStart(4, "0")}].data.tmp`;
}

async function listMatching(destination: string, pattern: RegExp): Promise<ArchiveFile[]> {
  let names: string[];
  try {
    names = await fs.readdir(destination);
  } catch {
    return [];
  }
  const found: ArchiveFile[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m) continue;
    const p = path.join(destination, name);
    // lstat: the server's archives are regular files; a link or FIFO under an archive's name is none of ours.
    const st = await fs.lstat(p).catch(() => null);
    if (st?.isFile()) found.push({ number: Number(m[1]), path: p, size: st.size, mtime: st.mtime });
  }
  return found.sort((a, b) => a.number - b.number);
}

export function listArchives(destination: string, databaseName: string): Promise<ArchiveFile[]> {
  return listMatching(destination, new RegExp(`^${escape(databaseName)}\\[(\\d{4,})\\]\\.zip$`));
}

export function listLogBackups(destination: string, databaseName: string): Promise<ArchiveFile[]> {
  return listMatching(destination, new RegExp(`^${escape(databaseName)}\\[(\\d{4,})\\]\\.4BL$`));
}

/** Temporary files a backup of this database may have left after a crash: archive, snapshot and its journal. */
export function listTempFiles(destination: string, databaseName: string): Promise<ArchiveFile[]> {
  return listMatching(destination, new RegExp(`^${escape(databaseName)}\\[(\\d{4,})\\]\\.(?:zip|data)\\.tmp(?:-journal)?$`));
}

/** Strongbox's own leftovers in a destination that are not tied to a database name: probes, atomic-write temps. */
export async function listStrayTemps(destination: string): Promise<string[]> {
  const names = await fs.readdir(destination).catch(() => [] as string[]);
  return names.filter((n) => /^\.strongbox-probe-[0-9a-f]+$/.test(n) || /^\.backupHistory\.json\.\d+\.[0-9a-f]+\.tmp$/.test(n)).map((n) => path.join(destination, n));
}

/**
 * Retention, "keep only the last X backup files" (docs/operations.md): counts backups, a backup being its archive `[N].zip`
 * together with the log backup it wrote when it committed, `[N-1].4BL`. The oldest backups beyond X are deleted,
 * each archive with its own log backup: the log backups kept are those numbered from the oldest kept archive's
 * number minus one. A restore of a kept archive K needs `[K].4BL` and the later ones (written by the kept archives
 * K+1…) and the current log; `[K-1].4BL` stays with archive K, so every kept backup is whole (its history entry's
 * `logPath` exists) and the log backup a backup has just written is never deleted. Returns what it deleted and the
 * oldest kept archive's number.
 */
export async function applyRetention(destination: string, databaseName: string, keep: number): Promise<{ deleted: string[]; oldestKept: number | null }> {
  const archives = await listArchives(destination, databaseName);
  const doomed = archives.slice(0, Math.max(0, archives.length - keep));
  const kept = archives.slice(doomed.length);
  const oldestKept = kept[0]?.number ?? null;
  const deleted: string[] = [];
  for (const a of doomed) {
    await fs.rm(a.path, { force: true });
    deleted.push(a.path);
  }
  if (oldestKept !== null) {
    for (const l of await listLogBackups(destination, databaseName)) {
      if (l.number < oldestKept - 1) {
        await fs.rm(l.path, { force: true });
        deleted.push(l.path);
      }
    }
  }
  return { deleted, oldestKept };
}
