// The settings as the console sends them to be saved (spec §6, §10): a zod schema with plain-English messages,
// and the checks that need the disk (destination, attachments). Kept out of the tRPC router so it can be tested
// without a server; the router only turns the problems into a BAD_REQUEST.
import { stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { checkSettings } from "./backup-settings-file";
import { WEEKDAYS, type BackupSettings } from "./model";
import { destinationProblem, resolveAttachments, resolveDestination, type AttachmentContext } from "./resolve";

/** One thing wrong with the settings: where (a dotted path into BackupSettings, or 4D's key) and what. */
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

/** Today in the server's local time, as YYYY-MM-DD (schedules are wall-clock, spec §6). */
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

const zodPath = (path: PropertyKey[]) => path.map(String).join(".");

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
  if (!retry.tryBackupAtTheNextScheduledDate && retry.tryToBackupAfter < 60) {
    problems.push({ path: "advanced.backupFailure.tryToBackupAfter", message: "Try again after must be at least 1 minute." });
  }
  const settings: BackupSettings = {
    databaseName: current.databaseName,
    general: { ...v.general },
    scheduler: { ...v.scheduler, cron, anchor: current.scheduler.anchor },
    advanced: v.advanced,
  };
  const changed = JSON.stringify(scheduleOf(settings.scheduler)) !== JSON.stringify(scheduleOf(current.scheduler));
  if (changed || (settings.scheduler.anchor === null && settings.scheduler.frequency !== "Never")) settings.scheduler.anchor = today;
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
  /** Why the backup won't save it (spec §1), or null. */
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

/**
 * The checks that need the disk: the destination must be an allowed place (destinationProblem) and an existing
 * folder; attachments must exist and be allowed.
 */
export async function diskProblems(settings: BackupSettings, ctx: Omit<AttachmentContext, "destination">): Promise<InputProblem[]> {
  const problems: InputProblem[] = [];
  const destination = resolveDestination(settings, ctx.databaseDir);
  const kind = await kindOf(destination);
  const refused = await destinationProblem(destination, ctx);
  if (refused) {
    problems.push({ path: "general.destinationFolder", message: `Destination folder ${destination} is refused: it ${refused}.` });
  } else if (kind === null) {
    problems.push({ path: "general.destinationFolder", message: `Destination folder ${destination} does not exist on the server. Create it first, or choose an existing folder.` });
  } else if (kind === "file") {
    problems.push({ path: "general.destinationFolder", message: `Destination folder ${destination} is a file, not a folder.` });
  }
  for (const [i, a] of (await describeAttachments(settings, ctx)).entries()) {
    const where = a.absolute && a.absolute !== a.path ? `${a.path} (${a.absolute})` : a.path;
    const at = `general.includesFiles.${i}`;
    // Missing first: for a path that doesn't exist the refusal can only guess (e.g. "a server file in STRONGBOX_HOME").
    if (!a.exists) problems.push({ path: at, message: `Attachment ${where} was not found on the server. Attachments are added by their path on the server; remove it or create it first.` });
    else if (a.refused) problems.push({ path: at, message: `Attachment ${where} is refused: it ${a.refused}.` });
  }
  return problems;
}

/**
 * Everything wrong with `input`, or the settings to write: the schema and the file's rules, plus the disk checks
 * whenever the destination and attachments themselves parsed (so a bad number doesn't hide a missing folder).
 */
export async function validateSettingsInput(
  input: unknown,
  current: BackupSettings,
  today: string,
  ctx: Omit<AttachmentContext, "destination">,
): Promise<{ settings: BackupSettings; problems: [] } | { settings: null; problems: InputProblem[] }> {
  const result = settingsToSave(input, current, today);
  const general = settingsInputSchema.shape.general.safeParse((input as { general?: unknown } | null)?.general);
  const disk = general.success ? await diskProblems({ ...current, general: general.data }, ctx) : [];
  const problems = [...result.problems, ...disk];
  return result.settings && problems.length === 0 ? { settings: result.settings, problems: [] } : { settings: null, problems };
}
