// The backup engine (spec §3–5, §7): one operation at a time, from the startup checks to the journal block.
// It owns the current-operation record and emits it at a bounded rate; the console and the CLI only watch.
import crypto from "node:crypto";
import { EventEmitter } from "node:events";
import fs from "node:fs/promises";
import path from "node:path";
import type { ConsoleDb } from "../console/console-db";
import { ensureBookkeeping, type Bookkeeping } from "../data/bookkeeping";
import type { CurrentLog } from "../data/current-log";
import { BackupLocks } from "../locks/backup-locks";
import { removeSegments, writeLogBackup } from "../log/log-backup";
import { currentMarks, recordSnapshotMarks, type DataFileMarks } from "../data/data-change";
import { databaseLayout } from "../database/layout";
import { BackupHistory, toHistoryEntry, type HistoryEntry } from "../history/backup-history";
import { BackupJournal, formatBlock } from "../journal/backup-journal";
import { DEFAULT_HOOK_TIMEOUT_MS, findHook, hookEnv, hookSummary, isHookError, runHook, startupDecision, type HookContext } from "../hooks/backup-hooks";
import type { OperationRecord, Trigger } from "../operation";
import { formatLimit, isUnsafeFileError } from "../fs/safe-open";
import { MAX_MANIFEST_BYTES } from "../restore/manifest-schema";
import { loadSettings } from "../settings/backup-settings-file";
import type { BackupSettings } from "../settings/model";
import { resolveAttachments, resolveDatabaseName, resolveDestination } from "../settings/resolve";
import { BackupError, isBackupError, STATUS, statusText } from "../status";
import { ZipWriter, type ZipSource } from "../zip/zip-writer";
import { verifyArchive } from "../zip/zip-reader";
import { applyRetention, archiveName, listArchives, tempArchiveName, tempSnapshotName } from "./archives";
import { collect, type CollectedEntry } from "./collect";
import { MANIFEST_FORMAT, MANIFEST_NAME, type Manifest, type ManifestEntry } from "./manifest";
import { LastAttempts } from "./last-attempts";
import { OperationLedger } from "./operation-ledger";
import { STOPPABLE_PHASES, type EngineEvent, type EngineOperationKind, type OperationOutcome, type OperationProgress, type Phase } from "./progress";
import { snapshotSidecars, takePinnedSnapshot } from "./snapshot";
import { checkDestination, destinationLoss, fsyncDir, type CheckedDestination } from "./destination";
import { recoverInterrupted, type InterruptedOperation } from "./recovery";
import { runLogIntegration, type LogIntegrationRequest, type OperationControls } from "./log-integration";
import { stoppedError, stopReason, type StopCause } from "./stop-reason";

/** Progress is emitted at most this often: 5 a second reaches a browser "at least twice a second" without flooding. */
export const PROGRESS_INTERVAL_MS = 200;

const LEVEL = { None: 0, Fast: 1, Compact: 6 } as const;

export interface EngineOptions {
  databaseDir: string;
  home: string;
  defaultDestination: string;
  consoleDb: ConsoleDb;
  now?: () => Date;
  /** Test-only: caps the archive phase's reading speed so that a person-speed Stop lands mid-backup. */
  throttleBytesPerSecond?: number | null;
  /** How long a hook may run (spec §8: 60 s by default). */
  hookTimeoutMs?: number;
  /** The backup locks the data API's writes and the settings saves wait on (spec §9); one is made when absent. */
  locks?: BackupLocks;
  /** The log file the data API appends to; absent (tests of the archive alone): no log backups are made. */
  log?: CurrentLog | null;
  /** How long the snapshot waits for writes already running to end before 1405 (spec §7 step 3). */
  drainTimeoutMs?: number;
  /** Test-only: awaited once the data snapshot's point is pinned (the log cut there), before its copy starts. */
  beforeSnapshotCopy?: () => Promise<void>;
  /** The running application's own folders (working directory, app root): never a restore's target. */
  appDirs?: string[];
}

export interface StartRequest {
  trigger: Trigger;
  scheduledDate?: Date | null;
}

/** Context the engine resolves from the settings before each operation. */
export interface ResolvedContext {
  settings: BackupSettings;
  databaseName: string;
  destination: string;
  attachments: string[];
  refusedAttachments: Array<{ path: string; reason: string }>;
  structureKey: string;
}

/** How long On Backup Shutdown may run when the backup ends because the server is stopping. */
export const SHUTDOWN_HOOK_LIMIT_MS = 5_000;

/** What an operation asked for while the server stops is told (1409: an automatic backup is retried at the next start). */
export const SHUTTING_DOWN_TEXT = "The server is shutting down: no operation can start now. Try again once it has restarted.";

/** What a refused start says, by the operation already running (one at a time, spec §7). */
const RUNNING_TEXT: Record<EngineOperationKind, string> = {
  backup: "A backup is already in progress.", logIntegration: "A log integration is running.", restore: "A restore is in progress.",
  restoreInPlace: "A restore of the data file is in progress.", verify: "An archive verification is in progress.",
};

