// settingsRouter: Settings/Backup.4DSettings for the Settings page (spec §6, §10). `get` shows the settings as
// the engine sees them (or the file's error, never defaults in its place); `update` validates, then edits the
// file in place (unknown keys kept). Validation lives in ../../settings/settings-input.ts.
import { stat, statfs } from "node:fs/promises";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { databaseLayout } from "../../database/layout";
import { loadSettings, saveSettings, settingsRevision } from "../../settings/backup-settings-file";
import type { BackupSettings } from "../../settings/model";
import { resolveDestination } from "../../settings/resolve";
import { describeAttachments, localDate, SettingsInputError, settingsWarnings, validateSettingsInput, type SettingsInput } from "../../settings/settings-input";
import type { Services } from "../../services";
import { adminProcedure, router, viewerProcedure } from "../init";
import { describeCron, validateCron } from "../../scheduler/cron";
import { nextRuns } from "../../scheduler/next-run";
import { schedulePreview } from "../../scheduler/schedule-preview";
import { formatLocalTime } from "../../journal/backup-journal";
import { webhookToSave } from "../../automation/webhook";
import { checkOffsiteForm, type OffsiteFormInput } from "../../offsite/offsite-form";
import { secretBoxOf } from "./offsite";

interface FileError { line: number | null; reason: string; message: string }

/** SettingsFileError by name: Next bundles route handlers and services separately, so `instanceof` can't be trusted. */
function asFileError(err: unknown): FileError | null {
  if (!(err instanceof Error) || err.name !== "SettingsFileError") return null;
  const e = err as Error & { line?: number; reason?: string };
  return { line: e.line ?? null, reason: e.reason ?? e.message, message: e.message };
}

function where(services: Services) {
  const { databaseDir, home, defaultDestination } = services.engine.opts;
  const layout = databaseLayout(databaseDir);
  return { databaseDir, home, defaultDestination, settingsFile: layout.settingsFile, dataFile: layout.dataFile };
}

type Loaded = { settings: BackupSettings; error: null } | { settings: null; error: FileError };

async function load(w: ReturnType<typeof where>): Promise<Loaded> {
  try {
    return { settings: await loadSettings(w.databaseDir, w.defaultDestination), error: null };
  } catch (err) {
    const error = asFileError(err);
    if (!error) throw err;
    return { settings: null, error };
  }
}

async function destinationInfo(settings: BackupSettings, databaseDir: string) {
  const path = resolveDestination(settings, databaseDir);
  const isFolder = await stat(path).then((s) => s.isDirectory(), () => false);
  const fs = isFolder ? await statfs(path).catch(() => null) : null;
  return { path, exists: isFolder, freeBytes: fs ? fs.bavail * fs.bsize : null, totalBytes: fs ? fs.blocks * fs.bsize : null };
}

const bad = (code: "BAD_REQUEST" | "CONFLICT" | "PRECONDITION_FAILED", message: string) => new TRPCError({ code, message });

