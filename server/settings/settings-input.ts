// The settings as the console sends them to be saved (docs/settings.md, docs/console.md): a zod schema with plain-English messages,
// and the checks that need the disk (destination, attachments). Kept out of the tRPC router so it can be tested
// without a server; the router only turns the problems into a BAD_REQUEST.
//
// Problems and warnings: a NEW value that is wrong stops the save (a problem). A value the file already holds never
// blocks saving the other settings — 4D's own files hold a destination "./" and attachments that no longer exist —
// so it is a warning saying what the backups will do while it stays, shown on the tab where it can be changed. A
// missing attachment is always a warning: the backup saves the rest and is partial (1409), as it would be anyway.
import { stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { checkSettings } from "./backup-settings-file";
import { plural } from "../isomorphic/plural";
import { MIN_RETRY_SECONDS } from "./defaults";
import { WEEKDAYS, type BackupSettings } from "./model";
import { destinationProblem, resolveAttachments, resolveDestination, type AttachmentContext } from "./resolve";
import { DomainError } from "../errors";

/**
 * One thing wrong with the settings: where (a dotted path into BackupSettings such as `general.destinationFolder`,
 * or 4D's key such as `Scheduler/Hourly/Every`) and what. The Settings page shows it under that field, on its tab.
 */
export interface InputProblem {
  path: string;
  message: string;
}

const wholeNumber = (label: string, min: number, max: number) => {
  const error = `${label} must be a whole number from ${min} to ${max}.`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const bool = z.boolean();
/** Seconds since midnight; 4D files may carry milliseconds, so fractions are kept. */
const timeOfDay = (label: string) => {
  const error = `${label} must be a time of day from 00:00 to 23:59.`;
  return z.number({ error }).min(0, { error }).lt(86400, { error });
};
const dayRow = (day: string) => z.object({ save: bool, hour: timeOfDay(`The time on ${day}`) });

export const settingsInputSchema = z.object({
  general: z.object({
    includeStructureFile: bool,
    includeDataFile: bool,
    destinationFolder: z.string().trim().min(1, { error: "The destination folder is required." }),
    includesFiles: z.array(z.string().trim().min(1, { error: "An attachment path is empty." })).max(1000),
  }),
  scheduler: z.object({
    frequency: z.enum(["Never", "Hourly", "Daily", "Weekly", "Monthly", "Cron"], { error: "Frequency must be Never, Hourly, Daily, Weekly, Monthly or Cron." }),
    hourly: z.object({ every: wholeNumber("Hourly: every … hours", 1, 24), startingAt: timeOfDay("Hourly: starting at") }),
    daily: z.object({ every: wholeNumber("Daily: every … days", 1, 999), hour: timeOfDay("Daily: the time") }),
    weekly: z.object({
      every: wholeNumber("Weekly: every … weeks", 1, 999),
      days: z.object(Object.fromEntries(WEEKDAYS.map((d) => [d, dayRow(d)])) as Record<(typeof WEEKDAYS)[number], ReturnType<typeof dayRow>>),
    }),
    monthly: z.object({
      every: wholeNumber("Monthly: every … months", 1, 999),
      day: wholeNumber("Monthly: the day of the month", 1, 31),
      hour: timeOfDay("Monthly: the time"),
    }),
    cron: z.string(),
    // Ignored: the server sets the anchor (see settingsToSave).
    anchor: z.string().nullable().optional(),
  }),
  advanced: z.object({
    setNumber: z.object({ enable: bool, value: wholeNumber("Keep only the last … backup files", 1, 9999) }),
    eraseOldBackupBefore: bool,
    backupIfDataChange: bool,
    compressionRate: z.enum(["None", "Fast", "Compact"], { error: "Compression rate must be None, Fast or Compact." }),
    checkArchiveFileDuringBackup: bool,
    backupJournalVerboseMode: bool,
    backupFailure: z.object({
      tryBackupAtTheNextScheduledDate: bool,
      tryToBackupAfter: z.number({ error: "Try again after must be a duration." }).min(0).lt(1000 * 3600, { error: "Try again after must be less than 1000 hours." }),
      abortIfBackupFail: bool,
      retryCountBeforeAbort: wholeNumber("Retries before giving up", 0, 9999),
    }),
    automaticRestore: bool,
    automaticLogIntegration: bool,
    dataLockMode: z.enum(["Snapshot", "Full"], { error: "Data lock mode must be Snapshot or Full." }),
    useLog: bool,
  }),
});

export type SettingsInput = z.input<typeof settingsInputSchema>;

/** Today in the server's local time, as YYYY-MM-DD (schedules are wall-clock, docs/settings.md). */
export function localDate(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** What decides when backups run: the frequency and the numbers of that frequency only. */
function scheduleOf(s: BackupSettings["scheduler"]): unknown {
  switch (s.frequency) {
    case "Never": return ["Never"];
    case "Hourly": return ["Hourly", s.hourly];
    case "Daily": return ["Daily", s.daily];
    case "Weekly": return ["Weekly", s.weekly];
    case "Monthly": return ["Monthly", s.monthly];
    case "Cron": return ["Cron", s.cron.trim().replace(/\s+/g, " ")];
  }
}

/**
 * The anchor a schedule gets when saved over `current`: `today` when the schedule changed (or was never anchored),
 * so "every X" counts from the day it was set; otherwise the one it had.
 */
export function anchorAfterSave(scheduler: BackupSettings["scheduler"], current: BackupSettings["scheduler"], today: string): string | null {
  const changed = JSON.stringify(scheduleOf(scheduler)) !== JSON.stringify(scheduleOf(current));
  return changed || (current.anchor === null && scheduler.frequency !== "Never") ? today : current.anchor;
}

const zodPath = (path: PropertyKey[]) => path.map(String).join(".");
const RETRY_DELAY_PATH = "advanced.backupFailure.tryToBackupAfter";

/**
 * The settings to write, from the console's input and the settings now on disk, or the problems that stop it.
 * DatabaseName is kept from the file (the console doesn't edit it, and 4D writes it as a list); the anchor becomes
 * `today` when the schedule changed (or was never anchored), so "every X" counts from the day it was set.
 */
export function settingsToSave(
  input: unknown,
  current: BackupSettings,
  today: string,
): { settings: BackupSettings; problems: [] } | { settings: null; problems: InputProblem[] } {
  const parsed = settingsInputSchema.safeParse(input);
  if (!parsed.success) {
    return { settings: null, problems: parsed.error.issues.map((i) => ({ path: zodPath(i.path), message: i.message })) };
  }
  const v = parsed.data;
  const problems: InputProblem[] = [];
  const cron = v.scheduler.cron.trim().replace(/\s+/g, " ");
  if (v.scheduler.frequency === "Cron" && (cron === "" || cron.split(" ").length !== 5)) {
    problems.push({ path: "scheduler.cron", message: "Cron: the expression must have 5 fields (minute hour day-of-month month day-of-week), e.g. \"30 2 * * 1-5\"." });
  }
  const retry = v.advanced.backupFailure;
  // The file's own value (4D's 0.561 s) is kept as it is: retryDelayWarning says what it means.
  if (!retry.tryBackupAtTheNextScheduledDate && retry.tryToBackupAfter < MIN_RETRY_SECONDS && retry.tryToBackupAfter !== current.advanced.backupFailure.tryToBackupAfter) {
    problems.push({ path: RETRY_DELAY_PATH, message: `Try again after must be at least ${plural(MIN_RETRY_SECONDS, "second")}.` });
  }
  const settings: BackupSettings = {
    databaseName: current.databaseName,
    general: { ...v.general },
    scheduler: { ...v.scheduler, cron, anchor: current.scheduler.anchor },
    advanced: v.advanced,
  };
  settings.scheduler.anchor = anchorAfterSave(settings.scheduler, current.scheduler, today);
  // The file's own rules (codecs) have the last word, so what we accept always writes and reads back.
  for (const p of checkSettings(settings)) {
    if (!problems.some((q) => q.path === "scheduler.cron" && p.key === "Scheduler/Cron")) problems.push({ path: p.key, message: `${p.key}: ${p.reason}.` });
  }
  return problems.length ? { settings: null, problems } : { settings, problems: [] };
}

export interface AttachmentInfo {
  /** As written in the settings. */
  path: string;
  absolute: string;
  exists: boolean;
  kind: "file" | "folder" | null;
  /** Why the backup won't save it (docs/database-folder.md), or null. */
  refused: string | null;
}

const kindOf = (p: string) =>
  stat(p).then((s): "file" | "folder" => (s.isDirectory() ? "folder" : "file"), () => null);

/** Each attachment of `settings` with where it resolves, whether it exists and why it is refused, in order. */
export async function describeAttachments(settings: BackupSettings, ctx: Omit<AttachmentContext, "destination">): Promise<AttachmentInfo[]> {
  const destination = resolveDestination(settings, ctx.databaseDir);
  const { refused } = await resolveAttachments(settings, { ...ctx, destination });
  // A repeated item is refused on its later occurrences; walking backwards hands refusals to those first.
  const pending = [...refused];
  const items = settings.general.includesFiles;
  const reasons = new Array<string | null>(items.length).fill(null);
  for (let i = items.length - 1; i >= 0; i--) {
    const at = pending.findIndex((r) => r.path === items[i]);
    if (at >= 0) reasons[i] = pending.splice(at, 1)[0]!.reason;
  }
  return Promise.all(
    items.map(async (item, i) => {
      // As resolveAttachments does: relative to the database folder.
      const absolute = item.trim() === "" ? "" : path.resolve(ctx.databaseDir, item.trim());
      const kind = absolute ? await kindOf(absolute) : null;
      return { path: item, absolute, exists: kind !== null, kind, refused: reasons[i]! };
    }),
  );
}

/** Something about the destination or an attachment the disk shows, said as a problem or as a warning. */
interface DiskFinding {
  path: string;
  /** The value it is about, as written (to tell whether the file already holds it). */
  value: string;
  /** What is wrong, in one sentence. */
  fact: string;
  /** Appended when it stops a save: what to do. */
  fix: string;
  /** Appended when it is a warning: what backups do while it stays so. */
  consequence: string;
  /** Never stops a save (a missing attachment: the backup saves the rest, as a partial backup). */
  warningOnly: boolean;
}

/** What the disk says about the destination (an allowed place, an existing folder) and each attachment. */
async function diskFindings(settings: BackupSettings, ctx: Omit<AttachmentContext, "destination">): Promise<DiskFinding[]> {
  const findings: DiskFinding[] = [];
  const destination = resolveDestination(settings, ctx.databaseDir);
  const kind = await kindOf(destination);
  const refused = await destinationProblem(destination, ctx);
  const dest = { path: "general.destinationFolder", value: settings.general.destinationFolder, warningOnly: false };
  const fails = "Backups fail with 1407 (destination folder not valid) until it is changed";
  if (refused) {
    findings.push({ ...dest, fact: `Destination folder ${destination} is refused: it ${refused}.`, fix: "", consequence: `${fails}.` });
  } else if (kind === null) {
    findings.push({ ...dest, fact: `Destination folder ${destination} does not exist on the server.`, fix: "Create it first, or choose an existing folder.", consequence: `${fails} or the folder is created.` });
  } else if (kind === "file") {
    findings.push({ ...dest, fact: `Destination folder ${destination} is a file, not a folder.`, fix: "", consequence: `${fails}.` });
  }
  for (const [i, a] of (await describeAttachments(settings, ctx)).entries()) {
    const where = a.absolute && a.absolute !== a.path ? `${a.path} (${a.absolute})` : a.path;
    const at = { path: `general.includesFiles.${i}`, value: a.path };
    // Missing first: for a path that doesn't exist the refusal can only guess (e.g. "a server file in STRONGBOX_HOME").
    if (!a.exists) {
      findings.push({ ...at, warningOnly: true, fact: `Attachment ${where} was not found on the server.`,
        fix: "", consequence: "Backups save everything else and end as partial backups (1409) until it exists or is removed from the list." });
    } else if (a.refused) {
      findings.push({ ...at, warningOnly: false, fact: `Attachment ${where} is refused: it ${a.refused}.`,
        fix: "", consequence: "Backups leave it out until it is removed from the list." });
    }
  }
  return findings;
}

const asWarning = (f: DiskFinding): InputProblem => ({ path: f.path, message: `${f.fact} ${f.consequence}` });
const asProblem = (f: DiskFinding): InputProblem => ({ path: f.path, message: f.fix ? `${f.fact} ${f.fix}` : f.fact });

/** The retry delay the file holds, when it is shorter than retries really wait. */
function retryDelayWarning(settings: BackupSettings): InputProblem[] {
  const { tryBackupAtTheNextScheduledDate, tryToBackupAfter } = settings.advanced.backupFailure;
  if (tryBackupAtTheNextScheduledDate || tryToBackupAfter >= MIN_RETRY_SECONDS) return [];
  return [{ path: RETRY_DELAY_PATH, message: `Try again after is ${plural(tryToBackupAfter, "second")} in the settings file; retries wait at least ${plural(MIN_RETRY_SECONDS, "second")}. The value is kept as it is until you change it.` }];
}

/**
 * What the settings as they are will make backups do that the Settings page should say: a refused or missing
 * destination, missing or refused attachments, a retry delay shorter than retries really wait. Each on its field.
 */
export async function settingsWarnings(settings: BackupSettings, ctx: Omit<AttachmentContext, "destination">): Promise<InputProblem[]> {
  return [...(await diskFindings(settings, ctx)).map(asWarning), ...retryDelayWarning(settings)];
}

/**
 * The checks that need the disk, for settings about to be saved over `current`: a new destination or attachment
 * that is wrong is a problem; one the file already holds, and any missing attachment, is a warning.
 */
export async function diskProblems(
  settings: BackupSettings,
  ctx: Omit<AttachmentContext, "destination">,
  current?: BackupSettings,
): Promise<{ problems: InputProblem[]; warnings: InputProblem[] }> {
  const problems: InputProblem[] = [];
  const warnings: InputProblem[] = [];
  for (const f of await diskFindings(settings, ctx)) {
    const held = current !== undefined && (f.path === "general.destinationFolder"
      ? current.general.destinationFolder === f.value
      : current.general.includesFiles.includes(f.value));
    if (f.warningOnly || held) warnings.push(asWarning(f));
    else problems.push(asProblem(f));
  }
  return { problems, warnings };
}

/**
 * Settings refused on save: every problem on its own line in the message (for programs), and the problems with
 * their fields (for the Settings page, which shows each under its field, on its tab).
 */
/** Settings the Settings page sent that can't be saved: a bad request, with each problem and the field it is about. */
export class SettingsInputError extends DomainError {
  constructor(readonly problems: InputProblem[]) {
    super(null, problems.map((p) => p.message).join("\n"), { code: "BAD_REQUEST" });
    this.name = "SettingsInputError";
  }
}

/** By name: Next bundles route handlers and services separately, so `instanceof` can't be trusted. */
export const isSettingsInputError = (err: unknown): err is SettingsInputError =>
  err instanceof Error && err.name === "SettingsInputError" && Array.isArray((err as SettingsInputError).problems);

export type CheckedSettings =
  | { settings: BackupSettings; problems: []; warnings: InputProblem[] }
  | { settings: null; problems: InputProblem[]; warnings: InputProblem[] };

/**
 * Everything wrong with `input`, or the settings to write with what stays worth a warning: the schema and the
 * file's rules, plus the disk checks whenever the destination and attachments themselves parsed (so a bad number
 * doesn't hide a missing folder).
 */
export async function validateSettingsInput(
  input: unknown,
  current: BackupSettings,
  today: string,
  ctx: Omit<AttachmentContext, "destination">,
): Promise<CheckedSettings> {
  const result = settingsToSave(input, current, today);
  const general = settingsInputSchema.shape.general.safeParse((input as { general?: unknown } | null)?.general);
  const disk = general.success ? await diskProblems({ ...current, general: general.data }, ctx, current) : { problems: [], warnings: [] };
  const problems = [...result.problems, ...disk.problems];
  if (!result.settings || problems.length > 0) return { settings: null, problems, warnings: disk.warnings };
  return { settings: result.settings, problems: [], warnings: [...disk.warnings, ...retryDelayWarning(result.settings)] };
}