const OPERATION_NAME: Record<EngineOperationKind, string> = {
  backup: "backup", logIntegration: "log integration", restore: "restore", restoreInPlace: "restore of the data file", verify: "verification",
};

/** One running operation: its progress record (streamed), its Stop, and its end. */
interface Slot { progress: OperationProgress; abort: AbortController; done: Promise<OperationOutcome> }

export class BackupEngine extends EventEmitter<{ event: [EngineEvent] }> {
  readonly layout: ReturnType<typeof databaseLayout>;
  readonly journal: BackupJournal;
  readonly locks: BackupLocks;
  /** The last backup attempt, also when its history entry could not be written (see last-attempts.ts). */
  readonly lastAttempts: LastAttempts;
  private readonly ledger: OperationLedger;
  private readonly now: () => Date;
  private current: Slot | null = null;
  private lastOutcome: OperationOutcome | null = null;
  private emitTimer: NodeJS.Timeout | null = null;
  private dirty = false;
  /** Set by shutDown(): the server is stopping, and no operation may start any more. */
  private closing = false;
  /** Operations a crash interrupted, as recorded at start (init): automatic ones count as failed attempts. */
  readonly interruptedAtStart: InterruptedOperation[] = [];

  constructor(readonly opts: EngineOptions) {
    super();
    this.layout = databaseLayout(opts.databaseDir);
    this.journal = new BackupJournal(this.layout.logsDir, { onAppend: (file) => this.emit("event", { type: "journal", file }) });
    this.ledger = new OperationLedger(opts.consoleDb, opts.databaseDir);
    this.lastAttempts = new LastAttempts(opts.consoleDb, opts.databaseDir);
    this.now = opts.now ?? (() => new Date());
    this.locks = opts.locks ?? new BackupLocks();
    this.locks.on("change", (locks) => this.emit("event", { type: "locks", locks }));
    // One listener per open console (each tab's event stream): no fixed limit applies.
    this.setMaxListeners(0);
  }

  /** Resolves the settings, name, destination and attachments as the next backup will see them. */
  async resolve(): Promise<ResolvedContext> {
    const settings = await loadSettings(this.opts.databaseDir, this.opts.defaultDestination);
    const databaseName = resolveDatabaseName(settings, this.opts.databaseDir);
    const destination = resolveDestination(settings, this.opts.databaseDir);
    const { accepted, refused } = await resolveAttachments(settings, {
      databaseDir: this.opts.databaseDir,
      home: this.opts.home,
      destination,
      dataFile: this.layout.dataFile,
    });
    return { settings, databaseName, destination, attachments: accepted, refusedAttachments: refused, structureKey: this.layout.projectDir };
  }

  history(ctx: Pick<ResolvedContext, "destination" | "structureKey" | "databaseName">): BackupHistory {
    return new BackupHistory(ctx.destination, ctx.structureKey, {
      rebuild: () => import("./rebuild-history").then((m) => m.rebuildHistory(ctx.destination, ctx.databaseName)),
    });
  }

  /** Start-up work: bookkeeping in the data file, and the records of an operation a crash interrupted. */
  async init(): Promise<string[]> {
    // A damaged data file (left so when AutomaticRestore is off or found no valid backup) doesn't stop the start.
    const notes: string[] = [];
    await fs.access(this.layout.dataFile).then(() => ensureBookkeeping(this.layout.dataFile), () => undefined)
      .catch((err: Error) => notes.push(`The data file's bookkeeping can't be read: ${err.message}`));
    const recovered = await recoverInterrupted(this, this.ledger);
    this.interruptedAtStart.push(...recovered.interrupted);
    return [...notes, ...recovered.messages];
  }

  /** True once the server's stop has begun (shutDown()): the running operation, if any, ends because of it. */
  get shuttingDown(): boolean {
    return this.closing;
  }

  get running(): OperationProgress | null {
    return this.current?.progress ?? null;
  }

  get lastResult(): OperationOutcome | null {
    return this.lastOutcome;
  }

  /** Starts a backup and returns at once; refuses a second operation with -9976 (or 1417 during a log integration). */
  start(req: StartRequest): { operationId: string; done: Promise<OperationOutcome> } {
    return this.begin("backup", req.trigger, (slot) => this.runBackup(req, slot));
  }

  /** Starts a log integration (spec §9) into a restored data file; returns at once, like start(). */
  integrateLog(req: LogIntegrationRequest): { operationId: string; done: Promise<OperationOutcome> } {
    return this.runOperation("logIntegration", req.trigger, (operationId, controls) => runLogIntegration(this, req, operationId, controls));
  }

