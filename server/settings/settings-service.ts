// The Settings page's domain: Settings/Backup.4DSettings as the server reads it (or the file's error, never
// defaults in its place), the previews of a schedule being edited, and the save — validated, then the file edited
// in place (unknown keys kept, only changed values touched), together with the alert webhook (a console setting).
// Validation lives in settings-input.ts; the file's reading and writing in backup-settings-file.ts.
import { stat, statfs } from "node:fs/promises";
import type { WebhookSetting } from "../automation/alerts";
import { webhookToSave } from "../automation/webhook";
import { DomainError } from "../errors";
import type { CheckedOffsiteForm } from "../offsite/offsite-form";
import { formatLocalTime } from "../journal/format-block";
import type { BackupLocks } from "../locks/backup-locks";
import { describeCron, validateCron } from "../scheduler/cron";
import { nextRuns } from "../scheduler/next-run";
import { schedulePreview } from "../scheduler/schedule-preview";
import { loadSettings, saveSettings, settingsRevision } from "./backup-settings-file";
import type { BackupSettings } from "./model";
import { resolveDestination } from "./resolve";
import { describeAttachments, localDate, SettingsInputError, settingsWarnings, validateSettingsInput, type SettingsInput } from "./settings-input";

/** Where the settings are, for this database. */
export interface SettingsPlace {
  databaseDir: string;
  home: string;
  defaultDestination: string;
  settingsFile: string;
  dataFile: string;
}

export interface SettingsServiceOptions {
  place: SettingsPlace;
  /** Settings/ goes into the archive: a save takes the structure lock (it waits while a backup holds it). */
  locks: BackupLocks;
  /** The alert webhook's setting (console.sqlite), saved by the same Save. */
  webhook: { get(): WebhookSetting; set(setting: WebhookSetting): void };
  /**
   * The Off-site tab (console settings in console.sqlite, checked in server/offsite/offsite-form.ts), saved by the
   * same Save: checked without the network, then `prepare` asks the bucket, then `commit` stores it.
   */
  offsite?: (raw: unknown) => CheckedOffsiteForm;
  /** Called after a save (the scheduler re-reads the schedule). */
  onSaved?: () => void;
  now?: () => Date;
}

interface FileError { line: number | null; reason: string; message: string }

/** SettingsFileError by name: Next bundles route handlers and services separately, so `instanceof` can't be trusted. */
function asFileError(err: unknown): FileError | null {
  if (!(err instanceof Error) || err.name !== "SettingsFileError") return null;
  const e = err as Error & { line?: number; reason?: string };
  return { line: e.line ?? null, reason: e.reason ?? e.message, message: e.message };
}

const refused = (code: "BAD_REQUEST" | "CONFLICT" | "PRECONDITION_FAILED", message: string) => new DomainError(null, message, { code });

export interface SaveRequest {
  settings: SettingsInput;
  /** The revision the page loaded: a file changed since is not overwritten. */
  revision?: string;
  /** false: refuse at once instead of waiting while a backup holds the structure lock. */
  wait?: boolean;
  webhook?: { url: string; allowPrivate: boolean };
  /** The Off-site tab's values, when the admin changed them. */
  offsite?: unknown;
  /** Who saves (recorded with the off-site settings). */
  by?: string | null;
  signal?: AbortSignal;
}

export class SettingsService {
  private readonly now: () => Date;

