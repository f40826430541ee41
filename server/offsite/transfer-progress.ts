// Progress of one transfer (an upload or a download) as the Backup page shows it: bytes, speed and time left. The
// speed is measured over the last few seconds (a resumed transfer's bytes from before don't count as speed).

export interface TransferProgress {
  /** What is being done: hashing the local file, sending, or receiving. */
  stage: "hashing" | "uploading" | "downloading";
  bytesDone: number;
  bytesTotal: number;
  /** Over the last WINDOW_MS; null until there is something to measure. */
  bytesPerSecond: number | null;
  etaSeconds: number | null;
}

const WINDOW_MS = 5_000;

export class ProgressMeter {
  private done: number;
  private readonly samples: Array<{ at: number; done: number }> = [];

  constructor(private stage: TransferProgress["stage"], private readonly total: number, alreadyDone = 0,
    private readonly now: () => number = () => performance.now()) {
    this.done = alreadyDone;
    this.samples.push({ at: this.now(), done: alreadyDone });
  }

  add(bytes: number): void {
    this.done += bytes;
    const at = this.now();
    this.samples.push({ at, done: this.done });
    while (this.samples.length > 2 && at - this.samples[1]!.at > WINDOW_MS) this.samples.shift();
  }

  /** Sets the count outright (a part that failed and is sent again counts once). */
  set(bytes: number): void {
    this.add(bytes - this.done);
  }

  get bytesDone(): number {
    return this.done;
  }

  snapshot(): TransferProgress {
    const first = this.samples[0]!;
    const last = this.samples.at(-1)!;
    const seconds = (last.at - first.at) / 1000;
    const speed = seconds >= 0.2 && last.done > first.done ? (last.done - first.done) / seconds : null;
    return {
      stage: this.stage, bytesDone: this.done, bytesTotal: this.total, bytesPerSecond: speed,
      etaSeconds: speed ? Math.max(0, Math.round((this.total - this.done) / speed)) : null,
    };
  }
}

/** Calls `fn` at most every `ms` (and always for the last call, through flush()). */
export function throttled<T>(fn: ((v: T) => void) | undefined, ms = 200): { push: (v: () => T) => void; flush: (v: () => T) => void } {
  let last = -Infinity;
  return {
    push(v) {
      if (!fn) return;
      const t = performance.now();
      if (t - last >= ms) {
        last = t;
        fn(v());
      }
    },
    flush(v) {
      if (!fn) return;
      last = performance.now();
      fn(v());
    },
  };
}
