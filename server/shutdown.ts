// Graceful stop of the server (SIGTERM, SIGINT). In order: new changes and new event streams are refused (503);
// automatic backups stop arming timers; the running operation is stopped with the shutdown reason (1409, retried
// like any failed automatic backup) and recorded, and every open stream is told its outcome before the streams end;
// requests under way (data writes waiting for a backup's lock included) finish; then the data file, the log file
// (each record was flushed before it was acknowledged) and console.sqlite are closed, and the process exits 0. Each
// wait is bounded; whatever still runs when a bound passes is named, and the exit code is then 1. Should even
// closing hang, a fallback timer forces the exit with code 1.

/** How long the operation, automatic backups and requests under way may take to end, all together. */
export const GRACEFUL_WAIT_MS = 10_000;
/** The hard limit: past it the process exits (code 1) whatever it is waiting for. Well under systemd's 90 s. */
export const FORCED_EXIT_MS = 15_000;

/** What a change asked for during the stop is told. */
export const SHUTTING_DOWN_MESSAGE = "The server is shutting down: nothing was changed. Try again once it has restarted.";
/** What a new event stream asked for during the stop is told. */
export const SHUTTING_DOWN_STREAM_MESSAGE = "The server is shutting down. Connect again once it has restarted.";

/**
 * The server's stopping state: `stopping` from the start of a stop (changes and new streams are refused), `signal`
 * aborted once the running operation has ended (the open event streams end on it), and the count of API requests
 * under way, which the stop lets finish before it closes what they use.
 */
export class ServerShutdown {
  private readonly streams = new AbortController();
  private begun = false;
  private running = 0;
  private idleWaiters: Array<() => void> = [];

  /** Aborted when the event streams must end. */
  get signal(): AbortSignal {
    return this.streams.signal;
  }

  get stopping(): boolean {
    return this.begun;
  }

  begin(): void {
    this.begun = true;
  }

  /** Ends the open event streams (after they were told how the running operation ended). */
  endStreams(): void {
    this.begun = true;
    this.streams.abort(new Error("The server is shutting down."));
  }

  /** Counts one request from now until the returned function is called. */
  enter(): () => void {
    this.running++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.running--;
      if (this.running === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
  }

  get requestsRunning(): number {
    return this.running;
  }

  /** Resolves when no counted request runs. */
  requestsDone(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }
}

/** One step of a stop: what it waits for, for the message when it doesn't end in time. */
export interface StopStep { what: string; done: () => Promise<unknown> }

/**
 * Runs the waiting steps one after the other within `limitMs` overall, then the closing steps (each awaited; they
 * only flush and close). Returns what did not end: empty when the stop was graceful.
 */
export async function runStop(waits: StopStep[], closes: StopStep[], limitMs = GRACEFUL_WAIT_MS): Promise<string[]> {
  const unfinished: string[] = [];
  const deadline = Date.now() + limitMs;
  for (const step of waits) {
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((r) => { timer = setTimeout(() => r("timeout"), Math.max(0, left)); });
    const result = await Promise.race([step.done().then(() => "done" as const, (err: Error) => `failed: ${err.message}`), timedOut]);
    clearTimeout(timer);
    if (result === "timeout") unfinished.push(`${step.what} (still running after ${limitMs / 1000} s)`);
    else if (result !== "done") unfinished.push(`${step.what} (${result})`);
  }
  for (const step of closes) {
    try {
      await step.done();
    } catch (err) {
      unfinished.push(`${step.what} (failed: ${(err as Error).message})`);
    }
  }
  return unfinished;
}
