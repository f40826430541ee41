// Runs one hook file in a child process (docs/operations.md#hooks): its own process group so a timeout or a Stop kills
// everything it started, bounded output capture, and start failures reported as a result instead of thrown.
import { spawn, type ChildProcess } from "node:child_process";

export type HookName = "onBackupStartup" | "onBackupShutdown";

export interface FoundHook {
  name: HookName;
  /** Absolute path of the hook file. */
  path: string;
  /** "executable": run as is (binary or #! script); "node": a .js/.mjs file run with this server's Node. */
  kind: "executable" | "node";
}

export interface RunHookOptions {
  /** The backup's context (see hookEnv); added to the server's environment minus its secrets. */
  env: Record<string, string>;
  /** Working folder of the hook: the database folder. */
  cwd: string;
  timeoutMs?: number;
  /** Aborting (a user Stop) kills the hook like a timeout does. */
  signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL when the hook must be stopped. */
  killGraceMs?: number;
}

export interface HookResult {
  hook: HookName;
  /** The hook's exit code; null when it was killed by a signal or never started. */
  exitCode: number | null;
  /** The signal that ended it, when one did. */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** The timeout it ran under (for messages). */
  timeoutMs: number;
  /** Why the hook could not be started (missing interpreter, permission…); absent when it started. */
  error?: string;
  /** stdout and stderr merged in arrival order (two pipes: their relative order is approximate), split into
   * lines; only the last 64 KB are kept. */
  output: string[];
}

export const DEFAULT_HOOK_TIMEOUT_MS = 60_000;
const MAX_OUTPUT_BYTES = 64 * 1024;
/** After the hook exits, how long its output pipes may stay open (held by a background child) before we stop reading. */
const DRAIN_MS = 500;

// The hook is the administrator's code, but it has no use for the server's own secrets, and NODE_OPTIONS set
// for the server (loaders, heap size) must not change how a .mjs hook runs.
const WITHHELD_ENV = ["STRONGBOX_ADMIN_PASSWORD", "NEXTAUTH_SECRET", "NODE_OPTIONS"];

function childEnv(extra: Record<string, string>, hook: HookName): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of WITHHELD_ENV) delete env[k];
  return { ...env, ...extra, STRONGBOX_HOOK: hook };
}

function startError(err: unknown, file: string, cwd: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  // The system does not say which of these was missing.
  const why: Record<string, string> = {
    ENOENT: `the file, the interpreter named on its #! line, or the working folder ${cwd} was not found`,
    EACCES: "permission denied (is it executable, on a file system not mounted noexec?)",
    ENOEXEC: "it is not a program the system can run (a script needs a #! line)",
  };
  return `${file} could not be started: ${(code && why[code]) ?? (err as Error).message ?? String(err)}`;
}

/** Keeps the last `max` bytes of what it is given. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  dropped = 0;
  constructor(private readonly max: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0].length >= this.max) {
      const first = this.chunks.shift()!;
      this.size -= first.length;
      this.dropped += first.length;
    }
  }
  lines(): string[] {
    let all = Buffer.concat(this.chunks);
    let dropped = this.dropped;
    if (all.length > this.max) {
      dropped += all.length - this.max;
      all = all.subarray(all.length - this.max);
    }
    if (dropped > 0) {
      // Start at a line boundary: the cut line (and a cut UTF-8 character) would only confuse.
      const nl = all.indexOf(10);
      dropped += nl + 1;
      all = all.subarray(nl + 1);
    }
    const lines = all.toString("utf8").split(/\r?\n/);
    if (lines.at(-1) === "") lines.pop();
    return dropped > 0 ? [`[${dropped} earlier bytes of output not kept]`, ...lines] : lines;
  }
}

/** Runs a hook and resolves when it has ended (or could not start); never rejects for the hook's own failures. */
export function runHook(hook: FoundHook, options: RunHookOptions): Promise<HookResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
  const killGraceMs = options.killGraceMs ?? 2_000;
  const base: HookResult = { hook: hook.name, exitCode: null, signal: null, timedOut: false, aborted: false, timeoutMs, output: [] };
  if (options.signal?.aborted) return Promise.resolve({ ...base, aborted: true });

  const [command, args] = hook.kind === "node" ? [process.execPath, [hook.path]] : [hook.path, []];
  let child: ChildProcess;
  try {
    // detached: the hook leads a new process group, so process.kill(-pid) reaches everything it spawned.
    child = spawn(command, args, { cwd: options.cwd, env: childEnv(options.env, hook.name), detached: true, stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    return Promise.resolve({ ...base, error: startError(err, hook.path, options.cwd) });
  }

  return new Promise<HookResult>((resolve) => {
    const out = new TailBuffer(MAX_OUTPUT_BYTES);
    child.stdout!.on("data", (c: Buffer) => out.push(c));
    child.stderr!.on("data", (c: Buffer) => out.push(c));
    let timedOut = false;
    let aborted = false;
    let stopping = false;
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // ESRCH: the whole group is already gone.
      }
    };
    const stop = () => {
      if (stopping) return;
      stopping = true;
      killGroup("SIGTERM");
      graceTimer = setTimeout(() => killGroup("SIGKILL"), killGraceMs);
    };
    const onAbort = () => {
      aborted = true;
      stop();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    options.signal?.addEventListener("abort", onAbort, { once: true });

    const finish = (fields: Partial<HookResult>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      clearTimeout(drainTimer);
      options.signal?.removeEventListener("abort", onAbort);
      child.stdout!.destroy();
      child.stderr!.destroy();
      resolve({ ...base, timedOut, aborted, output: out.lines(), ...fields });
    };

    child.on("error", (err) => {
      // Only a failure to start matters here; once it runs, we signal the group ourselves.
      if (child.pid === undefined) finish({ error: startError(err, hook.path, options.cwd) });
    });
    child.on("exit", (exitCode, signal) => {
      clearTimeout(timer);
      // A stopped hook's helpers that outlived it (or ignored SIGTERM) go now, before we report it gone.
      if (stopping) killGroup("SIGKILL");
      clearTimeout(graceTimer);
      drainTimer = setTimeout(() => finish({ exitCode, signal }), DRAIN_MS);
    });
    child.on("close", (exitCode, signal) => finish({ exitCode, signal }));
  });
}
