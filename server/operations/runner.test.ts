// The operation lifecycle, once for every kind of task: on a real database folder, with the real history file,
// journal and console.sqlite. Each task here is a few lines that succeed, fail, throw, hang or get stopped.
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import { DomainError } from "../errors";
import { STATUS } from "../isomorphic/status";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";
import type { ConsoleEvent } from "./bus";
import { DatabaseContext } from "./database-context";
import { OperationRunner } from "./runner";
import type { Task, TaskContext } from "./task";

let t: TestDatabase;
let runner: OperationRunner;

afterEach(async () => {
  await runner?.waitForIdle();
  t?.cleanup();
});

function setUp(opts: { stopGraceMs?: number } = {}) {
  t = makeTestDatabase({ rows: 10 });
  const db = new DatabaseContext({ databaseDir: t.databaseDir, home: t.home, defaultDestination: t.destination,
    consoleDb: openConsoleDb(path.join(t.home, "console.sqlite")) });
  runner = new OperationRunner(db, { stopGraceMs: opts.stopGraceMs });
  const events: ConsoleEvent[] = [];
  db.bus.on("event", (e) => events.push(e));
  return { db, events };
}

const alice = { kind: "manual" as const, user: "alice" };

function task(run: (ctx: TaskContext) => Promise<void>, extra: Partial<Task> = {}): Task {
  return { kind: "restore", trigger: alice, record: { operation: "restore", archivePath: "/srv/archives/Demo[0001].zip" }, run, ...extra };
}

const journal = () => fs.readFileSync(path.join(t.databaseDir, "Logs", "Backup Journal[001].txt"), "utf8");
const history = () => JSON.parse(fs.readFileSync(path.join(t.destination, "backupHistory.json"), "utf8"))[path.join(t.databaseDir, "Project")];

/** Resolves once the signal aborts (a task that honours Stop). */
const untilAborted = (signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));