export const settingsRouter = router({
  /** The cron field's preview (spec §6): the expression in plain words and its next five runs, server time. */
  cronPreview: viewerProcedure.input(z.object({ expression: z.string().max(200) })).query(async ({ ctx, input }) => {
    const problem = validateCron(input.expression);
    if (problem) return { error: problem, description: null, next: [] as string[] };
    const base = await loadSettings(ctx.services.engine.opts.databaseDir, ctx.services.paths.defaultDestination).then((s) => s.scheduler, () => null);
    if (!base) return { error: null, description: describeCron(input.expression), next: [] as string[] };
    // Formatted here, in the server's time zone, which is the one the schedule runs in (not the browser's).
    const next = nextRuns({ ...base, frequency: "Cron", cron: input.expression }, new Date(), 5).map((d) => formatLocalTime(d));
    return { error: null, description: describeCron(input.expression), next };
  }),
  /** The Scheduler tab's preview of the schedule being edited (any frequency): its next five runs, server time. */
  schedulePreview: viewerProcedure.input(z.object({ scheduler: z.unknown() })).query(async ({ ctx, input }) => {
    const saved = await loadSettings(ctx.services.engine.opts.databaseDir, ctx.services.paths.defaultDestination).then((s) => s.scheduler, () => null);
    const preview = schedulePreview(input.scheduler, saved, new Date());
    // Formatted here, in the server's time zone, which is the one the schedule runs in (not the browser's).
    return { ...preview, next: preview.next.map((d) => formatLocalTime(d)) };
  }),
  get: viewerProcedure.query(async ({ ctx }) => {
    const w = where(ctx.services);
    const [loaded, revision] = await Promise.all([load(w), settingsRevision(w.databaseDir)]);
    if (loaded.error) return { file: w.settingsFile, revision, error: loaded.error, settings: null, destination: null, attachments: [], warnings: [] };
    const settings = loaded.settings;
    return {
      file: w.settingsFile,
      revision,
      error: null,
      settings,
      destination: await destinationInfo(settings, w.databaseDir),
      attachments: await describeAttachments(settings, w),
      warnings: await settingsWarnings(settings, w),
    };
  }),

  update: adminProcedure
    // Typed for the client, checked in settingsToSave so every problem gets a plain-English message.
    .input(z.object({
      settings: z.custom<SettingsInput>((v) => typeof v === "object" && v !== null), revision: z.string().max(64).optional(), wait: z.boolean().optional(),
      // The alert webhook, saved with the settings by the page's one Save (a console setting, kept in console.sqlite).
      webhook: z.object({ url: z.string().max(4000), allowPrivate: z.boolean() }).optional(),
      // The Off-site tab, when the admin changed it (console settings in console.sqlite; checked in offsite-form.ts).
      offsite: z.custom<OffsiteFormInput>((v) => typeof v === "object" && v !== null).optional(),
    }))
    // Settings/ goes into the archive: while a backup holds the structure lock, a save waits for its end (spec §9),
    // and checks the revision only then, so it never overwrites what it hasn't seen.
    .mutation(({ ctx, input, signal }) => ctx.services.engine.locks.runWrite("structure", async () => {
      const w = where(ctx.services);
      const loaded = await load(w);
      if (loaded.error) {
        throw bad("PRECONDITION_FAILED", `The settings file can't be read (${loaded.error.message}). Fix or remove ${w.settingsFile} by hand; the console won't overwrite it.`);
      }
      if (input.revision !== undefined && input.revision !== (await settingsRevision(w.databaseDir))) {
        throw bad("CONFLICT", "The settings file changed since this page loaded (another save, or an edit by hand). Reload the page to see the current settings, then make your changes again.");
      }
      const result = await validateSettingsInput(input.settings, loaded.settings, localDate(new Date()), w);
      const webhook = input.webhook ? await webhookToSave(input.webhook, ctx.services.alerts.webhook()) : null;
      const offsite = input.offsite ? checkOffsiteForm(ctx.services.consoleDb, secretBoxOf(ctx.services), input.offsite) : null;
      const problems = [...result.problems, ...(webhook && "problem" in webhook ? [{ path: "webhook.url", message: webhook.problem }] : []),
        ...(offsite?.problems ?? [])];
      // Nothing is saved unless everything can be. One problem per line in the message; each with its field in the
      // error's data (see init.ts).
      const refuse = (all: Array<{ path: string; message: string }>) => {
        const cause = new SettingsInputError(all);
        return new TRPCError({ code: "BAD_REQUEST", message: cause.message, cause });
      };
      if (!result.settings || problems.length > 0) throw refuse(problems);
      // The off-site part first: setting up encryption asks the bucket, and a refusal there must leave the file as it was.
      const offsiteReady = offsite?.prepare ? await offsite.prepare() : null;
      if (offsiteReady && offsiteReady.problems.length > 0) throw refuse(offsiteReady.problems);
      try {
        await saveSettings(w.databaseDir, result.settings);
      } catch (err) {
        const error = asFileError(err);
        if (error) throw bad("PRECONDITION_FAILED", `The settings file can't be read (${error.message}). Fix or remove it by hand; the console won't overwrite it.`);
        if (err instanceof Error && err.name === "SettingsValueError") throw bad("BAD_REQUEST", err.message);
        throw err;
      }
      if (webhook && "setting" in webhook && webhook.changed) ctx.services.alerts.setWebhook(webhook.setting);
      const offsiteSaved = offsiteReady?.commit?.(ctx.user.username) ?? null;
      ctx.services.onSettingsChanged?.();
      return {
        saved: true, anchor: result.settings.scheduler.anchor, revision: await settingsRevision(w.databaseDir), warnings: result.warnings,
        webhook: webhook && "setting" in webhook && webhook.changed ? webhook.setting : null,
        offsite: offsiteSaved,
      };
    }, { signal, noWait: input.wait === false })),
});