  /**
   * Runs another kind of operation (restore, verification…) in the engine's one slot, with the same progress
   * stream and Stop as a backup. `run` gets the operation's id and its controls, and returns its outcome.
   */
  runOperation(kind: EngineOperationKind, trigger: Trigger, run: (operationId: string, controls: OperationControls) => Promise<OperationOutcome>): { operationId: string; done: Promise<OperationOutcome> } {
    return this.begin(kind, trigger, async (slot) => this.finishOperation(await run(slot.progress.operationId, {
      signal: slot.abort.signal, update: (p, now) => this.update(p, now), phase: (ph, pc) => this.phase(ph, pc),
    })));
  }

  /**
   * Runs one operation in the engine's single slot (spec §7: one operation at a time). The slot is taken
   * synchronously, so two starts in the same tick can't both pass the check.
   */
  protected begin(kind: EngineOperationKind, trigger: Trigger, run: (slot: Slot) => Promise<OperationOutcome>): { operationId: string; done: Promise<OperationOutcome> } {
    if (this.closing) throw new BackupError(STATUS.BACKUP_ERROR, SHUTTING_DOWN_TEXT);
    if (this.current) {
      if (this.current.progress.kind === "logIntegration") {
        throw new BackupError(STATUS.LOG_INTEGRATION_RUNNING, "A log integration is running. Wait for it to end, or stop it first.");
      }
      throw new BackupError(STATUS.BACKUP_IN_PROGRESS, `${RUNNING_TEXT[this.current.progress.kind]} Wait for it to end, or stop it first.`);
    }
    const operationId = crypto.randomUUID();
    const abort = new AbortController();
    const progress: OperationProgress = {
      operationId, kind, backupNumber: null, trigger, archivePath: null,
      startedAt: this.now().toISOString(), phase: "startup", percent: 0, bytesDone: 0, bytesTotal: 0,
      filesDone: 0, filesTotal: 0, currentFile: null, bytesPerSecond: null, etaSeconds: null, stopping: false,
      journalPreview: "",
    };
    const slot: Slot = { progress, abort, done: null as unknown as Promise<OperationOutcome> };
    this.current = slot;
    this.emitNow();
    // Every operation ends with an outcome: one that throws instead of reporting its failure still frees the slot,
    // tells every console, and rejects nobody (no caller awaits `done` for a console-started operation).
    slot.done = run(slot)
      .catch((err: unknown) => this.finishOperation(this.failedOutcome(slot, err)))
      .finally(() => {
        this.current = null;
        this.stopTimer();
      });
    return { operationId, done: slot.done };
  }

  /** The outcome of an operation that threw rather than returning one: its error as a status, or 1406 on Stop. */
  private failedOutcome(slot: Slot, err: unknown): OperationOutcome {
    const p = slot.progress;
    const signal = slot.abort.signal;
    let e: BackupError;
    if (signal.aborted || isBackupError(err)) e = toBackupError(err, signal);
    else {
      console.error(`[strongbox] the ${OPERATION_NAME[p.kind]} failed unexpectedly:`, err);
      e = new BackupError(STATUS.BACKUP_ERROR, `The ${OPERATION_NAME[p.kind]} failed: ${(err as Error)?.message ?? String(err)}`);
    }
    return {
      operationId: p.operationId, kind: p.kind, trigger: p.trigger, backupNumber: p.backupNumber ?? 0, status: e.status, statusText: e.message,
      partial: false, archivePath: null, startingDate: p.startedAt, endingDate: this.now().toISOString(),
    };
  }

  /** Ends an operation: the outcome is kept as the last result and every console is told. */
  protected finishOperation(outcome: OperationOutcome): OperationOutcome {
    this.lastOutcome = outcome;
    this.emit("event", { type: "finished", outcome });
    return outcome;
  }

  /**
   * Stop (spec §7): ends the copy within a second. Returns false when nothing runs, or when the archive is already
   * being committed: from then on the backup is whole and ends as it is. `reason` "shutdown" (the server is
   * stopping) ends the operation with 1409 instead of a user's 1406, so that an automatic backup is retried.
   */
  stop(opts: { reason?: StopCause } = {}): boolean {
    if (!this.current || !STOPPABLE_PHASES.has(this.current.progress.phase)) return false;
    this.current.progress.stopping = true;
    this.current.abort.abort(stopReason(opts.reason ?? "user", this.current.progress.kind));
    this.emitNow();
    return true;
  }

  async waitForIdle(): Promise<void> {
    await this.current?.done.catch(() => undefined);
  }

  /**
   * The server is stopping: no operation starts any more, and the running one is stopped with the shutdown reason
   * (1409; one in its commit ends as it is). Resolves once it has ended and been recorded.
   */
  async shutDown(): Promise<void> {
    this.closing = true;
    this.stop({ reason: "shutdown" });
    await this.waitForIdle();
  }

  // --- progress emission ---------------------------------------------------------------------------------------

  protected update(patch: Partial<OperationProgress>, immediate = false): void {
    if (!this.current) return;
    Object.assign(this.current.progress, patch);
    if (immediate) this.emitNow();
    else this.dirty = true;
    this.emitTimer ??= setInterval(() => {
      if (this.dirty) this.emitNow();
    }, PROGRESS_INTERVAL_MS);
  }

