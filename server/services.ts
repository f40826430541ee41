// The one wiring point: creates the long-lived services once per process and keeps them on globalThis, so that
// Next's separate server entries (instrumentation, route handlers) share one set. In order: the paths and the
// instance lock, console.sqlite, the bus and the clock, the database context, the runner, the start of the
// operations side (automatic restore, data side, crash recovery), then automatic backups and their scheduler.
import crypto from "node:crypto";
import fs from "node:fs";
import { pathsFromEnv, testThrottleFromEnv, type StrongboxPaths } from "./config";
import { openConsoleDb, type ConsoleDb } from "./console/console-db";
import { makePrivateDirSync, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "./fs/safe-open";
import { createDemoDatabaseIfAbsent } from "./demo/demo-database";
import { demoSizeFromEnv, type DemoProgress } from "./demo/demo-volume";
import { writeDefaultSettingsIfMissing } from "./settings/backup-settings-file";
import { SettingsService } from "./settings/settings-service";
import { Backups } from "./backup/backups";
import { acquireInstanceLock, type InstanceLock } from "./locks/instance-lock";
import type { CurrentLog } from "./log/current-log";
import type { DataStore } from "./data/data-store";
import { JournalReader } from "./journal/journal-reader";
import { ConsoleBus } from "./operations/bus";
import { systemClock } from "./operations/clock";
import { DatabaseContext } from "./operations/database-context";
import { OperationRunner } from "./operations/runner";
import type { StartupRestore } from "./restore/data-file-check";
import { Restores } from "./restore/restore-service";
import { runScheduledVerification } from "./restore/scheduled-verification";
import { VerificationStore } from "./restore/verification-store";
import { startOperations } from "./startup/start";
import { Users } from "./auth/users";
import { AlertStore } from "./automation/alerts";
import { BackupAutomation } from "./automation/backup-automation";
import { ServerClock } from "./automation/server-clock";
import { Scheduler, settingsUnavailable } from "./scheduler/scheduler";
import { FORCED_EXIT_MS, runStop, ServerShutdown } from "./shutdown";
import { checkOffsiteForm } from "./offsite/offsite-form";
import { SecretBox } from "./offsite/secret-box";

export interface Services {
  paths: StrongboxPaths;
  consoleDb: ConsoleDb;
  users: Users;
  /** The database as operations see it: layout, settings, history, journal, backup locks, the bus and the clock. */
  db: DatabaseContext;
  /** The one operation slot: what runs, Stop, the last result. */
  runner: OperationRunner;
  backups: Backups;
  restores: Restores;
  verifications: VerificationStore;
  /** The journal as the Journal page pages through it (its block indexes are what keep paging a full file cheap). */
  journalReader: JournalReader;
  alerts: AlertStore;
  automation: BackupAutomation;
  scheduler: Scheduler;
  lock: InstanceLock;
  dataStore: DataStore;
  /** The log file the data API appends to (a restore in place starts a new one). */
  currentLog: CurrentLog;
  /** What the start found wrong with the data file (damaged and restored or not, missing), or null: the Backup page shows it. */
  startupRestore: StartupRestore | null;
  /** The server's stopping state: its signal ends the event streams; API requests under way are counted on it. */
  shutdown: ServerShutdown;
  authSecret: string;
  startupMessages: string[];
  /** The Settings page's settings: read, previewed, saved (the scheduler re-reads them after a save). */
  settings: SettingsService;
}

const g = globalThis as unknown as { __strongbox?: Promise<Services> };

export function getServices(): Promise<Services> {
  g.__strongbox ??= createServices();
  return g.__strongbox;
}

/** The session signing secret: NEXTAUTH_SECRET, else one generated once into the home folder (mode 0600). */
function loadSecret(paths: StrongboxPaths): string {
  if (process.env.NEXTAUTH_SECRET) return process.env.NEXTAUTH_SECRET;
  try {
    return readPrivateFileSync(paths.secretFile);
  } catch {
    const secret = crypto.randomBytes(32).toString("base64url");
    fs.writeFileSync(paths.secretFile, secret + "\n", { mode: 0o600, flag: "wx" });
    return secret;
  }
}

/**
 * A secret file of the home folder: never through a link (the read fails, and a new secret is written in its
 * place, which fails too while the link is there), tightened to 0600 if an earlier version left it readable.
 */
function readPrivateFileSync(file: string): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error(`${file} is not a regular file`);
    if (st.mode & 0o077) fs.fchmodSync(fd, PRIVATE_FILE_MODE);
    return fs.readFileSync(fd, "utf8").trim();
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The terminal's progress line while the demo is made on first start (the large demo takes about half a minute):
 * rewritten in place on a terminal, one line per tenth otherwise (a log file).
 */
function demoProgressLine(): DemoProgress {
  const started = Date.now();
  let shown = -1;
  return (fraction, what) => {
    const percent = Math.floor(fraction * 100);
    const tty = process.stdout.isTTY;
    if (tty ? percent === shown : Math.floor(percent / 10) === Math.floor(shown / 10)) return;
    shown = percent;
    const line = `[strongbox] Creating the demo database (first start only): ${percent}% — ${what}, ${Math.round((Date.now() - started) / 1000)} s`;
    if (tty) process.stdout.write(`\r${line}\u001b[K${percent >= 100 ? "\n" : ""}`);
    else console.log(line);
  };
}

async function createServices(): Promise<Services> {
  // Belt and braces: whatever this process creates without an explicit mode (SQLite's files, Next's cache, the
  // demo database) is readable by the server's user only. The modules set 0600/0700 themselves as well, since
  // tests and the bench drive them without this. Hooks inherit it.
  process.umask(0o077);
  const stop = listenForStop();
  const paths = pathsFromEnv();
  const messages: string[] = [];
  // The home holds the console's database and secrets: 0700, also when an earlier version made it 0755.
  makePrivateDirSync(paths.home);
  if (fs.statSync(paths.home).mode & 0o077) {
    try {
      fs.chmodSync(paths.home, PRIVATE_DIR_MODE);
    } catch (err) {
      messages.push(`Warning: ${paths.home} could not be made private to this user (${(err as NodeJS.ErrnoException).code}): other users may read the console's state.`);
    }
  }
  // The lock first: a second server must not touch the database at all, not even to create the demo.
  const lock = acquireInstanceLock(paths.databaseDir);
  const demo = await createDemoDatabaseIfAbsent(paths.databaseDir, paths.home, { size: demoSizeFromEnv(process.env.STRONGBOX_DEMO_SIZE), progress: demoProgressLine() });
  if (demo.created) messages.push(`Created the demo database in ${paths.databaseDir}`);
  makePrivateDirSync(paths.defaultDestination);
  await writeDefaultSettingsIfMissing(paths.databaseDir, paths.defaultDestination);
  const consoleDb = openConsoleDb(paths.consoleDb);
  const users = new Users(consoleDb);
  const admin = await users.ensureInitialAdmin(paths.initialPasswordFile, process.env.STRONGBOX_ADMIN_PASSWORD);
  if (admin?.passwordFrom === "file") messages.push(`Created the user "admin"; its password is in ${paths.initialPasswordFile}`);
  if (admin?.passwordFrom === "env") messages.push(`Created the user "admin" with the password from STRONGBOX_ADMIN_PASSWORD`);
  const bus = new ConsoleBus();
  const db = new DatabaseContext({
    databaseDir: paths.databaseDir, home: paths.home, defaultDestination: paths.defaultDestination, consoleDb, bus, clock: systemClock,
    // The server's own code: never a restore's target (npm start sets STRONGBOX_APP_ROOT; next start runs from it).
    appDirs: [...new Set([process.cwd(), process.env.STRONGBOX_APP_ROOT].filter((d): d is string => !!d))],
  });
  const runner = new OperationRunner(db);
  const started = await startOperations(db, runner);
  messages.push(...started.messages);
  const backups = new Backups(runner, { log: started.data.log, throttleBytesPerSecond: testThrottleFromEnv(process.env.STRONGBOX_E2E_BUILD === "1") });
  const alerts = new AlertStore(consoleDb);
  const log = (m: string) => console.log(`[strongbox] ${m}`);
  const automation: BackupAutomation = new BackupAutomation({ db, runner, backups, alerts, nextScheduled: () => scheduler.nextDue(), log });
  const readSchedule = () => db.resolve().then((c) => c.settings.scheduler, (err: Error) => settingsUnavailable(err.message));
  const scheduler: Scheduler = new Scheduler({
    getScheduler: readSchedule,
    onDue: (date) => automation.onDue(date),
    onSkipped: (date, reason) => automation.onSkipped(date, reason),
  });
  // One instant splits the scheduled times: up to it they were missed while the server was down (checked below),
  // after it the scheduler runs them.
  const watchingFrom = new Date();
  await scheduler.start(watchingFrom);
  // Scheduled verification of the archives (the console's own schedule, console.sqlite): checked every minute.
  const verifications = new VerificationStore(consoleDb);
  const verificationTimer = setInterval(() => {
    runScheduledVerification(db, runner, verifications, db.clock.now(), log).catch((err: Error) => log(`Scheduled verification failed to start: ${err.message}`));
  }, 60_000).unref();
  // The failure series from before the restart (a pending retry, a scheduled backup a shutdown or a crash cut).
  messages.push(...(await automation.resume(started.interrupted)));
  // Scheduled times that passed while the server was down count as one failed backup.
  const clock = new ServerClock(consoleDb);
  const lastAlive = clock.lastAlive();
  const stopClock = clock.start();
  try {
    const missed = await automation.checkMissedWhileDown(lastAlive, await readSchedule(), watchingFrom);
    if (missed) messages.push(`The scheduled backup of ${missed.toISOString()} was missed while the server was down.`);
  } catch (err) {
    messages.push(`Checking for backups missed while the server was down failed: ${(err as Error).message}`);
  }
  const services: Services = {
    paths, consoleDb, users, db, runner, backups, verifications,
    restores: new Restores(db, runner, { store: started.data.store, log: started.data.log }, verifications), journalReader: new JournalReader(db.layout.logsDir), alerts, automation,
    scheduler, lock, dataStore: started.data.store, currentLog: started.data.log, startupRestore: started.startupRestore,
    shutdown: new ServerShutdown(), authSecret: loadSecret(paths), startupMessages: messages,
    settings: new SettingsService({
      place: { databaseDir: db.databaseDir, home: db.home, defaultDestination: db.defaultDestination, settingsFile: db.layout.settingsFile, dataFile: db.layout.dataFile },
      locks: db.locks, webhook: { get: () => alerts.webhook(), set: (w) => alerts.setWebhook(w) }, onSaved: () => void scheduler.reschedule(),
      offsite: (raw) => checkOffsiteForm(consoleDb, SecretBox.load(paths.home), raw),
    }),
  };
  // Next.js leaves these signals to us (NEXT_MANUAL_SIG_HANDLE, set by `npm start`): otherwise it would exit as soon
  // as its HTTP server closed, in the middle of our stop. See stopServer.
  if (process.env.NEXT_MANUAL_SIG_HANDLE !== "1") {
    messages.push("NEXT_MANUAL_SIG_HANDLE is not set, so a stop may not be graceful (an operation cut, the data file not closed): start the server with `npm start`.");
  }
  stop.ready(services, () => {
    clearInterval(verificationTimer);
    stopClock();
    // The last heartbeat: the scheduler ran until now, so a scheduled time before it was not missed (see ServerClock).
    clock.beat();
  });
  return services;
}

/**
 * Takes SIGTERM and SIGINT from the first moment of the start, so that none falls on a process without a listener
 * (which would kill it outright): one that comes while the server starts stops it once the start has finished
 * (whatever the start was doing is crash-safe, should the fallback timer have to cut it). process.on, not once:
 * Ctrl+C in a terminal reaches the process twice (from the terminal and through `npm start`).
 */
function listenForStop(): { ready: (s: Services, stopTimers: () => void) => void } {
  let target: { s: Services; stopTimers: () => void } | null = null;
  let asked: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    if (asked) return;
    asked = sig;
    setTimeout(() => {
      console.error(`[strongbox] The stop did not end within ${FORCED_EXIT_MS / 1000} s: exiting anyway (exit code 1).`);
      process.exit(1);
    }, FORCED_EXIT_MS).unref();
    if (target) void stopServer(target.s, sig, target.stopTimers);
    else console.log(`[strongbox] ${sig} received while the server starts: it stops once the start has finished…`);
  };
  for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, onSignal);
  return {
    ready(s, stopTimers) {
      target = { s, stopTimers };
      if (asked) void stopServer(s, asked, stopTimers);
    },
  };
}

