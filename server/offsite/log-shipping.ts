// Continuous log shipping: every closed log segment goes to the bucket as it closes, and the open log file is cut
// into a segment at least every OffsiteLogInterval seconds while writes happen — so that the bucket alone brings
// the database back to within about one interval of a loss. Shipped segments stay where they are locally until the
// next log backup takes them, as before: shipping changes nothing on the machine.
//
// It runs beside the operations (a backup must not pause it), one shipment at a time. What it needs from the log is
// the ShippableLog interface below; the server's log (server/log/current-log.ts) provides it.
import fs from "node:fs/promises";
import { readLog } from "../log/read-log";
import type { ClosedSegment } from "../log/log-file";
import type { BucketLayout } from "./bucket-layout";
import type { ConsoleDb } from "../console/console-db";
import { uploadFile } from "./multipart-upload";
import { headObject, listObjects, type Bucket, type ObjectLock } from "./s3-objects";

/** What log shipping needs from the log. */
export interface ShippableLog {
  /**
   * Closes the open log file into a segment now — with no write in flight, as at a backup's snapshot — and starts a
   * new log file after it. Null, changing nothing, when the open file holds no operation (or the log is off).
   */
  cut(): Promise<ClosedSegment | null>;
  /** The closed segments waiting locally for a log backup, by first operation. */
  closedSegments(): Promise<ClosedSegment[]>;
  /** Called whenever a segment closes (a cut, or a backup's snapshot); returns the unsubscribe function. */
  onSegmentClosed(listener: (segment: ClosedSegment) => void): () => void;
  /** The first operation in the open log file, with its time; null when it holds none. */
  firstOpenOperation(): Promise<{ op: number; time: string } | null>;
  /** The last operation logged. */
  lastOperation(): number;
  /** The id of the current log chain (the data file's database id). */
  databaseId(): string;
}

export interface LogShipperOptions {
  log: ShippableLog;
  bucket: Bucket;
  layout: BucketLayout;
  db: ConsoleDb;
  databaseName: string;
  masterKey: Buffer | null;
  /** OffsiteLogInterval in milliseconds. */
  intervalMs: number;
  /** Object Lock for each segment uploaded at that time (lockFor), or none. */
  lockAt?: (now: Date) => ObjectLock | null;
  now?: () => Date;
  /** After every tick or shipment, with the new status. */
  onStatus?: (s: ShippingStatus) => void;
}

export interface ShippingStatus {
  /** Every logged operation is in the bucket: a lost machine would lose nothing. */
  upToDate: boolean;
  /** The last operation in the bucket and its time — the recovery point when not up to date; null before the first. */
  shipped: { op: number; time: string } | null;
  /** True when operations wait for more than twice the interval (shown in amber). */
  lagging: boolean;
  /** Since when the oldest operation not in the bucket waits; null when up to date. */
  waitingSince: string | null;
  lastShipmentAt: string | null;
  /** The last failure (a sentence), cleared by the next success. */
  lastError: string | null;
}

export interface ShippedSegment { key: string; firstOperation: number; lastOperation: number; lastTime: string; outcome: string }

const META_LAST_OP = "strongbox-last-operation";
const META_LAST_TIME = "strongbox-last-time";

export class LogShipper {
  private readonly now: () => Date;
  private shipped: { op: number; time: string } | null = null;
  /** Names of the segments known to be in the bucket. */
  private readonly inBucket = new Set<string>();
  private loaded = false;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | null = null;
  private lastShipmentAt: string | null = null;
  private lastError: string | null = null;

