// backupHistory.json (docs/backup-history.md): in the destination folder, in the shape 4D writes — an object keyed by the
// structure's path, each value a list of operations — plus our fields. We own one key; every other key (other
// databases sharing the destination, or 4D itself) is written back as it was read.
import { rename } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../fs/atomic-write";
import { readFileNoFollow } from "../fs/safe-open";
import type { AttachmentResult, OperationKind, OperationRecord, TriggerKind } from "../operation";
import { STATUS, statusText } from "../isomorphic/status";

export const HISTORY_FILE_NAME = "backupHistory.json";
/**
 * The most of backupHistory.json the server reads: far more than years of entries (each lists its files, so a
 * backup of 5,000 files adds about 400 KB; "keep only the last X" prunes them). Past it the file is refused, not read.
 */
export const MAX_HISTORY_BYTES = 256 << 20;

/** One operation as written in the file; field order follows docs/backup-history.md. */
export interface HistoryEntry {
  /** One of ours; another tool may have written something else, kept as read. */
  operation: OperationKind | (string & {});
  backupNumber: number;
  /** The archive made (or restored from); "" when none. */
  backupPath: string;
  structurePath: string;
  dataPath: string;
  /** "" when no log backup was made (as 4D writes it). */
  logPath: string;
  /** UTC ISO 8601; null unless the scheduler started it. */
  scheduledDate: string | null;
  startingDate: string;
  endingDate: string;
  /** Milliseconds. */
  duration: number;
  status: number;
  statusText: string;
  partial: boolean;
  /** null for entries 4D wrote (it records no trigger). */
  trigger: TriggerKind | null;
  user: string | null;
  files: string[];
  attachments: AttachmentResult[];
  archiveSize: number | null;
  archiveSha256: string | null;
}

export interface DamagedHistory {
  /** Why the file could not be used (parse error, wrong shape). */
  reason: string;
  /** Where the damaged file was moved. */
  keptAs: string;
}

export interface BackupHistoryOptions {
  /** Rebuilds this database's entries (the engine reads its archives' manifests) when the file is damaged. */
  rebuild?: () => Promise<HistoryEntry[]>;
  /** Told whenever a damaged file is found — also when found by append(), which returns nothing. */
  onDamaged?: (damaged: DamagedHistory) => void;
  /** Clock for the `.damaged-<timestamp>` name. */
  now?: () => Date;
}

export function toHistoryEntry(record: OperationRecord): HistoryEntry {
  return {
    operation: record.operation,
    backupNumber: record.backupNumber,
    backupPath: record.archivePath ?? "",
    structurePath: record.structurePath,
    dataPath: record.dataPath,
    logPath: record.logBackupPath ?? "",
    scheduledDate: record.scheduledDate ? record.scheduledDate.toISOString() : null,
    startingDate: record.startingDate.toISOString(),
    endingDate: record.endingDate.toISOString(),
    duration: record.endingDate.getTime() - record.startingDate.getTime(),
    status: record.status,
    statusText: record.statusText,
    partial: record.partial,
    trigger: record.trigger.kind,
    user: record.trigger.user,
    files: [...record.files],
    attachments: record.attachments.map((a) => ({ attachmentPath: a.attachmentPath, found: a.found })),
    archiveSize: record.archive?.size ?? null,
    archiveSha256: record.archive?.sha256 ?? null,
  };
}

/**
 * Did this entry commit an archive? Only such a backup uses up its number (docs/backup-history.md). A success, a partial
 * backup, or one that recorded its archive (the engine keeps `archive` only once the archive is committed, so
 * e.g. a log backup failing after the commit still counts).
 */
export function isCommittedBackup(e: HistoryEntry): boolean {
  return e.operation === "backup" && (e.status === 0 || e.partial || (e.archiveSize ?? 0) > 0);
}

const TRIGGERS: readonly string[] = ["manual", "scheduler", "command", "retry", "startup"] satisfies TriggerKind[];
const KNOWN_STATUSES = new Set<number>(Object.values(STATUS));

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/**
 * Reads an entry in any form we may meet — ours, or 4D's (no operation/partial/trigger/files, status -1,
 * Windows paths) — filling what is missing with neutral defaults. Not an object: null (kept raw, not shown).
 */
export function normaliseEntry(raw: unknown): HistoryEntry | null {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return null;
  const r = raw as Record<string, unknown>;
  const startingDate = str(r.startingDate) ?? "";
  const endingDate = str(r.endingDate) ?? startingDate;
  // Missing status: claim neither success nor a known failure; -1 is what 4D itself writes.
  const status = num(r.status) ?? -1;
  const derivedDuration = Date.parse(endingDate) - Date.parse(startingDate);
  return {
    operation: str(r.operation) ?? "backup", // 4D's file records backups without naming the operation
    backupNumber: num(r.backupNumber) ?? 0,
    backupPath: str(r.backupPath) ?? "",
    structurePath: str(r.structurePath) ?? "",
    dataPath: str(r.dataPath) ?? "",
    logPath: str(r.logPath) ?? "",
    scheduledDate: str(r.scheduledDate),
    startingDate,
    endingDate,
    duration: num(r.duration) ?? (Number.isFinite(derivedDuration) ? derivedDuration : 0),
    status,
    statusText: str(r.statusText) ?? (KNOWN_STATUSES.has(status) ? statusText(status) : `Status ${status}`),
    partial: r.partial === true,
    trigger: typeof r.trigger === "string" && TRIGGERS.includes(r.trigger) ? (r.trigger as TriggerKind) : null,
    user: str(r.user),
    files: Array.isArray(r.files) ? r.files.filter((f): f is string => typeof f === "string") : [],
    attachments: Array.isArray(r.attachments)
      ? r.attachments
          .filter((a): a is Record<string, unknown> => typeof a === "object" && a !== null)
          .map((a) => ({ attachmentPath: str(a.attachmentPath) ?? "", found: a.found !== false }))
      : [],
    archiveSize: num(r.archiveSize),
    archiveSha256: str(r.archiveSha256),
  };
}

