// The On Backup Startup / On Backup Shutdown hooks (docs/operations.md, docs/operations.md#hooks): which file is the hook, what it is told,
// and what its result means for the backup. Running it is run-hook.ts.
//
// Environment contract (every value a string; the server's own environment is passed too, minus
// STRONGBOX_ADMIN_PASSWORD, NEXTAUTH_SECRET and NODE_OPTIONS). The working folder is the database folder.
//   STRONGBOX_HOOK            onBackupStartup | onBackupShutdown
//   STRONGBOX_BACKUP_NUMBER   number of this backup (the NNNN of its archive), e.g. "12"
//   STRONGBOX_TRIGGER         manual | scheduler | command | retry
//   STRONGBOX_USER            who started it (manual: the user; command: user or token name); "" otherwise
//   STRONGBOX_STATUS          startup: "0"; shutdown: the backup's final status (0 or the error code, docs/operations.md)
//   STRONGBOX_STATUS_TEXT     plain-English text of that status
//   STRONGBOX_PARTIAL         shutdown: "1" for a partial backup (status 1409, archive kept), else "0"
//   STRONGBOX_DATABASE        absolute path of the database folder
//   STRONGBOX_DATABASE_NAME   the DatabaseName (already a safe file name)
//   STRONGBOX_DESTINATION     absolute path of the destination folder
//   STRONGBOX_ARCHIVE         shutdown: path of the archive kept, "" when none was (failed or stopped backup)
// Startup: exit code 0 lets the backup go on; any other code cancels it with that code as its status.
// Shutdown: the exit code is only recorded. Output of both goes into the journal (verbose mode).
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { Trigger } from "../operation";
import { STATUS, statusText } from "../isomorphic/status";
import type { FoundHook, HookName, HookResult } from "./run-hook";

export { DEFAULT_HOOK_TIMEOUT_MS, runHook } from "./run-hook";
export type { FoundHook, HookName, HookResult, RunHookOptions } from "./run-hook";

/** A hooks folder the engine cannot use as it is (two candidates, a hook that cannot be run…): cancels with 1409. */
export class HookError extends Error {
  /** The files concerned. */
  readonly files: string[];
  constructor(message: string, files: string[]) {
    super(message);
    this.name = "HookError";
    this.files = files;
  }
}

/** instanceof misses across Next's separate bundles (same reason as isDomainError). */
export function isHookError(err: unknown): err is HookError {
  return err instanceof Error && err.name === "HookError" && Array.isArray((err as HookError).files);
}

const CANDIDATES: Array<{ suffix: string; kind: FoundHook["kind"] }> = [
  { suffix: "", kind: "executable" },
  { suffix: ".js", kind: "node" },
  { suffix: ".mjs", kind: "node" },
];

/**
 * The hook `name` in `hooksDir`, or null when there is none. Only the exact names count: `name` (an executable),
 * `name.js`, `name.mjs`; anything else (`name.mjs.example`, `name.sh`…) is not a hook.
 */
export async function findHook(hooksDir: string, name: HookName): Promise<FoundHook | null> {
  let entries: string[];
  try {
    entries = await readdir(hooksDir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw new HookError(`The hooks folder ${hooksDir} cannot be read: ${(err as Error).message}`, [hooksDir]);
  }
  const present = CANDIDATES.filter((c) => entries.includes(name + c.suffix)).map((c) => ({
    ...c,
    file: path.join(hooksDir, name + c.suffix),
  }));
  if (present.length === 0) return null;
  if (present.length > 1) {
    const files = present.map((c) => c.file);
    throw new HookError(`Two candidates for the ${name} hook: ${files.join(" and ")}. Keep only one of them.`, files);
  }

  const [{ file, kind }] = present;
  let st;
  try {
    st = await stat(file); // follows a symbolic link: the target is what runs
  } catch (err) {
    throw new HookError(`The ${name} hook ${file} cannot be used: ${(err as Error).message}`, [file]);
  }
  if (!st.isFile()) throw new HookError(`The ${name} hook ${file} is not a file.`, [file]);
  // Mode bits, not access(): as root, access(X_OK) says yes to almost anything.
  if (kind === "executable" && (st.mode & 0o111) === 0) {
    throw new HookError(
      `The ${name} hook ${file} is not executable: make it executable (chmod +x) or name it ${name}.mjs to run it with Node.`,
      [file],
    );
  }
  return { name, path: file, kind };
}

/** The backup's context given to a hook. */
export interface HookContext {
  backupNumber: number;
  trigger: Trigger;
  /** Startup: 0. Shutdown: the backup's final status. */
  status: number;
  partial?: boolean;
  databaseDir: string;
  databaseName: string;
  destination: string;
  /** Shutdown: the archive kept, or null. */
  archivePath?: string | null;
}

/** The environment variables of the contract above (STRONGBOX_HOOK is added by runHook). */
export function hookEnv(ctx: HookContext): Record<string, string> {
  return {
    STRONGBOX_BACKUP_NUMBER: String(ctx.backupNumber),
    STRONGBOX_TRIGGER: ctx.trigger.kind,
    STRONGBOX_USER: ctx.trigger.user ?? "",
    STRONGBOX_STATUS: String(ctx.status),
    STRONGBOX_STATUS_TEXT: statusText(ctx.status),
    STRONGBOX_PARTIAL: ctx.partial ? "1" : "0",
    STRONGBOX_DATABASE: ctx.databaseDir,
    STRONGBOX_DATABASE_NAME: ctx.databaseName,
    STRONGBOX_DESTINATION: ctx.destination,
    STRONGBOX_ARCHIVE: ctx.archivePath ?? "",
  };
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

export type StartupDecision = { proceed: true } | { proceed: false; status: number; text: string };

/** What the On Backup Startup hook's result means for the backup (docs/operations.md step 1). */
export function startupDecision(result: HookResult): StartupDecision {
  if (result.error !== undefined) {
    return { proceed: false, status: STATUS.BACKUP_ERROR, text: `the On Backup Startup hook failed: ${result.error}` };
  }
  // A Stop during the hook is a user cancel like any other (never retried).
  if (result.aborted) return { proceed: false, status: STATUS.CANCELED_BY_USER, text: statusText(STATUS.CANCELED_BY_USER) };
  if (result.timedOut) {
    return { proceed: false, status: STATUS.BACKUP_ERROR, text: `the On Backup Startup hook timed out after ${seconds(result.timeoutMs)}` };
  }
  if (result.exitCode === 0) return { proceed: true };
  if (result.exitCode === null) {
    return { proceed: false, status: STATUS.BACKUP_ERROR, text: `the On Backup Startup hook was killed by ${result.signal ?? "a signal"}` };
  }
  // The hook's own value is the status; its last line of output is usually its reason.
  const last = result.output.findLast((l) => l.trim() !== "")?.trim().slice(0, 200);
  return { proceed: false, status: result.exitCode, text: statusText(result.exitCode) + (last ? `: ${last}` : "") };
}

/** One line for the journal saying how a hook ended. */
export function hookSummary(result: HookResult): string {
  if (result.error !== undefined) return `${result.hook}: ${result.error}`;
  if (result.aborted) return `${result.hook}: stopped (backup canceled)`;
  if (result.timedOut) return `${result.hook}: timed out after ${seconds(result.timeoutMs)}, stopped`;
  if (result.exitCode === null) return `${result.hook}: killed by ${result.signal ?? "a signal"}`;
  return `${result.hook}: exit code ${result.exitCode}`;
}