  constructor(private readonly opts: SettingsServiceOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  private async load(): Promise<{ settings: BackupSettings; error: null } | { settings: null; error: FileError }> {
    const { databaseDir, defaultDestination } = this.opts.place;
    try {
      return { settings: await loadSettings(databaseDir, defaultDestination), error: null };
    } catch (err) {
      const error = asFileError(err);
      if (!error) throw err;
      return { settings: null, error };
    }
  }

  private savedSchedule() {
    return loadSettings(this.opts.place.databaseDir, this.opts.place.defaultDestination).then((s) => s.scheduler, () => null);
  }

  /** The cron field's preview: the expression in plain words and its next five runs, in the server's time. */
  async cronPreview(expression: string) {
    const problem = validateCron(expression);
    if (problem) return { error: problem, description: null, next: [] as string[] };
    const base = await this.savedSchedule();
    if (!base) return { error: null, description: describeCron(expression), next: [] as string[] };
    // Formatted here, in the server's time zone, which is the one the schedule runs in (not the browser's).
    const next = nextRuns({ ...base, frequency: "Cron", cron: expression }, this.now(), 5).map((d) => formatLocalTime(d));
    return { error: null, description: describeCron(expression), next };
  }

  /** The Scheduler tab's preview of the schedule being edited (any frequency): its next five runs, server time. */
  async schedulePreview(scheduler: unknown) {
    const preview = schedulePreview(scheduler, await this.savedSchedule(), this.now());
    return { ...preview, next: preview.next.map((d) => formatLocalTime(d)) };
  }

  /** The settings as the server reads them, with the destination's state, the attachments and the warnings. */
  async get() {
    const w = this.opts.place;
    const [loaded, revision] = await Promise.all([this.load(), settingsRevision(w.databaseDir)]);
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
  }

  /**
   * Saves the page: while a backup holds the structure lock the save waits for its end, and checks the revision
   * only then, so it never overwrites what it hasn't seen. Nothing is saved unless everything can be.
   */
  save(req: SaveRequest) {
    const w = this.opts.place;
    return this.opts.locks.runWrite("structure", async () => {
      const loaded = await this.load();
      if (loaded.error) {
        throw refused("PRECONDITION_FAILED", `The settings file can't be read (${loaded.error.message}). Fix or remove ${w.settingsFile} by hand; the console won't overwrite it.`);
      }
      if (req.revision !== undefined && req.revision !== (await settingsRevision(w.databaseDir))) {
        throw refused("CONFLICT", "The settings file changed since this page loaded (another save, or an edit by hand). Reload the page to see the current settings, then make your changes again.");
      }
      const result = await validateSettingsInput(req.settings, loaded.settings, localDate(this.now()), w);
      const webhook = req.webhook ? await webhookToSave(req.webhook, this.opts.webhook.get()) : null;
      const offsite = req.offsite !== undefined && this.opts.offsite ? this.opts.offsite(req.offsite) : null;
      const problems = [...result.problems, ...(webhook && "problem" in webhook ? [{ path: "webhook.url", message: webhook.problem }] : []),
        ...(offsite?.problems ?? [])];
      // One problem per line in the message; each with its field in the error (the Settings page shows it there).
      if (!result.settings || problems.length > 0) throw new SettingsInputError(problems);
      // The off-site part first: setting up encryption asks the bucket, and a refusal there must leave the file as it was.
      const offsiteReady = offsite?.prepare ? await offsite.prepare() : null;
      if (offsiteReady && offsiteReady.problems.length > 0) throw new SettingsInputError(offsiteReady.problems);
      try {
        await saveSettings(w.databaseDir, result.settings);
      } catch (err) {
        const error = asFileError(err);
        if (error) throw refused("PRECONDITION_FAILED", `The settings file can't be read (${error.message}). Fix or remove it by hand; the console won't overwrite it.`);
        throw err; // SettingsValueError: a DomainError, a bad request
      }
      const webhookChanged = webhook && "setting" in webhook && webhook.changed ? webhook.setting : null;
      if (webhookChanged) this.opts.webhook.set(webhookChanged);
      const offsiteSaved = offsiteReady?.commit?.(req.by ?? null) ?? null;
      this.opts.onSaved?.();
      return {
        saved: true, anchor: result.settings.scheduler.anchor, revision: await settingsRevision(w.databaseDir), warnings: result.warnings,
        webhook: webhookChanged, offsite: offsiteSaved,
      };
    }, { signal: req.signal, noWait: req.wait === false });
  }
}

async function destinationInfo(settings: BackupSettings, databaseDir: string) {
  const path = resolveDestination(settings, databaseDir);
  const isFolder = await stat(path).then((s) => s.isDirectory(), () => false);
  const fs = isFolder ? await statfs(path).catch(() => null) : null;
  return { path, exists: isFolder, freeBytes: fs ? fs.bavail * fs.bsize : null, totalBytes: fs ? fs.blocks * fs.bsize : null };
}