/**
 * Drops what is older than the oldest kept archive: backups numbered below it, and anything that started before
 * that archive's own backup (when it is in the history). Works on raw entries so kept ones stay as written.
 */
export function pruneEntries(raw: unknown[], oldestKeptNumber: number): unknown[] {
  const view = raw.map(normaliseEntry);
  const keptStarts = view
    .filter((e): e is HistoryEntry => e !== null && isCommittedBackup(e) && e.backupNumber === oldestKeptNumber)
    .map((e) => Date.parse(e.startingDate))
    .filter(Number.isFinite);
  // The latest match: after numbering restarted (history lost), an old archive may share the number.
  const keptStart = keptStarts.length ? Math.max(...keptStarts) : null;
  return raw.filter((_, i) => {
    const e = view[i];
    if (!e) return true; // not an entry we can judge; leave it
    if (e.operation === "backup" && e.backupNumber < oldestKeptNumber) return false;
    return keptStart === null || !(Date.parse(e.startingDate) < keptStart);
  });
}

/** The file as read: keys in file order, values untouched (what JSON.parse made of them). */
type RawHistory = Array<[string, unknown[]]>;

/** The file's keys and values, or why it is damaged (a phrase completing "backupHistory.json …"). */
function parseHistory(text: string): RawHistory | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return `is not valid JSON (${(err as Error).message})`;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    return "is not an object keyed by structure path";
  const pairs = Object.entries(parsed);
  const bad = pairs.find(([, v]) => !Array.isArray(v));
  if (bad) return `has a value that is not a list of operations (key ${JSON.stringify(bad[0])})`;
  return pairs as RawHistory;
}

export class BackupHistory {
  readonly filePath: string;
  /** One operation at a time on the file, so two appends can't both read the old list and lose one. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly destinationDir: string,
    readonly structureKey: string,
    private readonly opts: BackupHistoryOptions = {},
  ) {
    this.filePath = path.join(destinationDir, HISTORY_FILE_NAME);
  }

  /** This database's entries, normalised, oldest first; `damaged` says if the file had to be set aside. */
  read(): Promise<{ entries: HistoryEntry[]; damaged: DamagedHistory | null }> {
    return this.serialise(async () => {
      const { pairs, damaged } = await this.load();
      return { entries: this.ownRaw(pairs).map(normaliseEntry).filter((e) => e !== null), damaged };
    });
  }

  /**
   * Adds an entry under our key and rewrites the file atomically. With `oldestKeptNumber` (the oldest archive
   * retention kept), older entries of ours are pruned first; other keys are never touched.
   */
  append(entry: HistoryEntry, opts: { oldestKeptNumber?: number | null } = {}): Promise<void> {
    return this.serialise(async () => {
      const { pairs } = await this.load();
      let own = this.ownRaw(pairs);
      if (opts.oldestKeptNumber != null) own = pruneEntries(own, opts.oldestKeptNumber);
      await this.write(this.withOwn(pairs, [...own, entry]));
    });
  }

  /** The highest number a committed archive of ours used, 0 when none (the engine also looks on disk). */
  highestNumber(): Promise<number> {
    return this.read().then(({ entries }) =>
      entries.filter(isCommittedBackup).reduce((max, e) => Math.max(max, e.backupNumber), 0),
    );
  }

  private serialise<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => {});
    return run;
  }

  private ownRaw(pairs: RawHistory): unknown[] {
    return pairs.find(([k]) => k === this.structureKey)?.[1] ?? [];
  }

  private withOwn(pairs: RawHistory, own: unknown[]): RawHistory {
    const i = pairs.findIndex(([k]) => k === this.structureKey);
    return i < 0 ? [...pairs, [this.structureKey, own]] : pairs.map((p, j) => (j === i ? [p[0], own] : p));
  }

  private async write(pairs: RawHistory): Promise<void> {
    // fromEntries defines own properties, so even a "__proto__" key survives; tabs as 4D indents its file.
    await writeFileAtomic(this.filePath, JSON.stringify(Object.fromEntries(pairs), null, "\t"));
  }

  private async load(): Promise<{ pairs: RawHistory; damaged: DamagedHistory | null }> {
    let text: string;
    try {
      // Never through a link, never a FIFO or device, never past the cap: such a file is refused (UnsafeFileError,
      // saying what it is), and nothing is written over it.
      text = (await readFileNoFollow(this.filePath, MAX_HISTORY_BYTES)).data.toString("utf8");
    } catch (err) {
      // No file: numbering starts again, as in 4D (the engine still never overwrites an archive).
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { pairs: [], damaged: null };
      throw err;
    }
    const parsed = parseHistory(text);
    if (typeof parsed !== "string") return { pairs: parsed, damaged: null };

    // Damaged: rebuild first, so that if rebuilding fails nothing has moved and the next call tries again.
    const rebuilt = this.opts.rebuild ? await this.opts.rebuild() : null;
    const stamp = (this.opts.now?.() ?? new Date()).toISOString().replace(/[:.]/g, "-");
    const keptAs = `${this.filePath}.damaged-${stamp}`;
    await rename(this.filePath, keptAs);
    const damaged = { reason: `${HISTORY_FILE_NAME} ${parsed}`, keptAs };
    const pairs: RawHistory = rebuilt ? [[this.structureKey, rebuilt]] : [];
    if (rebuilt) await this.write(pairs);
    this.opts.onDamaged?.(damaged);
    return { pairs, damaged };
  }
}