  constructor(private readonly opts: LogShipperOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Ships what waits, then cuts and ships every interval, and ships each segment as it closes. */
  start(): void {
    if (this.timer) return;
    this.unsubscribe = this.opts.log.onSegmentClosed(() => void this.ship());
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
    this.timer.unref?.();
    void this.ship();
  }

  /** Stops the timer and waits for a shipment under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.running;
  }

  /** One interval's work: cut the open log if it holds operations, and ship every closed segment not yet in the bucket. */
  tick(): Promise<void> {
    return this.serial(async () => {
      if (await this.opts.log.firstOpenOperation()) await this.opts.log.cut();
      await this.shipPending();
    });
  }

  /** Ships the closed segments not yet in the bucket. */
  ship(): Promise<void> {
    return this.serial(() => this.shipPending().then(() => undefined));
  }

  /** One shipment at a time; a failure is kept for the status (and tried again at the next tick), never thrown. */
  private serial(work: () => Promise<void>): Promise<void> {
    const run = this.running.then(async () => {
      try {
        await work();
        this.lastError = null;
      } catch (err) {
        this.lastError = (err as Error).message;
      }
      this.opts.onStatus?.(await this.status());
    });
    this.running = run.catch(() => undefined);
    return run;
  }

  /** What the bucket already holds of this database's log, once (the bucket is the truth, not our memory). */
  private async load(): Promise<void> {
    if (this.loaded) return;
    const { bucket: b, layout, databaseName } = this.opts;
    let best: { op: number; key: string } | null = null;
    const current = this.opts.log.databaseId();
    for (const o of await listObjects(b, layout.segmentsPrefix(databaseName))) {
      const p = layout.parse(databaseName, o.key);
      if (p?.kind !== "segment") continue;
      this.inBucket.add(`${p.databaseId}/${p.firstOperation}-${p.lastOperation}`);
      if (p.databaseId === current && (!best || p.lastOperation > best.op)) best = { op: p.lastOperation, key: o.key };
    }
    if (best) {
      const head = await headObject(b, best.key);
      const time = head?.Metadata?.[META_LAST_TIME];
      if (time) this.shipped = { op: best.op, time };
    }
    this.loaded = true;
  }

  private async shipPending(): Promise<ShippedSegment[]> {
    await this.load();
    const { bucket: b, layout, databaseName, masterKey } = this.opts;
    const done: ShippedSegment[] = [];
    for (const segment of await this.opts.log.closedSegments()) {
      // The segment's own header says which chain it belongs to (a restore in place starts a new one).
      let contents;
      try {
        contents = await readLog(segment.path, { allowTornTail: false });
      } catch (err) {
        // Taken by a log backup meanwhile: the log backup's own upload carries these operations.
        if (!(await fs.stat(segment.path).then(() => true, () => false))) continue;
        throw err;
      }
      const id = contents.header.databaseId;
      const name = `${id}/${segment.firstOperation}-${segment.lastOperation}`;
      const last = contents.records.at(-1);
      if (!last) continue;
      if (!this.inBucket.has(name)) {
        const key = layout.segmentKey(databaseName, id, segment.firstOperation, segment.lastOperation, masterKey !== null);
        const r = await uploadFile({
          bucket: b, db: this.opts.db, key, file: segment.path, masterKey, lock: this.opts.lockAt?.(this.now()) ?? null,
          metadata: { [META_LAST_OP]: String(last.op), [META_LAST_TIME]: last.time },
        });
        this.inBucket.add(name);
        this.lastShipmentAt = this.now().toISOString();
        done.push({ key, firstOperation: segment.firstOperation, lastOperation: segment.lastOperation, lastTime: last.time, outcome: r.outcome });
      }
      if (id === this.opts.log.databaseId() && (!this.shipped || last.op > this.shipped.op)) this.shipped = { op: last.op, time: last.time };
    }
    return done;
  }

  /**
   * Where the bucket stands: up to date when every logged operation is in it; otherwise the last operation it has
   * (the recovery point), and lagging when the oldest operation not in it waits for more than twice the interval.
   */
  async status(): Promise<ShippingStatus> {
    const last = this.opts.log.lastOperation();
    const shippedOp = this.shipped?.op ?? 0;
    let waitingSince: string | null = null;
    if (last > shippedOp) {
      // The oldest operation not shipped: in a closed segment still waiting, or the open log's first.
      for (const s of await this.opts.log.closedSegments().catch(() => [])) {
        if (s.lastOperation <= shippedOp) continue;
        const c = await readLog(s.path, { allowTornTail: false }).catch(() => null);
        const first = c?.records.find((r) => r.op > shippedOp);
        if (first) { waitingSince = first.time; break; }
      }
      waitingSince ??= (await this.opts.log.firstOpenOperation().catch(() => null))?.time ?? this.now().toISOString();
    }
    const lagging = waitingSince !== null && this.now().getTime() - Date.parse(waitingSince) > 2 * this.opts.intervalMs;
    return { upToDate: last <= shippedOp, shipped: this.shipped, lagging, waitingSince, lastShipmentAt: this.lastShipmentAt, lastError: this.lastError };
  }
}