  private emitNow(): void {
    this.dirty = false;
    if (this.current) this.emit("event", { type: "progress", progress: { ...this.current.progress } });
  }

  private stopTimer(): void {
    if (this.emitTimer) clearInterval(this.emitTimer);
    this.emitTimer = null;
  }

  protected phase(phase: Phase, percent: number): void {
    this.update({ phase, percent, currentFile: null }, true);
  }

  // --- the backup itself ---------------------------------------------------------------------------------------

  private async runBackup(req: StartRequest, slot: Slot): Promise<OperationOutcome> {
    const signal = slot.abort.signal;
    const startingDate = this.now();
    const record: OperationRecord = {
      operation: "backup", backupNumber: 0, trigger: req.trigger, archivePath: null, logBackupPath: null,
      structurePath: this.layout.projectDir, dataPath: this.layout.dataFile,
      content: { projectFiles: null, dataFile: null, attachmentFiles: null }, attachments: [], files: [],
      archive: null, scheduledDate: req.scheduledDate ?? null, startingDate, endingDate: startingDate,
      status: 0, statusText: "OK", partial: false, errors: [], notes: [],
    };
    let ctx: ResolvedContext | null = null;
    let verbose = true;
    const temps: string[] = [];
    let committedPath: string | null = null;
    let oldestKept: number | null = null;
    // The destination as checked, and the temporary archive once it is being written: when a write, the
    // verification or the commit fails, whether they are still there says what happened.
    let destination: CheckedDestination | null = null;
    let writing: string | null = null;
    // Locks taken (spec §7 step 2), released in the finally below whatever happens: success, Stop, failure, throw.
    const releases: Array<() => void> = [];
    const preview = () => this.update({ journalPreview: formatBlock({ ...record, endingDate: this.now() }, { verbose, running: true }) });

    try {
      // The structure lock comes before the settings are read: a save can't then slip in between, leaving the
      // backup running on settings other than the Settings/ it archives. Let go at once if the structure isn't saved.
      const releaseStructure = await this.locks.acquire("structure", { signal });
      releases.push(releaseStructure);
      // 1. Startup: settings, destination, free space.
      try {
        ctx = await this.resolve();
      } catch (err) {
        throw new BackupError(STATUS.BACKUP_ERROR, `The backup settings can't be used: ${(err as Error).message}`, { cause: err });
      }
      verbose = ctx.settings.advanced.backupJournalVerboseMode;
      for (const r of ctx.refusedAttachments) record.notes.push(`Attachment refused: ${r.path} (${r.reason})`);
      destination = await checkDestination(ctx.destination, { databaseDir: this.opts.databaseDir, home: this.opts.home });
      const history = this.history(ctx);
      const number = await this.nextNumber(ctx, history, record);
      record.backupNumber = number;
      record.archivePath = path.join(ctx.destination, archiveName(ctx.databaseName, number));
      const tempArchive = path.join(ctx.destination, tempArchiveName(ctx.databaseName, number));
      const tempSnapshot = path.join(ctx.destination, tempSnapshotName(ctx.databaseName, number));
      temps.push(tempArchive, ...snapshotSidecars(tempSnapshot));
      // A file under these names is a leftover of an earlier attempt (one whose folder disappeared and came back, a
      // crash the start could not clean up): only this server writes them, and the snapshot won't overwrite one.
      for (const t of temps) if (await fs.rm(t).then(() => true, () => false)) record.notes.push(`Removed ${t}, left by an earlier attempt.`);
      this.ledger.begin({ id: slot.progress.operationId, kind: "backup", backupNumber: number, trigger: req.trigger,
        scheduledAt: record.scheduledDate, startedAt: startingDate, tempPaths: temps, archivePath: record.archivePath });
      this.update({ backupNumber: number, archivePath: record.archivePath }, true);
      preview();
      await this.runStartupHook(ctx, record, signal);

      const { includeStructureFile, includeDataFile } = ctx.settings.general;
      // 2. Lock: changes to Project/ and Settings/ (settings saves) wait for the whole backup when it saves them.
      if (!includeStructureFile) releaseStructure();
      const collected = await collect({ databaseDir: this.opts.databaseDir, includeStructure: includeStructureFile,
        includeData: includeDataFile, attachments: ctx.attachments });
      record.attachments = collected.attachmentResults;
      const dataBytes = includeDataFile ? await fs.stat(this.layout.dataFile).then((s) => s.size, () => 0) : 0;
      const sum = (es: CollectedEntry[]) => es.reduce((n, e) => n + e.size, 0);
      const estimate = sum(collected.structure) + sum(collected.dataSettings) + sum(collected.attachments) + dataBytes * 2;
      signal.throwIfAborted();

      if (ctx.settings.advanced.eraseOldBackupBefore && ctx.settings.advanced.setNumber.enable) {
        // Room for this backup: keep one archive fewer than X now, so that X remain once it is committed.
        const keep = Math.max(0, ctx.settings.advanced.setNumber.value - 1);
        const { deleted } = await applyRetention(ctx.destination, ctx.databaseName, keep);
        for (const d of deleted) record.notes.push(`Deleted before the backup (EraseOldBackupBefore): ${d}`);
      }
      await checkFreeSpace(ctx.destination, estimate);

      // 2–3. Snapshot of the data file (a consistent copy, off the event loop), under the data write lock.
      let bookkeeping = null as Bookkeeping | null;
      let marks = null as DataFileMarks | null;
      const entries: CollectedEntry[] = [...collected.structure];
      if (includeDataFile) {
        this.phase("snapshot", 1);
        await fs.access(this.layout.dataFile).catch(() => {
          throw new BackupError(STATUS.BACKUP_ERROR, `The data file ${this.layout.dataFile} is missing.`);
        });
        const useLog = ctx.settings.advanced.useLog;
        ({ bookkeeping } = await takePinnedSnapshot(this.layout.dataFile, tempSnapshot, {
          signal,
          // Writes arriving from now on wait; the snapshot waits for those already running (1405 after a timeout).
          lock: async () => {
            const release = await this.locks.acquire("data", { signal, drainTimeoutMs: this.opts.drainTimeoutMs });
            releases.push(release);
            return release;
          },
          pin: async (pinned) => {
            // Marks taken at the snapshot's point: a write during the copy makes the next "modified?" answer yes.
            marks = currentMarks(this.layout.dataFile, pinned?.lastOperation ?? 0);
            // The log is closed exactly at the snapshot: its segment is saved as a log backup once this backup commits.
            if (this.opts.log && pinned) await this.opts.log.atSnapshot(useLog, pinned);
          },
          // Snapshot mode: writes go on while the copy is made; Full mode keeps them waiting for the whole backup.
          keepLock: ctx.settings.advanced.dataLockMode !== "Snapshot",
          beforeCopy: this.opts.beforeSnapshotCopy,
        }));
        const st = await fs.stat(tempSnapshot);
        entries.push({ name: "Data/data.sqlite", originalPath: this.layout.dataFile, kind: "file", size: st.size,
          mtime: (await fs.stat(this.layout.dataFile)).mtime, mode: st.mode });
        record.content.dataFile = { bytes: st.size };
        entries.push(...collected.dataSettings);
      }
      entries.push(...collected.attachments);
      const files = (es: CollectedEntry[]) => es.filter((e) => e.kind !== "directory");
      record.content.projectFiles = includeStructureFile ? { count: files(collected.structure).length, bytes: sum(collected.structure) } : null;
      record.content.attachmentFiles = collected.attachments.length ? { count: files(collected.attachments).length, bytes: sum(collected.attachments) } : null;
      preview();

      // 4. Archive.
      const bytesTotal = sum(entries);
      // Every entry the writer counts: files, links, empty folders, and manifest.json at the end.
      const filesTotal = entries.length + 1;
      this.update({ phase: "archive", percent: 5, bytesTotal, filesTotal }, true);
      const archiveStart = Date.now();
      const pace = this.opts.throttleBytesPerSecond ? makePacer(this.opts.throttleBytesPerSecond, signal) : undefined;
      writing = tempArchive;
      const writer = new ZipWriter(tempArchive, {
        level: LEVEL[ctx.settings.advanced.compressionRate],
        signal,
        pace,
        onProgress: (p) => {
          const elapsed = (Date.now() - archiveStart) / 1000;
          const speed = elapsed > 0.5 ? p.bytesDone / elapsed : null;
          this.update({
            bytesDone: p.bytesDone, filesDone: p.filesDone, currentFile: p.currentName,
            percent: 5 + (bytesTotal ? (85 * p.bytesDone) / bytesTotal : 85),
            bytesPerSecond: speed, etaSeconds: speed ? Math.round((bytesTotal - p.bytesDone) / speed) : null,
          });
        },
      });
      for (const e of entries) {
        const source: ZipSource =
          e.kind === "symlink" ? { kind: "symlink", name: e.name, target: e.target!, mtime: e.mtime }
          : e.kind === "directory" ? { kind: "directory", name: e.name, mtime: e.mtime, mode: e.mode }
          : { kind: "file", name: e.name, path: e.name === "Data/data.sqlite" ? tempSnapshot : e.originalPath, size: e.size, mtime: e.mtime, mode: e.mode };
        await writer.add(source);
      }
      const written = await writer.flushEntries();
      const byName = new Map(written.map((w) => [w.name, w]));
      // Only what was really written goes into the manifest; a file that vanished meanwhile is noted instead.
      const manifestEntries: ManifestEntry[] = [];
      for (const e of entries) {
        const w = byName.get(e.name);
        if (!w) {
          record.notes.push(`Not saved (it could not be read during the backup): ${e.originalPath}`);
          continue;
        }
        manifestEntries.push({ path: e.name, originalPath: e.originalPath, kind: e.kind, size: w.size, mtime: e.mtime.toISOString(), sha256: w.sha256 });
      }
      record.files = manifestEntries.filter((e) => e.kind !== "directory").map((e) => e.originalPath);
      const manifest: Manifest = {
        format: MANIFEST_FORMAT, generator: "strongbox", databaseId: bookkeeping?.databaseId ?? null,
        databaseName: ctx.databaseName, backupNumber: number, trigger: req.trigger,
        scheduledDate: record.scheduledDate?.toISOString() ?? null, startingDate: startingDate.toISOString(),
        endingDate: this.now().toISOString(), structurePath: this.layout.projectDir, dataPath: this.layout.dataFile,
        settings: ctx.settings,
        log: snapshotOperations(bookkeeping),
        attachments: record.attachments, entries: manifestEntries,
      };
      const manifestData = Buffer.from(JSON.stringify(manifest, null, 2));
      // Readers refuse a larger manifest (it is what a zip bomb would claim): an archive no restore could read is
      // a failed backup, said plainly, not a surprise on the day of the restore.
      if (manifestData.length > MAX_MANIFEST_BYTES) {
        throw new BackupError(STATUS.BACKUP_ERROR, `This backup holds ${manifestEntries.length} entries: their list (manifest.json, ${formatMB(manifestData.length)}) ` +
          `is over the ${formatLimit(MAX_MANIFEST_BYTES)} an archive's manifest may have, so the archive could not be read back. Save fewer files per backup (attachments).`);
      }
      await writer.add({ kind: "buffer", name: MANIFEST_NAME, data: manifestData, mtime: this.now() });
      const result = await writer.finish();
      await fs.rm(tempSnapshot, { force: true });

      // 5. Verify, commit, retention.
      let verified = false;
      if (ctx.settings.advanced.checkArchiveFileDuringBackup) {
        this.update({ phase: "verify", percent: 90, currentFile: null }, true);
        const expected = manifestEntries.filter((e) => e.kind !== "directory").map((e) => ({ name: e.path, size: e.size, sha256: e.sha256 }));
        const check = await verifyArchive(tempArchive, expected, {
          signal,
          onProgress: (p: { bytesDone: number }) => this.update({ percent: 90 + (9 * p.bytesDone) / Math.max(1, bytesTotal) }),
        });
        if (!check.ok) {
          throw new BackupError(STATUS.ARCHIVE_CHECK_FAILED, `The archive failed its check against the manifest: ${check.problems.slice(0, 5).join("; ")}`);
        }
        verified = true;
      }
      signal.throwIfAborted();
      this.phase("commit", 99);
      await fs.rename(tempArchive, record.archivePath);
      committedPath = record.archivePath;
      record.archive = { size: result.archiveSize, sha256: result.archiveSha256, verified };
      const missing = record.attachments.filter((a) => !a.found).map((a) => a.attachmentPath);
      if (missing.length) {
        record.status = STATUS.BACKUP_ERROR;
        record.partial = true;
        record.statusText = `Partial backup: attachment(s) not found: ${missing.join(", ")}`;
        record.errors.push({ code: STATUS.BACKUP_ERROR, text: record.statusText });
      }
      // After the commit the archive is whole: what fails from here is reported, and doesn't undo the backup.
      if (marks) {
        try {
          recordSnapshotMarks(this.opts.consoleDb, this.opts.databaseDir, marks);
        } catch (err) {
          record.notes.push(`Warning: the data file's marks could not be recorded (the next "modified?" check will say yes): ${(err as Error).message}`);
        }
      }
      if (includeDataFile && bookkeeping) await this.saveLogBackup(ctx, record, bookkeeping.databaseId);
      oldestKept = await this.afterCommit(ctx, record);
    } catch (err) {
      let e = toBackupError(err, signal);
      if (!signal.aborted && destination && !committedPath) {
        // The temporary archive is looked for only when a file was found missing (by a write, the verification's
        // read or the commit's rename): before the writer has created it, it is simply not there yet.
        const missing = (err as NodeJS.ErrnoException)?.code === "ENOENT" || e.status === STATUS.ARCHIVE_CHECK_FAILED;
        e = (await destinationLoss(destination, missing ? writing : null)) ?? e;
      }
      record.status = e.status;
      record.statusText = e.message;
      record.partial = false;
      record.errors.push({ code: e.status, text: e.message });
      record.archive = null;
    } finally {
      // 6. Shutdown begins with releasing the locks: waiting writes go on while the hook and the records are written.
      this.update({ phase: "shutdown" }, true);
      for (const release of releases) release();
      for (const t of temps) await fs.rm(t, { force: true }).catch(() => undefined);
    }

    // 6. Shutdown: history, the shutdown hook, journal, ledger, tell every console — whatever fails here, every
    // console is told.
    this.update({ phase: "shutdown", percent: record.status === 0 || record.partial ? 100 : slot.progress.percent }, true);
    if (ctx) await this.runShutdownHook(ctx, record, committedPath);
    record.endingDate = this.now();
    const operationId = slot.progress.operationId;
    if (ctx && record.backupNumber > 0) {
      try {
        await this.history(ctx).append(toHistoryEntry(record), { oldestKeptNumber: oldestKept });
        this.ledger.markRecorded(operationId);
      } catch (err) {
        record.notes.push(`Warning: backupHistory.json could not be written: ${(err as Error).message}`);
      }
    }
    try {
      await this.journal.append(formatBlock(record, { verbose }));
    } catch (err) {
      console.error(`[strongbox] the backup journal could not be written: ${(err as Error).message}`);
    }
    try {
      this.ledger.finish(operationId, record.status, record.endingDate);
    } catch (err) {
      console.error(`[strongbox] the operations ledger could not be updated: ${(err as Error).message}`);
    }
    try {
      if (record.backupNumber > 0) this.lastAttempts.record(toHistoryEntry(record));
    } catch (err) {
      console.error(`[strongbox] the last backup attempt could not be recorded in console.sqlite: ${(err as Error).message}`);
    }
    return this.finishOperation({
      operationId, kind: "backup", trigger: req.trigger, backupNumber: record.backupNumber, status: record.status,
      statusText: record.statusText, partial: record.partial, archivePath: committedPath,
      startingDate: record.startingDate.toISOString(), endingDate: record.endingDate.toISOString(),
    });
  }