/**
 * The graceful stop (see server/shutdown.ts for the order and the bounds): exit code 0 when everything ended and
 * was closed in time, 1 otherwise, with the reason printed. The next start then has nothing to replay or recover.
 */
async function stopServer(s: Services, sig: NodeJS.Signals, stopTimers: () => void): Promise<void> {
  const say = (m: string) => console.log(`[strongbox] ${m}`);
  say(`${sig} received: stopping (new changes are refused, the running operation is stopped)…`);
  s.shutdown.begin();
  s.automation.stop();
  stopTimers();
  const unfinished = await runStop([
    { what: "the scheduler", done: () => s.scheduler.stop() },
    { what: "the running operation", done: () => s.runner.shutDown() },
    // Only now: every console and `strongbox backup` waiting on the operation has been told how it ended.
    { what: "the event streams", done: async () => s.shutdown.endStreams() },
    { what: "the handling of a failed automatic backup", done: () => s.automation.idle() },
    { what: "API requests under way", done: () => s.shutdown.requestsDone() },
  ], [
    { what: "closing the data file", done: () => s.dataStore.close() },
    { what: "closing the log file", done: () => s.currentLog.close() },
    { what: "closing console.sqlite", done: async () => s.consoleDb.close() },
    { what: "releasing the database lock", done: async () => s.lock.release() },
  ]);
  if (unfinished.length === 0) {
    say("Stopped cleanly.");
    process.exit(0);
  }
  console.error(`[strongbox] Stopped, but not everything ended in time: ${unfinished.join("; ")}. Exit code 1.`);
  process.exit(1);
}
