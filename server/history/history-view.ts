// What the History page shows of backupHistory.json (docs/backup-history.md, docs/console.md): the operations newest first and paged, a summary
// (success rate, last success, whether the schedule's promise was kept), chart series, and one operation's details.
// Pure functions over the entries the engine's BackupHistory reads, plus one loader; the clock is a parameter.
import type { BackupSettings } from "../settings/model";
import { nextRun, type SchedulerSettings } from "../scheduler/next-run";
import { DAY_MS, localTimeZone, parseIsoDay, resolveWallTime } from "../scheduler/zoned-time";
import type { AttachmentResult } from "../operation";
import { isCommittedBackup, type DamagedHistory, type HistoryEntry } from "./backup-history";

/**
 * How late a promised backup may be before it counts as overdue, on top of the last successful backup's own
 * duration. The scheduler starts a backup within ~10 s of its time (its heartbeat), but the history entry is
 * written only when the backup ends, so the margin must cover the run itself (hence + the last duration) and the
 * ordinary slack around it: a tick delayed by a busy event loop, a slow startup hook, the snapshot waiting for open
 * transactions. 15 minutes covers those without letting a missed nightly backup go unflagged for long.
 */
export const OVERDUE_GRACE_MS = 15 * 60_000;

/** The chart shows at most this many backups (the newest): enough for months of daily points, still a light SVG. */
export const CHART_MAX_POINTS = 200;

export type Outcome = "success" | "partial" | "failed";

/** One row of the operations table. */
export interface HistoryOperation {
  /** Stable across reads of the same file: operation, number and start (plus a counter for exact duplicates). */
  id: string;
  number: number;
  operation: string;
  /** null for entries 4D wrote (it records no trigger). */
  trigger: string | null;
  user: string | null;
  startingDate: string;
  endingDate: string;
  /** Milliseconds. */
  duration: number;
  archiveSize: number | null;
  status: number;
  statusText: string;
  partial: boolean;
  outcome: Outcome;
  /**
   * Backups only: a failed or stopped attempt does not use its number up, so several attempts may share one. This is
   * the attempt's place among the attempts at its number (1 = the first, oldest), and how many there were.
   */
  attempt: { index: number; of: number } | null;
  /** A backup whose archive was committed (the attempt that made backup #number), partial ones included. */
  committed: boolean;
}

/** Success is status 0 only: a partial backup (1409) kept its archive but missed attachments, so it is not one. */
export function outcomeOf(e: Pick<HistoryEntry, "status" | "partial">): Outcome {
  if (e.partial) return "partial";
  return e.status === 0 ? "success" : "failed";
}

interface Keyed {
  id: string;
  entry: HistoryEntry;
  /** Position in the file (append order), the tie-breaker for equal or unreadable dates. */
  index: number;
  /** Start as epoch ms; -Infinity when the file's date can't be read (such entries sort as the oldest). */
  start: number;
}

