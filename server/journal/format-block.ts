// Renders one operation as a backup journal block (docs/journal.md): the plain text an administrator reads in
// `Logs/Backup Journal[NNN].txt`, and the console shows live while the operation runs.
import type { OperationKind, OperationRecord, Trigger } from "../operation";
import { plural } from "../isomorphic/plural";

export interface BlockOptions {
  /** BackupJournalVerboseMode (VerboseMode). False: header, Starting and Error reported lines only. */
  verbose: boolean;
  /** IANA zone to print times in; default the server's own (process TZ). Tests pin it. */
  timeZone?: string;
  /** Render as still running (see formatRunningBlock): no "aborted", no Ending line. */
  running?: boolean;
}

/** What is known while an operation runs: the start, plus whatever the engine has filled in so far. */
export type RunningRecord = Pick<OperationRecord, "operation" | "trigger" | "startingDate"> &
  Partial<Omit<OperationRecord, "operation" | "trigger" | "startingDate">>;

const HEADERS: Record<OperationKind, string> = {
  backup: "Full Backup",
  restore: "Full Backup Restore",
  automaticRestore: "Automatic Full Backup Restore",
  logIntegration: "Log Integration",
  verification: "Archive Verification",
  postponed: "Backup postponed",
};

/** Decimal sizes (1 MB = 1,000,000 bytes), one decimal; whole bytes below 1 KB ("512 B", not "512.0 B"). */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1000;
  let i = 0;
  // Move up a unit when rounding would print "1000.0 KB".
  while (i < units.length - 1 && Math.round(value * 10) / 10 >= 1000) {
    value /= 1000;
    i++;
  }
  return `${value.toFixed(1)} ${units[i]}`;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** `2026-11-26 03:00:01 +01:00`: wall-clock time in the zone with its offset at that instant. */
export function formatLocalTime(date: Date, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(date);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const [y, mo, d, h, mi, s] = ["year", "month", "day", "hour", "minute", "second"].map(get);
  // The offset is the wall clock read as UTC minus the instant (both at whole seconds).
  const wallAsUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  const offsetMin = Math.round((wallAsUtc - Math.floor(date.getTime() / 1000) * 1000) / 60000);
  const sign = offsetMin < 0 ? "-" : "+";
  const abs = Math.abs(offsetMin);
  return `${pad(y, 4)}-${pad(mo)}-${pad(d)} ${pad(h)}:${pad(mi)}:${pad(s)} ${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** `00:00:12`; hours grow past 99 rather than wrap. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
}

export function formatTrigger(trigger: Trigger): string {
  const who = trigger.user ? ` (${trigger.user})` : "";
  switch (trigger.kind) {
    case "manual":
    case "command":
      return `${trigger.kind}${who}`;
    default:
      return trigger.kind;
  }
}

function files(n: number): string {
  return plural(n, "file");
}

function contentLine(content: OperationRecord["content"] | undefined): string | null {
  if (!content) return null;
  const parts: string[] = [];
  if (content.projectFiles)
    parts.push(`project files (${files(content.projectFiles.count)}, ${formatSize(content.projectFiles.bytes)})`);
  if (content.dataFile) parts.push(`data file (${formatSize(content.dataFile.bytes)})`);
  if (content.attachmentFiles)
    parts.push(`attachments (${files(content.attachmentFiles.count)}, ${formatSize(content.attachmentFiles.bytes)})`);
  return parts.length ? `Content : ${parts.join(", ")}` : null;
}

/** The errors to print: the recorded ones, or — so a failure never goes unexplained — the final status. */
function errorLines(rec: RunningRecord, running: boolean): string[] {
  const errors = rec.errors?.length
    ? rec.errors
    : !running && rec.status !== undefined && rec.status !== 0
      ? [{ code: rec.status, text: rec.statusText ?? "" }]
      : [];
  return errors.map((e) => `Error reported : ${e.code} ${e.text}`.trimEnd());
}

function render(rec: RunningRecord, opts: BlockOptions, running: boolean): string {
  const tz = opts.timeZone;
  // A partial backup kept its archive, so it is not "aborted"; a postponed attempt never started, so neither.
  const aborted = !running && rec.status !== undefined && rec.status !== 0 && !rec.partial && rec.operation !== "postponed";
  const lines = [`*** ${HEADERS[rec.operation]}${aborted ? " aborted" : ""}`];

  if (!opts.verbose) {
    lines.push(`Starting : ${formatLocalTime(rec.startingDate, tz)}`, ...errorLines(rec, running));
    return lines.join("\n");
  }

  lines.push(`Trigger : ${formatTrigger(rec.trigger)}`);
  if (rec.archivePath) {
    const verb = rec.operation === "restore" || rec.operation === "automaticRestore" ? "Restoring archive"
      : rec.operation === "verification" ? "Verifying archive" : "Creating archive";
    lines.push(`${verb} : ${rec.archivePath}`);
  }
  if (rec.logBackupPath) {
    const verb = rec.operation === "logIntegration" ? "Integrating log backup" : "Creating log backup";
    lines.push(`${verb} : ${rec.logBackupPath}`);
  }
  const content = contentLine(rec.content);
  if (content) lines.push(content);
  if (rec.attachments?.length) {
    lines.push("Attachment(s):");
    for (const a of rec.attachments) lines.push(`\t${a.attachmentPath} [${a.found ? "OK" : "NOT FOUND"}]`);
  }
  if (rec.archive) {
    lines.push(`Archive : ${formatSize(rec.archive.size)}, sha256 ${rec.archive.sha256}, ${rec.archive.verified ? "verified" : "not verified"}`);
  }
  // Notes are free text (hook output…): blank lines dropped and a leading "***" indented, so a note can
  // never pass for a block boundary.
  for (const note of rec.notes ?? []) {
    for (const line of note.split(/\r?\n/)) if (line.trim()) lines.push(line.startsWith("***") ? ` ${line}` : line);
  }
  if (rec.scheduledDate) lines.push(`Scheduled : ${formatLocalTime(rec.scheduledDate, tz)}`);
  lines.push(`Starting : ${formatLocalTime(rec.startingDate, tz)}`);
  if (!running && rec.endingDate) {
    const took = formatDuration(rec.endingDate.getTime() - rec.startingDate.getTime());
    lines.push(`Ending : ${formatLocalTime(rec.endingDate, tz)} (${took})`);
  }
  lines.push(...errorLines(rec, running));
  return lines.join("\n");
}

/**
 * The block of a finished operation, without a trailing newline (BackupJournal.append adds the separation).
 * Line order: header, Trigger, Creating archive, Creating log backup, Content, Attachment(s), Archive, notes,
 * Scheduled, Starting, Ending, Error reported — errors last so that verbose and non-verbose blocks read alike.
 */
export function formatBlock(record: OperationRecord, opts: BlockOptions): string {
  return render(record, opts, opts.running ?? false);
}

/**
 * The block of an operation still running, for the console's live view: the lines known so far, never
 * "aborted" and no Ending line (the status is not known yet); errors already met are shown.
 */
export function formatRunningBlock(record: RunningRecord, opts: BlockOptions): string {
  return render(record, opts, true);
}

/** Splits a journal file's text into its blocks (oldest first), for the console's Journal page. */
export function splitBlocks(text: string): string[] {
  return text
    .replace(/\r\n/g, "\n")
    .split(/\n(?=\*\*\* )/)
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}
