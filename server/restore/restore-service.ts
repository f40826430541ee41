// The Restore page's domain (docs/console.md#restore-page): this database's archives with what the history and the
// verifications say of each, an archive's contents and how far the log could bring it, the checks made before a
// restore starts (a refused archive or folder changes nothing and records nothing), and the operations it starts.
import fs from "node:fs/promises";
import path from "node:path";
import { readArchiveContents, type ArchiveContents, type PartSelection } from "../archive/contents";
import { listArchives, listLogBackups } from "../archive/names";
import { DomainError, isDomainError } from "../errors";
import type { Trigger } from "../isomorphic/operation-kinds";
import { defaultLogSources, logPlaces } from "../log/integration";
import { LogSummaries } from "../log/log-summary";
import type { DatabaseContext } from "../operations/database-context";
import type { OperationRunner } from "../operations/runner";
import { rollbackArchive, restoreInPlaceTask, type LiveData } from "./restore-in-place-task";
import { forbiddenPlaces, restoreToFolderTask } from "./restore-to-folder-task";
import { checkRestoreTarget, defaultRestoreTarget } from "./restore-target";
import { verificationTask } from "./verification-task";
import type { VerificationSchedule, VerificationStore } from "./verification-store";

/** The parts of an archive a restore to a folder writes: the Restore page's check boxes. */
export interface ChosenParts {
  structure: boolean;
  dataFile: boolean;
  dataSettings: boolean;
  /** Attachments by their original path. */
  attachments: string[];
}

export class Restores {
  private readonly summaries = new LogSummaries();

  constructor(
    private readonly db: DatabaseContext,
    private readonly runner: OperationRunner,
    private readonly live: LiveData,
    private readonly verifications: VerificationStore,
  ) {}

  /** This database's archives, newest first, each with its history entry and last verification; its log backups. */
  async archives() {
    const schedule = this.verificationSchedule();
    let resolved;
    try {
      resolved = await this.db.resolve();
    } catch (err) {
      return { destination: null, problem: `The settings can't be read: ${(err as Error).message}`, archives: [], logBackups: [], verificationSchedule: schedule };
    }
    const { entries } = await this.db.history(resolved).read().catch(() => ({ entries: [] }));
    const archives = (await listArchives(resolved.destination, resolved.databaseName)).reverse().map((a) => {
      const h = entries.filter((e) => e.operation === "backup" && e.backupNumber === a.number).at(-1);
      return {
        number: a.number, path: a.path, name: path.basename(a.path), size: a.size, mtime: a.mtime.toISOString(),
        history: h ? { status: h.status, statusText: h.statusText, startingDate: h.startingDate, partial: h.partial } : null,
        verification: this.verifications.get(a.path),
      };
    });
    const logBackups = (await listLogBackups(resolved.destination, resolved.databaseName)).map((l) => ({ number: l.number, path: l.path, size: l.size }));
    return { destination: resolved.destination, problem: null, archives, logBackups, verificationSchedule: schedule };
  }

  /** An archive's parts as the Restore page offers them, and how far an integration after its snapshot could go. */
  async contents(archivePath: string) {
    const c = await this.readContents(archivePath);
    const m = c.manifest;
    const parts = [
      { id: "structure", kind: "structure" as const, label: "Structure (Project, Settings)", files: c.structure.files, bytes: c.structure.bytes, found: true },
      { id: "dataFile", kind: "dataFile" as const, label: "Data file", files: c.dataFile.files, bytes: c.dataFile.bytes, found: true },
      { id: "dataSettings", kind: "dataSettings" as const, label: "Data settings (Data/Settings)", files: c.dataSettings.files, bytes: c.dataSettings.bytes, found: true },
      // An attachment's id is its original (absolute) path, which no other part's id can be.
      ...c.attachments.map((a) => ({ id: a.path, kind: "attachment" as const, label: a.path, files: a.files, bytes: a.bytes, found: a.found })),
    ].filter((p) => p.kind === "attachment" || p.files > 0);
    let logAfter: { available: boolean; lastOperation: number | null; problem: string | null } = { available: false, lastOperation: null, problem: null };
    try {
      if (m.databaseId && c.dataFile.files > 0) {
        const resolved = await this.db.resolve();
        const sources = await defaultLogSources(logPlaces(this.db.layout, resolved), { databaseId: m.databaseId });
        const floor = m.log?.lastOperation ?? 0;
        const last = await this.summaries.lastOperation(sources, m.databaseId, floor);
        logAfter = { available: last > floor, lastOperation: last, problem: null };
      }
    } catch (err) {
      logAfter = { available: false, lastOperation: null, problem: (err as Error).message };
    }
    return {
      archivePath: c.archivePath, archiveSize: c.archiveSize, backupNumber: m.backupNumber, databaseName: m.databaseName,
      startingDate: m.startingDate, trigger: `${m.trigger.kind}${m.trigger.user ? ` (${m.trigger.user})` : ""}`,
      parts, log: { firstOperation: m.log?.firstOperation ?? null, lastOperation: m.log?.lastOperation ?? null }, logAfter,
      defaultTarget: await defaultRestoreTarget(c.archivePath),
    };
  }

