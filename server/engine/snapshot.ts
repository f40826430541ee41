// Runs the data file snapshot in a worker thread and lets a Stop end it at once (worker.terminate()).
import path from "node:path";
import { Worker } from "node:worker_threads";
import { BOOKKEEPING_TABLE, type Bookkeeping } from "../data/bookkeeping";

/** The worker is a plain .mjs file on disk; the Next bundle can't carry it, so we find it from the app root. */
function workerPath(): string {
  const root = process.env.STRONGBOX_APP_ROOT || process.cwd();
  return path.join(/*turbopackIgnore: true*/ root, "server", "engine", "snapshot-worker.mjs");
}

export async function snapshotDataFile(source: string, target: string, signal: AbortSignal): Promise<{ bookkeeping: Bookkeeping | null }> {
  signal.throwIfAborted();
  const worker = new Worker(/*turbopackIgnore: true*/ workerPath(), { workerData: { source, target, table: BOOKKEEPING_TABLE } });
  return new Promise((resolve, reject) => {
    const onAbort = () => void worker.terminate();
    signal.addEventListener("abort", onAbort, { once: true });
    const done = () => signal.removeEventListener("abort", onAbort);
    worker.once("message", (msg: { ok: boolean; bookkeeping?: Bookkeeping | null; message?: string }) => {
      done();
      if (msg.ok) resolve({ bookkeeping: msg.bookkeeping ?? null });
      else reject(new Error(`Could not take the data file snapshot: ${msg.message}`));
      void worker.terminate();
    });
    worker.once("error", (err) => { done(); reject(err); });
    worker.once("exit", () => {
      done();
      if (signal.aborted) reject(signal.reason ?? Object.assign(new Error("Aborted"), { name: "AbortError" }));
      else reject(new Error("The snapshot worker ended without an answer."));
    });
  });
}
