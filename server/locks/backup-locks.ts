// The backup locks (docs/operations.md step 2, docs/log-file.md): "data" (writes to the data file, schema changes included) and "structure"
// (changes to Project/ and Settings/). The engine holds them during a backup; a write that meets a held lock waits
// in arrival order and runs when it is released, or gets -9976 if its caller cancels or asked not to wait.
import { EventEmitter } from "node:events";
import { DomainError } from "../errors";
import { STATUS } from "../isomorphic/status";

export type LockKind = "data" | "structure";

export interface LockKindState {
  held: boolean;
  /** Writes waiting for the lock (queued, not started). */
  waiting: number;
  /** When the lock was taken (UTC ISO), or null when free. */
  since: string | null;
}

export type LockState = { data: LockKindState; structure: LockKindState };

/** Ends a hold. Calling it again does nothing, so every exit path of an operation can call it. */
export type Release = () => void;

export interface RunWriteOptions {
  /** Aborted while the write waits (the client went away, or pressed Cancel): -9976, the write is not run. */
  signal?: AbortSignal;
  /** Don't wait: -9976 at once if the write would have to wait. */
  noWait?: boolean;
  /** Lets `cancel(requestId)` find this write while it waits. */
  requestId?: string;
  /**
   * When the lock is released, this write may start together with the other `together` writes that waited right
   * next to it (all started at once, in arrival order) instead of one after the other. For writes that keep their
   * own order once started: the data store commits them in groups.
   */
  together?: boolean;
}

export interface AcquireOptions {
  /** How long to wait for the writes already running to end (docs/operations.md step 3: 1405 after a timeout). */
  drainTimeoutMs?: number;
  /** Aborts the wait for running writes (a Stop): the lock is released and the abort reason thrown. */
  signal?: AbortSignal;
}

/**
 * How long a backup waits for running data API writes before giving up with 1405. A write holds its transaction
 * only while it is applied and its log record is flushed (milliseconds); 30 s leaves room for a slow disk.
 */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

interface Waiter {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  requestId?: string;
  together: boolean;
  detach: () => void;
}

interface KindState {
  held: boolean;
  since: string | null;
  /** Writes running now (started at once or taken from the queue). */
  inFlight: number;
  /** True while a write taken from the queue runs: newcomers go behind the queue, not past it. */
  draining: boolean;
  queue: Waiter[];
  /** Called whenever inFlight drops to 0 (the engine waiting for running writes). */
  idle: Set<() => void>;
}

const KINDS: readonly LockKind[] = ["data", "structure"];
const NAMES: Record<LockKind, string> = { data: "data write lock", structure: "structure lock" };

const refused = () => new DomainError(STATUS.BACKUP_IN_PROGRESS);

export class BackupLocks extends EventEmitter<{ change: [LockState] }> {
  private readonly kinds: Record<LockKind, KindState>;
  private readonly now: () => Date;

  constructor(opts: { now?: () => Date } = {}) {
    super();
    this.now = opts.now ?? (() => new Date());
    const fresh = (): KindState => ({ held: false, since: null, inFlight: 0, draining: false, queue: [], idle: new Set() });
    this.kinds = { data: fresh(), structure: fresh() };
  }

  state(): LockState {
    const one = (k: LockKind): LockKindState => {
      const s = this.kinds[k];
      return { held: s.held, waiting: s.queue.length, since: s.since };
    };
    return { data: one("data"), structure: one("structure") };
  }