  /**
   * Log backup (spec §9), after the commit: every closed log segment — this snapshot's, and any a stopped or
   * failed backup left — goes into `<Name>[K].4BL`, K the previous archive's number. The segments are removed only
   * once the log backup is on disk, so a failure here (1408) loses nothing: they go into the next log backup.
   */
  private async saveLogBackup(ctx: ResolvedContext, record: OperationRecord, databaseId: string): Promise<void> {
    this.phase("logBackup", 99);
    try {
      const segments = await this.opts.log?.closedSegments() ?? [];
      if (segments.length === 0) return;
      const written = await writeLogBackup({ destination: ctx.destination, databaseName: ctx.databaseName,
        number: record.backupNumber - 1, databaseId, segments });
      record.logBackupPath = written.path;
      await removeSegments(segments);
    } catch (err) {
      const text = `The log backup could not be written (${(err as Error).message}); its operations are kept and go into the next log backup.`;
      record.errors.push({ code: STATUS.LOG_BACKUP_ERROR, text });
      // A partial backup keeps its 1409 (and its archive); the log backup's failure is one more error line.
      if (!record.partial) {
        record.status = STATUS.LOG_BACKUP_ERROR;
        record.statusText = text;
      }
    }
  }

  /** On Backup Startup (spec §8): exit code 0 goes on; anything else cancels the backup with that status. */
  private async runStartupHook(ctx: ResolvedContext, record: OperationRecord, signal: AbortSignal): Promise<void> {
    let hook;
    try {
      hook = await findHook(this.layout.hooksDir, "onBackupStartup");
    } catch (err) {
      throw new BackupError(STATUS.BACKUP_ERROR, isHookError(err) ? err.message : `The On Backup Startup hook can't be used: ${(err as Error).message}`);
    }
    if (!hook) return;
    const result = await runHook(hook, { env: hookEnv(this.hookContext(ctx, record, 0, null)), cwd: this.opts.databaseDir, signal, timeoutMs: this.opts.hookTimeoutMs });
    record.notes.push(hookSummary(result), ...result.output.map((l) => `  ${l}`));
    const decision = startupDecision(result);
    if (!decision.proceed) throw new BackupError(decision.status, decision.text);
  }

