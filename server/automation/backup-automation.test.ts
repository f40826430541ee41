// Automatic backups on the real runner, real folders and a real HTTP webhook: retry after the delay, then an alert;
// 1401 after N attempts and automatic backups off until a manual backup succeeds; BackupIfDataChange.
import Database from "better-sqlite3";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";
import { openOperations } from "../../test/helpers/operations";
import { recoverAtStart } from "../startup/start";
import { AlertStore } from "./alerts";
import { BackupAutomation } from "./backup-automation";
import { Scheduler, settingsUnavailable } from "../scheduler/scheduler";

let db: TestDatabase;
let cleanup: Array<() => void> = [];
afterEach(() => { for (const c of cleanup.splice(0)) c(); db?.cleanup(); });

function setup(advancedXml: string, opts: { throttleBytesPerSecond?: number } = {}) {
  db = makeTestDatabase();
  db.writeSettings({ advancedXml });
  return start(opts);
}

/** The server's services over `db` as one start makes them (a later call is a restart on the same console.sqlite). */
function start(opts: { throttleBytesPerSecond?: number } = {}) {
  const consoleDb = openConsoleDb(path.join(db.home, "console.sqlite"));
  const ops = openOperations(db, { consoleDb, ...opts });
  const alerts = new AlertStore(consoleDb);
  const automation = new BackupAutomation({ db: ops.db, runner: ops.runner, backups: ops.backups, alerts, nextScheduled: () => null });
  cleanup.push(() => automation.stop(), () => consoleDb.close());
  return { ops, runner: ops.runner, alerts, automation, consoleDb };
}