function keyed(entries: HistoryEntry[]): Keyed[] {
  const seen = new Map<string, number>();
  return entries.map((entry, index) => {
    const base = `${entry.operation}-${entry.backupNumber}-${entry.startingDate}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const start = Date.parse(entry.startingDate);
    return { id: n === 1 ? base : `${base}~${n}`, entry, index, start: Number.isFinite(start) ? start : -Infinity };
  });
}

const oldestFirst = (a: Keyed, b: Keyed) => (a.start === b.start ? a.index - b.index : a.start < b.start ? -1 : 1);

function toOperation({ id, entry: e }: Keyed, attempt: HistoryOperation["attempt"] = null): HistoryOperation {
  return {
    id, number: e.backupNumber, operation: e.operation, trigger: e.trigger, user: e.user,
    startingDate: e.startingDate, endingDate: e.endingDate, duration: e.duration, archiveSize: e.archiveSize,
    status: e.status, statusText: e.statusText, partial: e.partial, outcome: outcomeOf(e), attempt, committed: isCommittedBackup(e),
  };
}

/**
 * The operations as the History page groups them, oldest first inside a group: the attempts at one backup number
 * (failed or stopped ones, then the one that committed its archive) are one group; any other operation is a group of
 * its own. A committed attempt closes its number's group, so after the numbering started again (a lost history)
 * a later backup with an old number starts a new group. Groups are ordered newest first, by their latest attempt.
 */
function attemptGroups(entries: HistoryEntry[]): Keyed[][] {
  const groups: Keyed[][] = [];
  const open = new Map<number, Keyed[]>();
  for (const k of keyed(entries).sort(oldestFirst)) {
    const e = k.entry;
    if (e.operation !== "backup" || e.backupNumber <= 0) {
      groups.push([k]);
      continue;
    }
    let group = open.get(e.backupNumber);
    if (!group) {
      group = [];
      open.set(e.backupNumber, group);
      groups.push(group);
    }
    group.push(k);
    if (isCommittedBackup(e)) open.delete(e.backupNumber);
  }
  return groups.sort((a, b) => oldestFirst(b.at(-1)!, a.at(-1)!));
}

export interface Page {
  offset: number;
  limit: number;
}

/**
 * Every kept operation (backups, restores, log integrations, 4D's own entries), newest first, one page of them. A page
 * counts groups (see attemptGroups): `total`, `offset` and `limit` are in groups, so the attempts at one number are
 * never split across pages; `operations` lists each group's attempts newest first.
 */
export function listOperations(entries: HistoryEntry[], page: Page): { total: number; offset: number; limit: number; operations: HistoryOperation[] } {
  const groups = attemptGroups(entries);
  const operations = groups.slice(page.offset, page.offset + page.limit).flatMap((group) => {
    const backup = group[0]!.entry.operation === "backup" && group[0]!.entry.backupNumber > 0;
    return group.map((k, i) => toOperation(k, backup ? { index: i + 1, of: group.length } : null)).reverse();
  });
  return { total: groups.length, offset: page.offset, limit: page.limit, operations };
}

export interface ChartPoint {
  id: string;
  number: number;
  startingDate: string;
  duration: number;
  /** null when the backup kept no archive (failed or stopped). */
  archiveSize: number | null;
  outcome: Outcome;
}

/** Backups only (restores and log integrations have no comparable duration or size), oldest → newest, the last `max`. */
export function chartSeries(entries: HistoryEntry[], max = CHART_MAX_POINTS): { points: ChartPoint[]; backups: number } {
  const backups = keyed(entries).filter((k) => k.entry.operation === "backup" && k.start !== -Infinity).sort(oldestFirst);
  const points = backups.slice(Math.max(0, backups.length - max)).map(({ id, entry: e }) => ({
    id, number: e.backupNumber, startingDate: e.startingDate, duration: e.duration, archiveSize: e.archiveSize, outcome: outcomeOf(e),
  }));
  return { points, backups: backups.length };
}

/** Whether the schedule kept its promise. */
export interface ScheduleHealth {
  frequency: SchedulerSettings["frequency"];
  /**
   * noSchedule: Frequency Never, nothing promised. ok: the next promised backup is still ahead (or within the
   * grace). overdue: a promised backup has not succeeded. unknown: the promise can't be worked out (see reason).
   */
  state: "noSchedule" | "ok" | "overdue" | "unknown";
  /** The first scheduled time after the last success (or after the anchor day): the promise being judged. */
  promisedAt: string | null;
  /** How far past `promisedAt` now is (overdue only). */
  lateByMs: number | null;
  graceMs: number;
  /** Why the state is unknown, in plain words. */
  reason: string | null;
  /**
   * BackupIfDataChange is on: a scheduled time with nothing changed is journaled as "Backup postponed" and never
   * reaches the history, so "overdue" may only mean the data did not change.
   */
  mayHaveBeenPostponed: boolean;
}

export interface HistorySummary {
  /** What the figures are over: the kept entries (retention drops older ones, docs/backup-history.md). */
  kept: { operations: number; backups: number; oldestStart: string | null };
  /** Over the kept backups: status 0 counts as a success; partial and failed ones do not. */
  successRate: { backups: number; succeeded: number; partial: number; failed: number; percent: number | null };
  lastSuccess: { id: string; number: number; at: string; ageMs: number; duration: number } | null;
  lastBackup: { id: string; number: number; at: string; status: number; statusText: string; partial: boolean; outcome: Outcome } | null;
  schedule: ScheduleHealth;
  /** Shortcut for the page's flag. */
  overdue: boolean;
  now: string;
}

export interface SummaryOptions {
  scheduler: SchedulerSettings;
  backupIfDataChange: boolean;
  now: Date;
  /** The zone the schedule's wall-clock times are read in; the server's own by default. */
  timeZone?: string;
  graceMs?: number;
}

export function historySummary(entries: HistoryEntry[], opts: SummaryOptions): HistorySummary {
  const all = keyed(entries).sort(oldestFirst);
  const backups = all.filter((k) => k.entry.operation === "backup");
  const count = (o: Outcome) => backups.filter((k) => outcomeOf(k.entry) === o).length;
  const succeeded = count("success");
  const last = backups.at(-1) ?? null;
  // A success whose date can't be read (an odd entry from another tool) gives no age and no promise to count from.
  const success = [...backups].reverse().find((k) => outcomeOf(k.entry) === "success" && k.start !== -Infinity) ?? null;
  const nowMs = opts.now.getTime();
  const schedule = scheduleHealth(success, opts);
  return {
    kept: { operations: all.length, backups: backups.length, oldestStart: all.find((k) => k.start !== -Infinity)?.entry.startingDate ?? null },
    successRate: {
      backups: backups.length, succeeded, partial: count("partial"), failed: count("failed"),
      percent: backups.length ? Math.round((succeeded / backups.length) * 1000) / 10 : null,
    },
    lastSuccess: success && {
      id: success.id, number: success.entry.backupNumber, at: success.entry.startingDate,
      ageMs: Math.max(0, nowMs - success.start), duration: success.entry.duration,
    },
    lastBackup: last && {
      id: last.id, number: last.entry.backupNumber, at: last.entry.startingDate, status: last.entry.status,
      statusText: last.entry.statusText, partial: last.entry.partial, outcome: outcomeOf(last.entry),
    },
    schedule,
    overdue: schedule.state === "overdue",
    now: opts.now.toISOString(),
  };
}

/**
 * The promise judged is the first scheduled time after the last successful backup started — or, when there is
 * none since the schedule was set, after its anchor day. The anchor (set when the schedule is saved) records the
 * day but not the hour: counting from the start of that day would flag a schedule saved in the afternoon for a
 * morning time as overdue the moment it is saved, so the promise counts from the end of the anchor day. The cost
 * is that a first scheduled time on the very day of saving that fails is flagged one period later (the failed
 * entry itself is in the list at once).
 */
function scheduleHealth(success: Keyed | null, opts: SummaryOptions): ScheduleHealth {
  const s = opts.scheduler;
  const timeZone = opts.timeZone ?? localTimeZone();
  const base: ScheduleHealth = {
    frequency: s.frequency, state: "ok", promisedAt: null, lateByMs: null,
    graceMs: (opts.graceMs ?? OVERDUE_GRACE_MS) + Math.max(0, success?.entry.duration ?? 0), reason: null,
    mayHaveBeenPostponed: opts.backupIfDataChange,
  };
  if (s.frequency === "Never") return { ...base, state: "noSchedule", mayHaveBeenPostponed: false };
  const anchorDay = s.anchor !== null ? parseIsoDay(s.anchor) : null;
  const anchorEnd = anchorDay !== null ? resolveWallTime((anchorDay + 1) * DAY_MS, timeZone) : null;
  const candidates = [success?.start ?? null, anchorEnd].filter((t): t is number => t !== null && Number.isFinite(t));
  if (candidates.length === 0) {
    return { ...base, state: "unknown", reason: "No successful backup yet, and the schedule has no anchor date (it was never saved from the console), so when its first backup was due is unknown." };
  }
  const since = new Date(Math.max(...candidates));
  let promised: Date | null;
  try {
    promised = nextRun(s, since, { timeZone });
  } catch (err) {
    return { ...base, state: "unknown", reason: `The schedule can't be worked out: ${(err as Error).message}` };
  }
  if (!promised) return { ...base, state: "unknown", reason: "The schedule never fires (no day matches it)." };
  const late = opts.now.getTime() - promised.getTime();
  return late > base.graceMs
    ? { ...base, state: "overdue", promisedAt: promised.toISOString(), lateByMs: late }
    : { ...base, promisedAt: promised.toISOString() };
}

export interface OperationDetails extends HistoryOperation {
  scheduledDate: string | null;
  backupPath: string;
  /** "" when no log backup was made. */
  logPath: string;
  structurePath: string;
  dataPath: string;
  archiveSha256: string | null;
  attachments: AttachmentResult[];
  /** What went wrong, in plain words: the status and its text for anything but a success. */
  errors: string[];
  files: { total: number; matching: number; offset: number; limit: number; filter: string; items: string[] };
}

export interface FilesQuery extends Page {
  /** Case-insensitive substring of the path; "" for all. */
  filter: string;
}

/** One operation by its id, with one page of its saved files; null when the history no longer holds it. */
export function operationDetails(entries: HistoryEntry[], id: string, files: FilesQuery): OperationDetails | null {
  const found = keyed(entries).find((k) => k.id === id);
  if (!found) return null;
  const e = found.entry;
  const needle = files.filter.trim().toLowerCase();
  const matching = needle ? e.files.filter((f) => f.toLowerCase().includes(needle)) : e.files;
  return {
    ...toOperation(found),
    scheduledDate: e.scheduledDate, backupPath: e.backupPath, logPath: e.logPath, structurePath: e.structurePath,
    dataPath: e.dataPath, archiveSha256: e.archiveSha256, attachments: e.attachments,
    errors: outcomeOf(e) === "success" ? [] : [`${e.status} ${e.statusText}`],
    files: {
      total: e.files.length, matching: matching.length, offset: files.offset, limit: files.limit, filter: files.filter,
      items: matching.slice(files.offset, files.offset + files.limit),
    },
  };
}

/** What the loader needs of the database (DatabaseContext fits): the settings as resolved, and its history file. */
export interface HistorySource {
  resolve(): Promise<{ settings: BackupSettings; destination: string; structureKey: string; databaseName: string }>;
  history(ctx: { destination: string; structureKey: string; databaseName: string }): {
    filePath: string;
    read(): Promise<{ entries: HistoryEntry[]; damaged: DamagedHistory | null }>;
  };
}

export type LoadedHistory =
  | { ok: true; entries: HistoryEntry[]; settings: BackupSettings; historyPath: string; damaged: DamagedHistory | null }
  | { ok: false; problem: string; historyPath: string | null };

/** This database's entries and the settings in force; a problem in plain words instead of an exception. */
export async function loadHistory(source: HistorySource): Promise<LoadedHistory> {
  let ctx;
  try {
    ctx = await source.resolve();
  } catch (err) {
    // The history lives in the destination folder, which only the settings name.
    return {
      ok: false, historyPath: null,
      problem: `The backup settings can't be read, so where backupHistory.json is (the destination folder) is unknown: ${(err as Error).message}. Fix Settings/Backup.4DSettings (the Settings page shows the problem).`,
    };
  }
  const history = source.history(ctx);
  try {
    const { entries, damaged } = await history.read();
    return { ok: true, entries, settings: ctx.settings, historyPath: history.filePath, damaged };
  } catch (err) {
    return { ok: false, historyPath: history.filePath, problem: `${history.filePath} can't be read: ${(err as Error).message}` };
  }
}