  /** On Backup Shutdown (spec §8): gets the status; its own failure is reported, never changes the backup's. */
  private async runShutdownHook(ctx: ResolvedContext, record: OperationRecord, archive: string | null): Promise<void> {
    try {
      const hook = await findHook(this.layout.hooksDir, "onBackupShutdown");
      if (!hook) return;
      // While the server stops, the hook gets a few seconds at most: the stop must end well within a service
      // manager's patience.
      const timeoutMs = this.closing ? Math.min(this.opts.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS, SHUTDOWN_HOOK_LIMIT_MS) : this.opts.hookTimeoutMs;
      const result = await runHook(hook, { env: hookEnv(this.hookContext(ctx, record, record.status, archive)), cwd: this.opts.databaseDir, timeoutMs });
      record.notes.push(hookSummary(result), ...result.output.map((l) => `  ${l}`));
    } catch (err) {
      record.notes.push(`Warning: the On Backup Shutdown hook could not run: ${(err as Error).message}`);
    }
  }

  private hookContext(ctx: ResolvedContext, record: OperationRecord, status: number, archive: string | null): HookContext {
    return { backupNumber: record.backupNumber, trigger: record.trigger, status, partial: record.partial, databaseDir: this.opts.databaseDir,
      databaseName: ctx.databaseName, destination: ctx.destination, archivePath: archive ?? undefined };
  }

