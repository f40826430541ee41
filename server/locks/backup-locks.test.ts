// The backup locks: writes wait in arrival order while a lock is held, cancel and "don't wait" give -9976 without
// running the write, the engine waits for running writes (1405 after its timeout) and always gets the lock back.
import { describe, expect, it } from "vitest";
import { BackupLocks, type LockState } from "./backup-locks";
import { isDomainError } from "../errors";
import { STATUS } from "../isomorphic/status";

/** A promise and its resolver, to hold a write open for as long as a test needs. */
function gate<T = void>() {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => { open = r; });
  return { promise, open };
}

/** Lets pending promise callbacks (and the queue's hand-overs) run. */
const settle = () => new Promise((r) => setImmediate(r));

async function statusOf(p: Promise<unknown>): Promise<number | string> {
  try {
    await p;
    return "resolved";
  } catch (err) {
    return isDomainError(err) ? (err.status ?? err.code) : String(err);
  }
}

describe("BackupLocks", () => {
  it("runs a write at once while the lock is free", async () => {
    const locks = new BackupLocks();
    expect(await locks.runWrite("data", () => 42)).toBe(42);
    expect(locks.state().data).toEqual({ held: false, waiting: 0, since: null });
  });

  it("makes writes wait while the lock is held and runs them in arrival order after release, one at a time", async () => {
    const locks = new BackupLocks({ now: () => new Date("2026-03-01T10:00:00Z") });
    const release = await locks.acquire("data");
    expect(locks.state().data).toEqual({ held: true, waiting: 0, since: "2026-03-01T10:00:00.000Z" });
    const order: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const write = (name: string) => locks.runWrite("data", async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await settle();
      order.push(name);
      running--;
      return name;
    });
    const a = write("a");
    const b = write("b");
    const c = write("c");
    await settle();
    expect(order).toEqual([]);
    expect(locks.state().data.waiting).toBe(3);
    release();
    // A write arriving while the queue drains goes after the writes already waiting.
    const d = write("d");
    expect(await Promise.all([a, b, c, d])).toEqual(["a", "b", "c", "d"]);
    expect(order).toEqual(["a", "b", "c", "d"]);
    expect(maxRunning).toBe(1);
    expect(locks.state().data).toEqual({ held: false, waiting: 0, since: null });
  });

  it("starts the waiting writes marked together all at once, in arrival order, when the lock is released; others still one at a time", async () => {
    const locks = new BackupLocks();
    const release = await locks.acquire("data");
    const started: string[] = [];
    const hold = gate();
    const write = (name: string, together: boolean) => locks.runWrite("data", async () => {
      started.push(name);
      await hold.promise;
      return name;
    }, { together });
    const writes = [write("a", true), write("b", true), write("c", true), write("d", false), write("e", true)];
    await settle();
    expect(locks.state().data.waiting).toBe(5);
    release();
    await settle();
    // a, b and c run together; d waits for them to end, and e for d.
    expect(started).toEqual(["a", "b", "c"]);
    expect(locks.state().data.waiting).toBe(2);
    hold.open();
    expect(await Promise.all(writes)).toEqual(["a", "b", "c", "d", "e"]);
    expect(started).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("keeps the two locks apart: a held structure lock does not stop data writes", async () => {
    const locks = new BackupLocks();
    const release = await locks.acquire("structure");
    expect(await locks.runWrite("data", () => "data ok")).toBe("data ok");
    let ran = false;
    const settings = locks.runWrite("structure", () => { ran = true; });
    await settle();
    expect(ran).toBe(false);
    release();
    await settings;
    expect(ran).toBe(true);
  });

  it("refuses with -9976 a write that asked not to wait, without running it", async () => {
    const locks = new BackupLocks();
    const release = await locks.acquire("data");
    let called = false;
    expect(await statusOf(locks.runWrite("data", () => { called = true; }, { noWait: true }))).toBe(STATUS.BACKUP_IN_PROGRESS);
    release();
    await settle();
    expect(called).toBe(false);
    // With the lock free, noWait runs at once.
    expect(await locks.runWrite("data", () => "ran", { noWait: true })).toBe("ran");
  });

  it("cancels a waiting write by request id or abort signal: -9976, never run, the others still run in order", async () => {
    const locks = new BackupLocks();
    const release = await locks.acquire("data");
    const called: string[] = [];
    const controller = new AbortController();
    const a = locks.runWrite("data", () => { called.push("a"); });
    const b = locks.runWrite("data", () => { called.push("b"); }, { requestId: "req-b" });
    const c = locks.runWrite("data", () => { called.push("c"); }, { signal: controller.signal });
    const d = locks.runWrite("data", () => { called.push("d"); });
    expect(locks.state().data.waiting).toBe(4);
    expect(locks.cancel("req-b")).toBe(true);
    expect(locks.cancel("req-b")).toBe(false);
    expect(locks.cancel("no-such-request")).toBe(false);
    controller.abort();
    expect(locks.state().data.waiting).toBe(2);
    expect(await statusOf(b)).toBe(STATUS.BACKUP_IN_PROGRESS);
    expect(await statusOf(c)).toBe(STATUS.BACKUP_IN_PROGRESS);
    release();
    await Promise.all([a, d]);
    expect(called).toEqual(["a", "d"]);
  });

  it("cannot cancel a write once it runs", async () => {
    const locks = new BackupLocks();
    const hold = gate();
    const w = locks.runWrite("data", () => hold.promise, { requestId: "r1" });
    expect(locks.cancel("r1")).toBe(false);
    hold.open();
    expect(await statusOf(w)).toBe("resolved");
  });

  it("waits for the writes already running before the lock counts as taken", async () => {
    const locks = new BackupLocks();
    const hold = gate();
    const running = locks.runWrite("data", () => hold.promise);
    let acquired = false;
    const acquiring = locks.acquire("data").then((r) => { acquired = true; return r; });
    await settle();
    expect(acquired).toBe(false);
    // New writes queue as soon as the engine asks for the lock, even before it has it.
    expect(locks.state().data.held).toBe(true);
    let lateRan = false;
    const late = locks.runWrite("data", () => { lateRan = true; });
    hold.open();
    await running;
    const release = await acquiring;
    expect(acquired).toBe(true);
    await settle();
    expect(lateRan).toBe(false);
    release();
    await late;
    expect(lateRan).toBe(true);
  });

  it("gives up with 1405 when running writes don't end in time, and releases the lock", async () => {
    const locks = new BackupLocks();
    const hold = gate();
    const running = locks.runWrite("data", () => hold.promise);
    const err = await locks.acquire("data", { drainTimeoutMs: 20 }).then(() => null, (e: unknown) => e);
    expect(isDomainError(err) && err.status).toBe(STATUS.TRANSACTIONS_TIMEOUT);
    expect((err as Error).message).toMatch(/Timed out after 20 ms waiting for 1 data API write in progress/);
    expect(locks.state().data).toEqual({ held: false, waiting: 0, since: null });
    // Writes go on, and the lock can be taken again once the write ends.
    expect(await locks.runWrite("data", () => "still writable")).toBe("still writable");
    hold.open();
    await running;
    const release = await locks.acquire("data", { drainTimeoutMs: 20 });
    expect(locks.state().data.held).toBe(true);
    release();
  });

  it("releases the lock when the wait for running writes is aborted (Stop)", async () => {
    const locks = new BackupLocks();
    const hold = gate();
    const running = locks.runWrite("data", () => hold.promise);
    const stop = new AbortController();
    const acquiring = locks.acquire("data", { signal: stop.signal });
    stop.abort(new Error("stopped by the user"));
    await expect(acquiring).rejects.toThrow("stopped by the user");
    expect(locks.state().data.held).toBe(false);
    hold.open();
    await running;
  });

  it("has an idempotent release: a second call does not free a later hold", async () => {
    const locks = new BackupLocks();
    const first = await locks.acquire("data");
    first();
    first();
    const second = await locks.acquire("data");
    first();
    expect(locks.state().data.held).toBe(true);
    let ran = false;
    const w = locks.runWrite("data", () => { ran = true; });
    await settle();
    expect(ran).toBe(false);
    second();
    await w;
    expect(ran).toBe(true);
  });

  it("refuses a second hold of the same lock: one operation at a time", async () => {
    const locks = new BackupLocks();
    const release = await locks.acquire("data");
    await expect(locks.acquire("data")).rejects.toThrow(/already held/);
    expect(locks.state().data.held).toBe(true);
    release();
    expect(locks.state().data.held).toBe(false);
  });

  it("keeps the queue going when a waiting write throws", async () => {
    const locks = new BackupLocks();
    const release = await locks.acquire("data");
    const a = locks.runWrite("data", () => { throw new Error("constraint failed"); });
    const b = locks.runWrite("data", async () => { throw new Error("async failure"); });
    const c = locks.runWrite("data", () => "after the failures");
    release();
    await expect(a).rejects.toThrow("constraint failed");
    await expect(b).rejects.toThrow("async failure");
    expect(await c).toBe("after the failures");
    // A throwing write does not count as running forever: the lock can be taken at once.
    const again = await locks.acquire("data", { drainTimeoutMs: 20 });
    again();
  });

  it("tells listeners about every change of state", async () => {
    const locks = new BackupLocks();
    const seen: LockState[] = [];
    locks.on("change", (s) => seen.push(s));
    const release = await locks.acquire("data");
    const w = locks.runWrite("data", () => undefined);
    release();
    await w;
    expect(seen.map((s) => [s.data.held, s.data.waiting])).toEqual([[true, 0], [true, 1], [false, 1], [false, 0]]);
  });
});
