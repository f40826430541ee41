// What the writes bench measures, from one child run's raw samples (writes-child.ts): the latency of data API
// writes before and during a backup, and how long writes were blocked by the data write lock (docs/log-file.md, docs/performance.md).
export interface WriteSample {
  /** When it was handed to the data API, ms from the child's start. */
  issuedMs: number;
  /** From issued to acknowledged (committed and in the log file), ms; -1 when it failed. */
  latencyMs: number;
  /** The engine's phase when it was issued; "before" / "after" outside the backup. */
  phase: string;
  /** It met the data write lock: held, or writes already waiting for it, so it queued. */
  queued: boolean;
  error?: string;
}

export interface WritesRun {
  mode: "Snapshot" | "Full";
  status: number;
  statusText: string;
  intervalMs: number;
  /** Clients writing at once (each waits for its write's acknowledgement before the next). */
  writers: number;
  /** Groups the data store committed (one log flush each) and the writes they held, over the whole run. */
  commits: { groups: number; writes: number };
  backup: { startMs: number; endMs: number };
  phases: Array<{ phase: string; atMs: number }>;
  lockHeld: Array<{ startMs: number; endMs: number | null }>;
  writes: WriteSample[];
  /** The data file's WAL at the backup's start and at its largest during it (sampled every 50 ms). */
  wal?: { beforeBytes: number; peakBytes: number };
}

export interface Latency { count: number; p50: number; p99: number; max: number }

/** Acknowledged writes per second over a span, and the latency of the writes issued in it. */
export interface Throughput { perSecond: number; latency: Latency }

export interface WritesSummary {
  mode: string;
  writers: number;
  /** Writes per log flush, over the whole run. */
  writesPerFlush: number;
  /** Before the backup (its `baseline`), every write counted. */
  outside: Throughput;
  /** From the backup's start to its end, every write counted (those that waited for the lock too). */
  whileBackingUp: Throughput;
  backupMs: number;
  /** The engine's snapshot phase: from its start (before the data write lock is taken) to the archive phase. */
  snapshotMs: number;
  /** How long the data write lock was held in all. */
  lockHeldMs: number;
  /**
   * Writes blocked: the longest time one write waited while the data write lock was held (the overlap of its
   * issued → acknowledged span with the lock's hold), i.e. without its own run once the lock was released.
   */
  blockedMs: number;
  /** The same overlaps of every write that met the lock, added up: how long the stream was held up in all. */
  blockedTotalMs: number;
  blockedCount: number;
  /** The longest issued → acknowledged latency of a write that met the lock (blocked + its own run after). */
  blockedLatencyMs: number;
  failed: number;
  /** Writes issued before the backup started. */
  before: Latency;
  /** Writes issued during the backup that did not meet the lock: what the backup's own load costs a write. */
  during: Latency;
  /** The writes that did not meet the lock by the engine's phase when they were issued, in order. */
  byPhase: Array<{ phase: string; latency: Latency }>;
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function latency(samples: WriteSample[]): Latency {
  const ms = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
  return { count: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms.at(-1) ?? NaN };
}

export function summarize(run: WritesRun): WritesSummary {
  const ok = run.writes.filter((w) => w.latencyMs >= 0);
  const { startMs, endMs } = run.backup;
  const blocked = ok.filter((w) => w.queued);
  const held = run.lockHeld.map((h) => ({ startMs: h.startMs, endMs: h.endMs ?? endMs }));
  const overlap = (w: WriteSample) =>
    held.reduce((n, h) => n + Math.max(0, Math.min(w.issuedMs + w.latencyMs, h.endMs) - Math.max(w.issuedMs, h.startMs)), 0);
  const snapIdx = run.phases.findIndex((p) => p.phase === "snapshot");
  const snapshotMs = snapIdx >= 0 ? (run.phases[snapIdx + 1]?.atMs ?? endMs) - run.phases[snapIdx]!.atMs : NaN;
  const span = (from: number, to: number): Throughput => ({
    perSecond: ok.filter((w) => w.issuedMs + w.latencyMs >= from && w.issuedMs + w.latencyMs < to).length / ((to - from) / 1000),
    latency: latency(ok.filter((w) => w.issuedMs >= from && w.issuedMs < to)),
  });
  // The baseline's first half second is left out: the first writes open the data file and warm its pages.
  const firstMs = Math.min(...run.writes.map((w) => w.issuedMs));
  return {
    mode: run.mode,
    writers: run.writers,
    writesPerFlush: run.commits.groups ? run.commits.writes / run.commits.groups : NaN,
    outside: span(Math.min(firstMs + 500, startMs), startMs),
    whileBackingUp: span(startMs, endMs),
    backupMs: endMs - startMs,
    snapshotMs,
    lockHeldMs: held.reduce((n, h) => n + h.endMs - h.startMs, 0),
    blockedMs: Math.max(0, ...blocked.map(overlap)),
    blockedTotalMs: blocked.reduce((n, w) => n + overlap(w), 0),
    blockedCount: blocked.length,
    blockedLatencyMs: Math.max(0, ...blocked.map((w) => w.latencyMs)),
    failed: run.writes.length - ok.length,
    before: latency(ok.filter((w) => w.issuedMs < startMs)),
    during: latency(ok.filter((w) => w.issuedMs >= startMs && w.issuedMs < endMs && !w.queued)),
    byPhase: [...new Set(ok.map((w) => w.phase))].map((phase) => ({ phase, latency: latency(ok.filter((w) => w.phase === phase && !w.queued)) })),
  };
}

export const fmtMs = (ms: number) => (Number.isNaN(ms) ? "n/a" : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
export const fmtLatency = (l: Latency) => `${fmtMs(l.p50)} / ${fmtMs(l.p99)} (${l.count})`;