  /** Durability of the rename, then retention; problems become warnings in the journal. Returns the oldest kept. */
  private async afterCommit(ctx: ResolvedContext, record: OperationRecord): Promise<number | null> {
    try {
      await fsyncDir(ctx.destination);
    } catch (err) {
      record.notes.push(`Warning: the destination folder could not be flushed after the commit: ${(err as Error).message}`);
    }
    const { enable, value } = ctx.settings.advanced.setNumber;
    if (!enable) return null;
    this.phase("retention", 99);
    try {
      const { deleted, oldestKept } = await applyRetention(ctx.destination, ctx.databaseName, value);
      for (const d of deleted) record.notes.push(`Deleted (keep only the last ${value}): ${d}`);
      return oldestKept;
    } catch (err) {
      record.notes.push(`Warning: old backups could not all be deleted (keep only the last ${value}): ${(err as Error).message}`);
      return null;
    }
  }

  /**
   * The next backup number (spec §4): one more than the highest committed number in the history or on disk. An
   * archive already under the candidate name is never overwritten: the next free number is taken, with a note.
   */
  private async nextNumber(ctx: ResolvedContext, history: BackupHistory, record: OperationRecord): Promise<number> {
    const { entries, damaged } = await history.read();
    if (damaged) record.notes.push(`backupHistory.json was damaged (${damaged.reason}); kept as ${damaged.keptAs} and rebuilt from the archives.`);
    const fromHistory = highestCommitted(entries);
    const onDisk = (await listArchives(ctx.destination, ctx.databaseName)).at(-1)?.number ?? 0;
    const candidate = fromHistory + 1;
    if (onDisk >= candidate) {
      const taken = onDisk + 1;
      if (fromHistory > 0 || entries.length > 0 || onDisk > 0) {
        record.notes.push(`Archive number ${candidate} is already used by a file in the destination; this backup takes number ${taken}.`);
      }
      return taken;
    }
    return candidate;
  }
}