  /** The restore folder against the rules (restore-target.ts), with this server's places that are never a target. */
  async checkTarget(target: string, overwrite: boolean) {
    const destination = await this.db.resolve().then((r) => r.destination, () => undefined);
    const r = await checkRestoreTarget({ target, overwrite, forbidden: forbiddenPlaces(this.db, destination) });
    return r.ok ? { ok: true, problem: null, exists: r.exists, replaces: r.replaces } : { ok: false, problem: r.reason, exists: false, replaces: false };
  }

  /** Checks the archive and the folder (the task checks again as it runs), then starts the restore. */
  async startToFolder(req: { archivePath: string; target: string; parts: ChosenParts; overwrite: boolean; integrateLog: boolean; includeCurrentLog: boolean }, trigger: Trigger) {
    await this.readContents(req.archivePath);
    const target = await this.checkTarget(req.target, req.overwrite);
    if (!target.ok) throw new DomainError(null, target.problem!);
    const parts: PartSelection = { structure: req.parts.structure, dataFile: req.parts.dataFile, dataSettings: req.parts.dataSettings, attachments: req.parts.attachments };
    return this.runner.start(restoreToFolderTask(this.db, { ...req, parts, trigger }));
  }

  /** Replaces the live data file by the archive's (brought forward by the log when asked). */
  async startInPlace(req: { archivePath: string; integrateLog: boolean }, trigger: Trigger) {
    await this.readContents(req.archivePath);
    return this.runner.start(restoreInPlaceTask(this.db, { ...req, trigger }, this.live));
  }

  /** The logged operations of the live data file's log chain, newest first, one page. */
  async logOperations(page: { offset: number; limit: number; search?: string }) {
    const resolved = await this.db.resolve();
    const databaseId = await this.live.store.databaseId();
    const sources = await defaultLogSources(logPlaces(this.db.layout, resolved), { databaseId });
    return this.summaries.operations(sources, databaseId, page);
  }

  /** Rolls the data back to just after `operation`: the newest backup before it, with the log up to it. */
  async rollback(operation: number, trigger: Trigger) {
    const archivePath = await rollbackArchive(this.db, operation).catch((err: Error) => {
      throw isDomainError(err) ? err : new DomainError(null, err.message);
    });
    return this.runner.start(restoreInPlaceTask(this.db, { archivePath, integrateLog: true, upToOperation: operation, trigger }, this.live));
  }

  /** Reads an archive back against its manifest. A damaged archive is what Verify is for; a path that names no file is not. */
  async verify(archivePath: string, trigger: Trigger) {
    await fs.access(archivePath).catch(() => {
      throw new DomainError(null, `There is no archive at ${archivePath}.`, { code: "NOT_FOUND" });
    });
    return this.runner.start(verificationTask(this.db, [archivePath], this.verifications, trigger));
  }

  verificationSchedule(): VerificationSchedule {
    const { lastRun: _lastRun, ...schedule } = this.verifications.schedule();
    return schedule;
  }

  setVerificationSchedule(schedule: VerificationSchedule): void {
    this.verifications.setSchedule(schedule, this.db.clock.now());
  }

  /** An archive the user named: a plain bad request with the reader's own message. */
  private async readContents(archivePath: string): Promise<ArchiveContents> {
    try {
      return await readArchiveContents(archivePath);
    } catch (err) {
      if (isDomainError(err)) throw err;
      throw new DomainError(null, `${archivePath} can't be read as an archive: ${(err as Error).message}`, { cause: err });
    }
  }
}
