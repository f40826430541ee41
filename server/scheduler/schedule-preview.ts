// The Scheduler tab's preview of a schedule being edited: when it will run next (every frequency, not only Cron),
// and a Cron expression in plain words. Worked out as a save would leave it: the anchor stays the saved one while
// the schedule is the saved one, and becomes today when it changed (see anchorAfterSave).
import { localDate, anchorAfterSave, settingsInputSchema } from "../settings/settings-input";
import type { BackupSettings } from "../settings/model";
import { describeCron, validateCron } from "./cron";
import { nextRuns } from "./next-run";

export interface SchedulePreview {
  /** Why the schedule can't be worked out (a number out of range, a bad Cron expression), in words; or null. */
  error: string | null;
  /** Cron only: the expression in plain words. */
  description: string | null;
  next: Date[];
}

export function schedulePreview(input: unknown, saved: BackupSettings["scheduler"] | null, now: Date, count = 5): SchedulePreview {
  const parsed = settingsInputSchema.shape.scheduler.safeParse(input);
  if (!parsed.success) return { error: parsed.error.issues[0]?.message ?? "This schedule can't be read.", description: null, next: [] };
  const edited = { ...parsed.data, cron: parsed.data.cron.trim().replace(/\s+/g, " "), anchor: null };
  if (edited.frequency === "Never") return { error: null, description: null, next: [] };
  if (edited.frequency === "Cron") {
    const problem = validateCron(edited.cron);
    if (problem) return { error: problem, description: null, next: [] };
  }
  const anchor = anchorAfterSave(edited, saved ?? { ...edited, anchor: null }, localDate(now));
  return {
    error: null,
    description: edited.frequency === "Cron" ? describeCron(edited.cron) : null,
    next: nextRuns({ ...edited, anchor }, now, count),
  };
}