  /**
   * Runs a write under the lock of `kind`: at once when the lock is free and nobody waits, otherwise after the
   * writes that arrived before it, once the lock is released. Rejects with -9976 (fn never called) when the caller
   * asked not to wait or cancels while waiting. Reads never come here.
   */
  runWrite<T>(kind: LockKind, fn: () => T | Promise<T>, opts: RunWriteOptions = {}): Promise<T> {
    const s = this.kinds[kind];
    if (!s.held && !s.draining && s.queue.length === 0) return this.execute(s, fn);
    // An already-aborted signal counts only when the write would wait: a free lock runs it like any other write.
    if (opts.noWait || opts.signal?.aborted) return Promise.reject(refused());
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        fn,
        resolve: resolve as (v: unknown) => void,
        reject,
        requestId: opts.requestId,
        together: opts.together ?? false,
        detach: () => opts.signal?.removeEventListener("abort", onAbort),
      };
      const onAbort = () => this.drop(s, waiter);
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      s.queue.push(waiter);
      this.changed();
    });
  }

  /** Cancels a waiting write by its request id: it gets -9976 and is never run. False when none waits (any more). */
  cancel(requestId: string): boolean {
    for (const k of KINDS) {
      const s = this.kinds[k];
      const waiter = s.queue.find((w) => w.requestId === requestId);
      if (waiter) return this.drop(s, waiter);
    }
    return false;
  }

  /**
   * Takes the lock for an operation: new writes queue from now on; then waits until the writes already running
   * end. After `drainTimeoutMs` the lock is released again and 1405 thrown; an abort releases it and throws the
   * abort's reason. One operation at a time: taking a lock that is already held is an error.
   */
  async acquire(kind: LockKind, opts: AcquireOptions = {}): Promise<Release> {
    const s = this.kinds[kind];
    if (s.held) throw new Error(`The ${NAMES[kind]} is already held by another operation: one operation runs at a time.`);
    opts.signal?.throwIfAborted();
    s.held = true;
    s.since = this.now().toISOString();
    this.changed();
    let released = false;
    const release: Release = () => {
      if (released) return;
      released = true;
      s.held = false;
      s.since = null;
      this.changed();
      this.pump(s);
    };
    try {
      await this.waitIdle(kind, s, opts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS, opts.signal);
    } catch (err) {
      release();
      throw err;
    }
    return release;
  }

  private waitIdle(kind: LockKind, s: KindState, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (s.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        s.idle.delete(onIdle);
        signal?.removeEventListener("abort", onAbort);
      };
      const onIdle = () => { done(); resolve(); };
      const onAbort = () => { done(); reject(signal!.reason); };
      const timer = setTimeout(() => {
        const n = s.inFlight;
        done();
        reject(new DomainError(STATUS.TRANSACTIONS_TIMEOUT,
          `Timed out after ${formatSeconds(timeoutMs)} waiting for ${n} ${kind === "data" ? "data API write" : "structure change"}${n === 1 ? "" : "s"} ` +
          `in progress to end before taking the ${NAMES[kind]}; the lock was released and the backup did not go on. Try the backup again.`));
      }, timeoutMs);
      s.idle.add(onIdle);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private async execute<T>(s: KindState, fn: () => T | Promise<T>): Promise<T> {
    s.inFlight++;
    try {
      return await fn();
    } finally {
      s.inFlight--;
      if (s.inFlight === 0) for (const f of [...s.idle]) f();
    }
  }

  /**
   * Runs the queue in arrival order while the lock is free: one write after another, except that a run of waiting
   * `together` writes starts at once (in order) and the next ones wait until all of that run have ended.
   */
  private pump(s: KindState): void {
    if (s.held || s.draining) return;
    const head = s.queue[0];
    if (!head) return;
    let n = 1;
    if (head.together) while (n < s.queue.length && s.queue[n]!.together) n++;
    const run = s.queue.splice(0, n);
    s.draining = true;
    this.changed();
    let left = run.length;
    for (const next of run) {
      next.detach();
      this.execute(s, next.fn).then(next.resolve, next.reject).finally(() => {
        if (--left > 0) return;
        s.draining = false;
        this.pump(s);
      });
    }
  }

  private drop(s: KindState, waiter: Waiter): boolean {
    const i = s.queue.indexOf(waiter);
    if (i < 0) return false;
    s.queue.splice(i, 1);
    waiter.detach();
    waiter.reject(refused());
    this.changed();
    return true;
  }

  private changed(): void {
    this.emit("change", this.state());
  }
}

const formatSeconds = (ms: number) => (ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);