describe("the operation runner", () => {
  it("runs a task to its end: progress, history entry, journal block, outcome, and every console told", async () => {
    const { events } = setUp();
    const released: string[] = [];
    const temp = path.join(t.root, "work-folder");
    const started = runner.start(task(async (ctx) => {
      await ctx.settings();
      fs.mkdirSync(temp);
      ctx.removeAtEnd(temp);
      ctx.atEnd(() => released.push("lock"));
      ctx.progress.phase("restore", 10);
      ctx.record.backupNumber = 7;
      ctx.details.push("Restored 3 item(s) to /srv/restored.");
    }));
    expect(runner.running?.operationId).toBe(started.operationId);
    const outcome = await started.done;
    expect(outcome).toMatchObject({ status: 0, statusText: "OK", kind: "restore", backupNumber: 7, archivePath: "/srv/archives/Demo[0001].zip",
      details: ["Restored 3 item(s) to /srv/restored."] });
    expect(runner.running).toBeNull();
    expect(runner.lastResult).toEqual(outcome);
    expect(released).toEqual(["lock"]);
    expect(fs.existsSync(temp)).toBe(false);
    expect(history()).toMatchObject([{ operation: "restore", backupNumber: 7, status: 0, trigger: "manual", user: "alice" }]);
    expect(journal()).toContain("*** Full Backup Restore\nTrigger : manual (alice)\nRestoring archive : /srv/archives/Demo[0001].zip\nRestored 3 item(s) to /srv/restored.");
    const kinds = events.map((e) => e.type);
    expect(kinds[0]).toBe("progress");
    expect(kinds).toContain("journal");
    expect(kinds.at(-1)).toBe("finished");
    expect(events.some((e) => e.type === "progress" && e.progress.phase === "restore")).toBe(true);
  });

  it("maps every way a task fails to a status, and lets go of what it held", async () => {
    setUp();
    const cases: Array<[unknown, number, string | RegExp]> = [
      [new DomainError(STATUS.DESTINATION_INVALID, "The destination folder /x does not exist."), 1407, "The destination folder /x does not exist."],
      [new DomainError(null, "No such table."), 1409, "No such table."],
      [Object.assign(new Error("no space left on device, write"), { code: "ENOSPC" }), 1409, "Disk full during the restore: no space left on device, write"],
      [Object.assign(new Error("i/o error, read"), { code: "EIO" }), 1409, "I/O error during the restore (EIO): i/o error, read"],
      [new TypeError("x is not a function"), 1409, "The restore failed: x is not a function"],
    ];
    for (const [err, status, text] of cases) {
      let released = false;
      const outcome = await runner.start(task(async (ctx) => {
        await ctx.settings();
        ctx.atEnd(() => { released = true; });
        throw err;
      })).done;
      expect(outcome).toMatchObject({ status, statusText: text });
      expect(released).toBe(true);
    }
    expect(history().map((e: { status: number }) => e.status)).toEqual([1407, 1409, 1409, 1409, 1409]);
    expect(journal()).toContain("*** Full Backup Restore aborted");
    expect(journal()).toContain("Error reported : 1407 The destination folder /x does not exist.");
  });

  it("ends a task whose run throws before returning a promise", async () => {
    setUp();
    const outcome = await runner.start(task((() => { throw new DomainError(STATUS.BACKUP_ERROR, "Refused at once."); }) as unknown as Task["run"])).done;
    expect(outcome).toMatchObject({ status: 1409, statusText: "Refused at once." });
    expect(runner.running).toBeNull();
    expect((await runner.start(task(async () => undefined)).done).status).toBe(0);
  });

  it("is one operation at a time: a second start is refused with -9976, or 1417 during a log integration", async () => {
    setUp();
    let finish!: () => void;
    const first = runner.start(task(() => new Promise<void>((r) => { finish = r; })));
    expect(() => runner.start(task(async () => undefined))).toThrow(expect.objectContaining({ status: STATUS.BACKUP_IN_PROGRESS, code: "CONFLICT",
      message: "A restore is in progress. Wait for it to end, or stop it first." }));
    finish();
    await first.done;
    const integration = runner.start(task(() => new Promise<void>((r) => { finish = r; }), { kind: "logIntegration" }));
    expect(() => runner.start(task(async () => undefined))).toThrow(expect.objectContaining({ status: STATUS.LOG_INTEGRATION_RUNNING }));
    finish();
    await integration.done;
  });

  it("stops a task: 1406 with what the stop left behind; the server's own stop is 1409, and nothing starts after it", async () => {
    setUp();
    const stoppable = (extra: Partial<Task> = {}) => task(async (ctx) => {
      ctx.progress.phase("restore", 5);
      await untilAborted(ctx.signal);
    }, { stoppedText: "Nothing was left in the chosen folder.", ...extra });
    const run = runner.start(stoppable());
    await expect.poll(() => runner.running?.phase).toBe("restore");
    expect(runner.stop()).toBe(true);
    expect(await run.done).toMatchObject({ status: STATUS.CANCELED_BY_USER, statusText: "Nothing was left in the chosen folder." });

    const second = runner.start(stoppable());
    await expect.poll(() => runner.running?.phase).toBe("restore");
    await runner.shutDown();
    expect(await second.done).toMatchObject({ status: STATUS.BACKUP_ERROR,
      statusText: "The restore was interrupted because the server was shutting down. Nothing was left in the chosen folder." });
    expect(() => runner.start(stoppable())).toThrow(/The server is shutting down/);
  });

  it("refuses a Stop past the point of no return", async () => {
    setUp();
    let finish!: () => void;
    const run = runner.start(task(async (ctx) => {
      ctx.progress.phase("swap", 95);
      await new Promise<void>((r) => { finish = r; });
    }));
    await expect.poll(() => runner.running?.phase).toBe("swap");
    expect(runner.stop()).toBe(false);
    finish();
    expect((await run.done).status).toBe(0);
  });

  it("ends a task that ignores its Stop once the grace period is over, and the slot is free again", async () => {
    setUp({ stopGraceMs: 50 });
    let released = false;
    const run = runner.start(task(async (ctx) => {
      ctx.atEnd(() => { released = true; });
      ctx.progress.phase("restore", 5);
      await new Promise(() => undefined); // never settles, whatever happens
    }));
    await expect.poll(() => runner.running?.phase).toBe("restore");
    runner.stop();
    expect(await run.done).toMatchObject({ status: STATUS.CANCELED_BY_USER });
    expect(released).toBe(true);
    expect(runner.running).toBeNull();
    expect((await runner.start(task(async () => undefined)).done).status).toBe(0);
  });

  it("still reports the outcome when backupHistory.json can't be written, and says so in the journal and to the console", async () => {
    setUp();
    fs.mkdirSync(path.join(t.destination, "backupHistory.json")); // a folder where the file should be
    const outcome = await runner.start(task(async (ctx) => { await ctx.settings(); })).done;
    expect(outcome.status).toBe(0);
    expect(outcome.details?.join("\n")).toMatch(/^Warning: backupHistory.json could not be written: /);
    expect(journal()).toContain("Warning: backupHistory.json could not be written: ");
  });

  it("still reports the outcome and writes the history when the journal can't be written", async () => {
    setUp();
    fs.mkdirSync(path.join(t.databaseDir, "Logs", "Backup Journal[001].txt"), { recursive: true }); // a folder, not a file
    const outcome = await runner.start(task(async (ctx) => { await ctx.settings(); })).done;
    expect(outcome.status).toBe(0);
    expect(runner.lastResult).toEqual(outcome);
    expect(history()).toMatchObject([{ operation: "restore", status: 0 }]);
  });

  it("keeps a task's outcome out of the last result when it asks so, and the history out when it has none", async () => {
    setUp();
    const shown = await runner.start(task(async () => undefined)).done;
    await runner.start(task(async (ctx) => { await ctx.settings(); }, { announce: false, recordInHistory: () => false })).done;
    expect(runner.lastResult).toEqual(shown);
    expect(fs.existsSync(path.join(t.destination, "backupHistory.json"))).toBe(false);
  });
});