/** The log operations a snapshot contains (manifest `log`): all of them from the first, up to its last. */
function snapshotOperations(b: Bookkeeping | null): { firstOperation: number | null; lastOperation: number | null } {
  if (!b) return { firstOperation: null, lastOperation: null };
  return { firstOperation: b.lastOperation > 0 ? 1 : null, lastOperation: b.lastOperation };
}

/** Highest number used up by a committed archive (a failed attempt leaves its number free). */
export function highestCommitted(entries: HistoryEntry[]): number {
  let max = 0;
  for (const e of entries) if (isCommitted(e) && typeof e.backupNumber === "number") max = Math.max(max, e.backupNumber);
  return max;
}

/** A backup entry whose archive was committed: a success, a partial backup, or one that recorded its archive. */
export function isCommitted(e: HistoryEntry): boolean {
  return (e.operation ?? "backup") === "backup" && (e.status === 0 || e.partial === true || (e.archiveSize ?? 0) > 0);
}

function toBackupError(err: unknown, signal: AbortSignal): BackupError {
  if (signal.aborted) return stoppedError(signal);
  if (isBackupError(err)) return err;
  // A link, FIFO or oversized file where the server keeps its own (history, journal…): its message says which.
  if (isUnsafeFileError(err)) return new BackupError(STATUS.BACKUP_ERROR, err.message);
  const e = err as NodeJS.ErrnoException;
  if (e?.code === "ENOSPC") return new BackupError(STATUS.BACKUP_ERROR, `Disk full while writing the backup: ${e.message}`);
  if (e?.code) return new BackupError(STATUS.BACKUP_ERROR, `I/O error during the backup (${e.code}): ${e.message}`);
  return new BackupError(STATUS.BACKUP_ERROR, `Error during the backup: ${e?.message ?? String(err)}`);
}

async function checkFreeSpace(destination: string, estimate: number): Promise<void> {
  const st = await fs.statfs(destination);
  const free = st.bavail * st.bsize;
  if (free < estimate) {
    throw new BackupError(STATUS.BACKUP_ERROR,
      `Not enough free space in ${destination}: the backup needs up to ${formatMB(estimate)}, ${formatMB(free)} is free.`);
  }
}

const formatMB = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Test-only pacing: waits so that reading never runs faster than `bps`, and wakes at once on abort. */
function makePacer(bps: number, signal: AbortSignal): (bytes: number) => Promise<void> {
  const start = Date.now();
  let total = 0;
  return async (bytes) => {
    total += bytes;
    const due = start + (total / bps) * 1000 - Date.now();
    if (due <= 0) return;
    await new Promise<void>((resolve) => {
      const wake = () => { clearTimeout(t); resolve(); };
      const t = setTimeout(() => { signal.removeEventListener("abort", wake); resolve(); }, due);
      signal.addEventListener("abort", wake, { once: true });
    });
  };
}

export { statusText };
