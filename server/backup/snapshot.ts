// The data file snapshot: a consistent copy pinned at one operation number, taken in a child process
// (snapshot-worker.mjs) so that it runs off the event loop and a Stop ends it at once.
//
// The data write lock is held only for the instant that fixes the snapshot's point: the copier, started and with the
// data file open beforehand, opens a read transaction and answers the bookkeeping it sees (its last operation); the
// caller's `pin` runs then (it cuts the log at that operation). In Snapshot mode the lock is released there and the
// copy is made inside that read transaction while writes go on — the data file is in WAL mode, so the transaction sees
// the state at the pin whatever commits after it; those later operations belong to the next log segment.
import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { BOOKKEEPING_TABLE, type Bookkeeping } from "../data/bookkeeping";
import { openNoFollow } from "../fs/safe-open";
import type { Release } from "../locks/backup-locks";

/** The child is a plain .mjs file on disk; the Next bundle can't carry it, so we find it from the app root. */
function workerPath(): string {
  const root = process.env.STRONGBOX_APP_ROOT || process.cwd();
  return path.join(/*turbopackIgnore: true*/ root, "server", "backup", "snapshot-worker.mjs");
}

/**
 * Files SQLite may leave beside a snapshot target: the copy's rollback journal while it is written, and the -wal/-shm
 * pair while the finished copy is switched out of WAL mode.
 */
export const snapshotSidecars = (target: string) => [target, `${target}-journal`, `${target}-wal`, `${target}-shm`];

/** Pages copied per step of SQLite's online backup (4 MiB at the data file's 4 KiB pages). */
const PAGES_PER_STEP = 1000;
/** The copy is flushed to disk this often (see the worker). */
const SYNC_EVERY_BYTES = 8 * 2 ** 20;

export interface PinnedSnapshotOptions {
  /** A Stop: kills the copier wherever it is, removes the copy, and rejects with the abort's reason. */
  signal: AbortSignal;
  /**
   * Takes the data write lock (new writes wait; resolves once the running ones have ended). Called once the copier
   * is up with the data file open, so that starting a process costs the writers nothing.
   */
  lock: () => Promise<Release>;
  /**
   * Runs under the lock with the snapshot's point fixed: `bookkeeping` is what the snapshot holds (null when the data
   * file has no bookkeeping table). Cut the log here; a throw fails the snapshot.
   */
  pin: (bookkeeping: Bookkeeping | null) => Promise<void> | void;
  /** Full mode: the lock stays held after the pin (the caller releases it); otherwise it is released right after. */
  keepLock?: boolean;
  /** Test-only: awaited after the pin (and the release) and before the copy starts, to hold the copy there. */
  beforeCopy?: () => Promise<void>;
}

export interface PinnedSnapshot {
  bookkeeping: Bookkeeping | null;
  bytes: number;
}

type WorkerMessage =
  | { ready: true }
  | { pinned: true; bookkeeping: Bookkeeping | null; wal: boolean }
  | { done: true; bytes: number }
  | { error: string };

export async function takePinnedSnapshot(source: string, target: string, opts: PinnedSnapshotOptions): Promise<PinnedSnapshot> {
  const { signal } = opts;
  signal.throwIfAborted();
  // The copy of the data is the server's alone: created here 0600 (never through a link at its name), and SQLite fills
  // the empty file, keeping its mode (the worker's umask covers its journal).
  for (const f of snapshotSidecars(target)) await fs.rm(f, { force: true });
  await (await openNoFollow(target, "create")).close();
  const child = fork(/*turbopackIgnore: true*/ workerPath(), [], { stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "json" });
  const inbox = new Inbox(child, signal);
  const onAbort = () => child.kill("SIGKILL");
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    child.send({ source, target, table: BOOKKEEPING_TABLE, pagesPerStep: PAGES_PER_STEP, syncEveryBytes: SYNC_EVERY_BYTES });
    await inbox.next("ready");
    const release = await opts.lock();
    let holdForCopy = opts.keepLock ?? false;
    try {
      child.send({ pin: true });
      const pinned = await inbox.next("pinned");
      // A data file not in WAL mode (one the data API has not written to yet: it switches the file to WAL on its
      // first write) can't take commits while the copy reads it: writes then wait for the copy under the lock.
      if (!pinned.wal) holdForCopy = true;
      await opts.pin(pinned.bookkeeping);
      if (!holdForCopy) release();
      // From here writes go on; the copy's read transaction keeps SQLite from checkpointing the WAL past the pin, so
      // the WAL grows by what they write until the copy ends (the next checkpoint after it takes the space back).
      await opts.beforeCopy?.();
      signal.throwIfAborted();
      child.send({ copy: true });
      const { bytes } = await inbox.next("done");
      return { bookkeeping: pinned.bookkeeping, bytes };
    } finally {
      if (!opts.keepLock) release();
    }
  } catch (err) {
    for (const f of snapshotSidecars(target)) await fs.rm(f, { force: true });
    throw err;
  } finally {
    signal.removeEventListener("abort", onAbort);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

/** The copier's answers, one at a time; its failure, its end or a Stop rejects the one awaited. */
class Inbox {
  private readonly queue: WorkerMessage[] = [];
  private ended: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(child: ChildProcess, private readonly signal: AbortSignal) {
    child.on("message", (m: WorkerMessage) => { this.queue.push(m); this.wake?.(); });
    child.on("error", (err) => { this.ended ??= err; this.wake?.(); });
    child.once("exit", (code, sig) => {
      this.ended ??= new Error(`The snapshot process ended without an answer (${sig ?? `exit code ${code}`}).`);
      this.wake?.();
    });
    signal.addEventListener("abort", () => this.wake?.(), { once: true });
  }

  async next<K extends "ready" | "pinned" | "done">(key: K): Promise<Extract<WorkerMessage, Record<K, true>>> {
    for (;;) {
      const m = this.queue.shift();
      if (m && "error" in m) throw new Error(`Could not take the data file snapshot: ${m.error}`);
      if (m && key in m) return m as Extract<WorkerMessage, Record<K, true>>;
      if (m) throw new Error(`The snapshot process answered out of turn (${Object.keys(m).join(", ")} while waiting for ${key}).`);
      if (this.signal.aborted) throw this.signal.reason ?? Object.assign(new Error("Aborted"), { name: "AbortError" });
      if (this.ended) throw this.ended;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }
}