async function webhookServer() {
  const received: unknown[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => { received.push(JSON.parse(body)); res.end("ok"); });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanup.push(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

const journal = () => fs.readFileSync(path.join(db.databaseDir, "Logs/Backup Journal[001].txt"), "utf8");
const failure = (abort: boolean, count = 3) => `<BackupFailure><TryBackupAtTheNextScheduledDate>False</TryBackupAtTheNextScheduledDate>
  <TryToBackupAfter>0000-00-00T00:00:01.000</TryToBackupAfter><AbortIfBackupFail>${abort ? "True" : "False"}</AbortIfBackupFail>
  <RetryCountBeforeAbort>${count}</RetryCountBeforeAbort></BackupFailure>`;

describe("a scheduled backup that can't be made", () => {
  it("is retried after the delay, then raises an alert that goes to the webhook", async () => {
    const { ops, runner, alerts, automation } = setup(failure(false));
    const hook = await webhookServer();
    alerts.setWebhook({ url: hook.url, allowPrivate: true }); // the test's receiver is on loopback
    fs.rmSync(db.destination, { recursive: true }); // the destination is gone: backup impossible (1407)
    const scheduled = new Date("2026-11-26T02:00:00Z");
    await automation.onDue(scheduled);
    expect(automation.state().pendingRetry).toMatchObject({ attempt: 2, scheduledDate: scheduled.toISOString() });
    expect(alerts.open()).toEqual([]);
    await expect.poll(() => alerts.open().length, { timeout: 15_000 }).toBe(1);
    expect(alerts.open()[0]).toMatchObject({ status: 1407, scheduledDate: scheduled.toISOString() });
    await expect.poll(() => hook.received.length).toBe(1);
    expect(hook.received[0]).toMatchObject({ source: "strongbox", statusCode: 1407, database: db.databaseDir, scheduledDate: scheduled.toISOString() });
    expect(automation.state().pendingRetry).toBeNull();
    expect(journal().match(/\*\*\* Full Backup aborted/g)).toHaveLength(2);
    expect(journal()).toContain("Trigger : retry");
    expect(automation.acknowledge(alerts.open()[0]!.id, "admin")).toBe(true);
    expect(alerts.open()).toEqual([]);
    void ops;
  });

  it("with AbortIfBackupFail: 1401 after N failed attempts, automatic backups off until a manual backup succeeds", async () => {
    const { ops, runner, alerts, automation } = setup(failure(true, 2));
    fs.rmSync(db.destination, { recursive: true });
    await automation.onDue(new Date());
    await expect.poll(() => alerts.open().map((a) => a.status), { timeout: 15_000 }).toContain(1401);
    expect(automation.state().disabled!.text).toMatch(/Maximum number of backup attempts reached.*after 2 failed attempts/);
    expect(journal()).toMatch(/Error reported : 1401/);
    // Off: a due time starts nothing.
    const before = journal();
    await automation.onDue(new Date());
    expect(journal()).toBe(before);
    // A successful manual backup turns them back on.
    fs.mkdirSync(db.destination);
    expect((await ops.backup({ trigger: { kind: "manual", user: "admin" } }).done).status).toBe(0);
    expect(automation.state().disabled).toBeNull();
  });

  it("is skipped, and recorded as such, when another operation runs at the scheduled time", async () => {
    const { ops, runner, automation } = setup("");
    const manual = ops.backup({ trigger: { kind: "manual", user: "admin" } });
    await automation.onDue(new Date());
    await manual.done;
    expect(journal()).toContain("Skipped: another operation was running at the scheduled time.");
    expect(fs.readdirSync(db.destination).filter((n) => n.endsWith(".zip"))).toHaveLength(1);
  });

  it("drops its pending retry when a manual backup succeeds meanwhile", async () => {
    const { ops, runner, automation } = setup(failure(false).replace("00:00:01.000", "00:10:00.000"));
    fs.rmSync(db.destination, { recursive: true });
    await automation.onDue(new Date());
    expect(automation.state().pendingRetry).toMatchObject({ attempt: 2 });
    fs.mkdirSync(db.destination);
    expect((await ops.backup({ trigger: { kind: "manual", user: "admin" } }).done).status).toBe(0);
    expect(automation.state().pendingRetry).toBeNull();
  });

  it("is never retried after a user Stop", async () => {
    const { ops, runner, automation } = setup(failure(false));
    const run = automation.onDue(new Date());
    await expect.poll(() => runner.running?.phase ?? "").not.toBe("");
    runner.stop();
    await run;
    expect(automation.state().pendingRetry).toBeNull();
  });
});

describe("a scheduled backup cut by a server shutdown", () => {
  const zips = () => fs.readdirSync(db.destination).filter((n) => n.endsWith(".zip"));

  it("ends with 1409 (not a user's 1406), and its retry is kept and runs after the restart", async () => {
    // 8 MB read at 1 MB/s: the shutdown lands in the archive phase.
    const first = setup(failure(false), { throttleBytesPerSecond: 1024 * 1024 });
    fs.writeFileSync(path.join(db.attachmentsDir, "big.bin"), crypto.randomBytes(8 * 1024 * 1024));
    const scheduled = new Date("2026-11-26T02:00:00Z");
    const run = first.automation.onDue(scheduled);
    await expect.poll(() => first.runner.running?.phase ?? "").toBe("archive");
    // The server's stop, in its order: automatic backups first, then the running operation.
    first.automation.stop();
    await first.runner.shutDown();
    await first.automation.idle();
    await run;
    expect(first.runner.lastResult).toMatchObject({ status: 1409, statusText: "The backup was interrupted because the server was shutting down." });
    expect(journal()).toContain("Error reported : 1409");
    expect(first.automation.state().pendingRetry).toMatchObject({ attempt: 2, scheduledDate: scheduled.toISOString() });
    expect(() => first.ops.backup({ trigger: { kind: "manual", user: "admin" } })).toThrow(/shutting down/);
    first.consoleDb.close();

    // The restart: the retry saved in console.sqlite is due (1 s after the failure) and runs.
    fs.rmSync(path.join(db.attachmentsDir, "big.bin"));
    const second = start();
    expect(await second.automation.resume()).toEqual([expect.stringMatching(/retry of an automatic backup \(attempt 2\)/)]);
    expect(second.automation.state().pendingRetry).toMatchObject({ attempt: 2, scheduledDate: scheduled.toISOString() });
    await expect.poll(() => zips().length, { timeout: 15_000 }).toBe(1);
    await second.runner.waitForIdle();
    await expect.poll(() => second.automation.state().pendingRetry).toBeNull();
    expect(second.runner.lastResult).toMatchObject({ status: 0, trigger: { kind: "retry" } });
    expect(second.alerts.open()).toEqual([]);
  });

  it("counts a scheduled backup a crash interrupted as a failed attempt at the next start", async () => {
    const first = setup(failure(false), { throttleBytesPerSecond: 1024 * 1024 });
    fs.writeFileSync(path.join(db.attachmentsDir, "big.bin"), crypto.randomBytes(8 * 1024 * 1024));
    const scheduled = new Date("2026-11-26T02:00:00Z");
    void first.automation.onDue(scheduled);
    await expect.poll(() => first.runner.running?.phase ?? "").toBe("archive");
    // A crash leaves the operations ledger saying "running": simulated by starting again on the same files while
    // the first runner is left behind (it is stopped afterwards only to free the test's folders).
    const second = start();
    const recovered = await recoverAtStart(second.ops.db, second.runner);
    expect(recovered.messages.join("\n")).toMatch(/Interrupted backup #1 recorded with status 1409/);
    await second.automation.resume(recovered.interrupted);
    expect(second.automation.state().pendingRetry).toMatchObject({ attempt: 2, scheduledDate: scheduled.toISOString() });
    second.automation.stop();
    first.runner.stop();
    await first.runner.waitForIdle();
  });
});

describe("BackupIfDataChange", () => {
  it("postpones a scheduled backup when nothing changed, and backs up after a direct change to the data file", async () => {
    const { automation } = setup("<BackupIfDataChange>True</BackupIfDataChange>");
    await automation.onDue(new Date());
    expect(fs.readdirSync(db.destination).filter((n) => n.endsWith(".zip"))).toHaveLength(1);
    await automation.onDue(new Date());
    expect(journal()).toContain("*** Backup postponed");
    expect(fs.readdirSync(db.destination).filter((n) => n.endsWith(".zip"))).toHaveLength(1);
    const w = new Database(db.dataFile);
    w.prepare("UPDATE customers SET city = 'Lyon' WHERE id = 1").run();
    w.close();
    await automation.onDue(new Date());
    expect(fs.readdirSync(db.destination).filter((n) => n.endsWith(".zip"))).toHaveLength(2);
  });
});

describe("the schedule and the server's own downtime", () => {
  const everyMinute = `<Frequency>Cron</Frequency><Cron>* * * * *</Cron>`;

  it("counts scheduled times missed while the server was down as one failed backup, then follows the failure settings", async () => {
    const { ops, runner, alerts, automation } = setup(failure(false));
    const settingsFile = path.join(db.databaseDir, "Settings/Backup.4DSettings");
    fs.writeFileSync(settingsFile, fs.readFileSync(settingsFile, "utf8").replace("<Frequency>Never</Frequency>", everyMinute));
    const schedule = (await ops.db.resolve()).settings.scheduler;
    const lastAlive = new Date(Date.now() - 10 * 60_000); // down for ten minutes: ten missed times, one failure
    const missed = await automation.checkMissedWhileDown(lastAlive, schedule);
    expect(missed).not.toBeNull();
    expect(journal().match(/\*\*\* Full Backup aborted/g)).toHaveLength(1);
    expect(journal()).toContain("the server was not running at the scheduled time");
    expect(automation.state().pendingRetry).toMatchObject({ attempt: 2 });
    // The retry finds a working destination and succeeds: nothing to alert.
    await expect.poll(() => fs.readdirSync(db.destination).filter((n) => n.endsWith(".zip")).length, { timeout: 15_000 }).toBe(1);
    expect(alerts.open()).toEqual([]);
    expect(await automation.checkMissedWhileDown(new Date(), schedule)).toBeNull();
  });

  it("a scheduled time that comes while the server is starting is run by the scheduler, not also counted as missed", async () => {
    const { ops, automation } = setup("");
    const settingsFile = path.join(db.databaseDir, "Settings/Backup.4DSettings");
    fs.writeFileSync(settingsFile, fs.readFileSync(settingsFile, "utf8").replace("<Frequency>Never</Frequency>", everyMinute));
    const schedule = (await ops.db.resolve()).settings.scheduler;
    // Stopped at 10:00:10, started again at 10:00:50 — and the start went on past 10:01 (a busy machine).
    let now = new Date("2026-11-26T10:00:50Z");
    const scheduler = new Scheduler({
      tick: "manual", now: () => now, timeZone: "UTC",
      getScheduler: () => ops.db.resolve().then((c) => c.settings.scheduler, (err: Error) => settingsUnavailable(err.message)),
      onDue: (d) => automation.onDue(d),
    });
    const watchingFrom = now;
    await scheduler.start(watchingFrom);
    now = new Date("2026-11-26T10:01:05Z");
    expect(await automation.checkMissedWhileDown(new Date("2026-11-26T10:00:10Z"), schedule, watchingFrom)).toBeNull();
    expect(scheduler.nextDue()).toEqual(new Date("2026-11-26T10:01:00Z"));
    await scheduler.tick();
    await automation.idle();
    await scheduler.stop();
    expect(journal()).not.toContain("the server was not running at the scheduled time");
    expect(journal().match(/\*\*\* Full Backup/g)).toHaveLength(1);
    expect(fs.readdirSync(db.destination).filter((n) => n.endsWith(".zip"))).toHaveLength(1);
  });

  it("raises an alert at each scheduled time a malformed settings file makes it skip, and leaves the file alone", async () => {
    const { ops, runner, alerts, automation } = setup("");
    const settingsFile = path.join(db.databaseDir, "Settings/Backup.4DSettings");
    fs.writeFileSync(settingsFile, fs.readFileSync(settingsFile, "utf8").replace("<Frequency>Never</Frequency>", everyMinute));
    let now = new Date("2026-11-26T10:00:30Z");
    const scheduler = new Scheduler({
      tick: "manual", now: () => now, timeZone: "UTC",
      getScheduler: () => ops.db.resolve().then((c) => c.settings.scheduler, (err: Error) => settingsUnavailable(err.message)),
      onDue: (d) => automation.onDue(d),
      onSkipped: (d, reason) => automation.onSkipped(d, reason),
    });
    await scheduler.start();
    expect(scheduler.nextDue()).toEqual(new Date("2026-11-26T10:01:00Z"));
    const broken = "<Preferences4D><Backup><Settings>\n<General><IncludeDataFile>maybe</IncludeDataFile></General>\n</Settings></Backup></Preferences4D>";
    fs.writeFileSync(settingsFile, broken);
    for (const t of ["2026-11-26T10:01:00Z", "2026-11-26T10:02:00Z"]) {
      now = new Date(t);
      await scheduler.tick();
    }
    await scheduler.stop();
    expect(alerts.open()).toHaveLength(2);
    expect(alerts.open()[0]!.text).toMatch(/did not run: .*line 2/);
    expect(fs.readFileSync(settingsFile, "utf8")).toBe(broken);
    expect(fs.readdirSync(db.destination).filter((n) => n.endsWith(".zip"))).toEqual([]);
  });
});
