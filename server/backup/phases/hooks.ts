// The On Backup Startup and On Backup Shutdown hooks (docs/operations.md#hooks), as a backup runs them.
import { DomainError } from "../../errors";
import { STATUS } from "../../isomorphic/status";
import { DEFAULT_HOOK_TIMEOUT_MS, findHook, hookEnv, hookSummary, isHookError, runHook, startupDecision, type HookContext } from "../../hooks/backup-hooks";
import type { ResolvedContext } from "../../operations/database-context";
import type { TaskContext } from "../../operations/task";
import type { BackupOptions, BackupProgress } from "../backup-run";

/** How long On Backup Shutdown may run when the backup ends because the server is stopping. */
export const SHUTDOWN_HOOK_LIMIT_MS = 5_000;

/** On Backup Startup: exit code 0 goes on; anything else cancels the backup with that status. */
export async function runStartupHook(ctx: TaskContext, opts: BackupOptions, settings: ResolvedContext): Promise<void> {
  const { db, record } = ctx;
  let hook;
  try {
    hook = await findHook(db.layout.hooksDir, "onBackupStartup");
  } catch (err) {
    throw new DomainError(STATUS.BACKUP_ERROR, isHookError(err) ? err.message : `The On Backup Startup hook can't be used: ${(err as Error).message}`);
  }
  if (!hook) return;
  const result = await runHook(hook, { env: hookEnv(hookContext(ctx, settings, 0, null)), cwd: db.databaseDir, signal: ctx.signal, timeoutMs: opts.hookTimeoutMs });
  record.notes.push(hookSummary(result), ...result.output.map((l) => `  ${l}`));
  const decision = startupDecision(result);
  if (!decision.proceed) throw new DomainError(decision.status, decision.text);
}

/**
 * On Backup Shutdown, once the backup has ended (whatever its status, as soon as the settings could be read): it
 * gets the status; its own failure is reported, never changes the backup's.
 */
export async function runShutdownHook(ctx: TaskContext, opts: BackupOptions, reached: BackupProgress): Promise<void> {
  if (!reached.settings) return;
  const { db, record } = ctx;
  try {
    const hook = await findHook(db.layout.hooksDir, "onBackupShutdown");
    if (!hook) return;
    // While the server stops, the hook gets a few seconds at most: the stop must end well within a service
    // manager's patience.
    const timeoutMs = ctx.serverStopping ? Math.min(opts.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS, SHUTDOWN_HOOK_LIMIT_MS) : opts.hookTimeoutMs;
    const archive = record.archive ? record.archivePath : null;
    const result = await runHook(hook, { env: hookEnv(hookContext(ctx, reached.settings, record.status, archive)), cwd: db.databaseDir, timeoutMs });
    record.notes.push(hookSummary(result), ...result.output.map((l) => `  ${l}`));
  } catch (err) {
    record.notes.push(`Warning: the On Backup Shutdown hook could not run: ${(err as Error).message}`);
  }
}

function hookContext(ctx: TaskContext, settings: ResolvedContext, status: number, archive: string | null): HookContext {
  const { record } = ctx;
  return { backupNumber: record.backupNumber, trigger: record.trigger, status, partial: record.partial, databaseDir: ctx.db.databaseDir,
    databaseName: settings.databaseName, destination: settings.destination, archivePath: archive ?? undefined };
}
