// The managed database as every operation sees it: where its files are, its settings as the next operation will
// use them, its backup history and journal, the backup locks its writes wait on, console.sqlite, the bus and the
// clock. Built once by the services (and by tests, on their own folders); operations never build their own.
import type { ConsoleDb } from "../console/console-db";
import { databaseLayout, type DatabaseLayout } from "../database/layout";
import { BackupHistory } from "../history/backup-history";
import { BackupJournal } from "../journal/backup-journal";
import { BackupLocks } from "../locks/backup-locks";
import { loadSettings } from "../settings/backup-settings-file";
import type { BackupSettings } from "../settings/model";
import { resolveAttachments, resolveDatabaseName, resolveDestination } from "../settings/resolve";
import { ConsoleBus } from "./bus";
import { systemClock, type Clock } from "./clock";

export interface DatabaseContextOptions {
  databaseDir: string;
  /** STRONGBOX_HOME: console.sqlite, the secrets; never a destination or a restore's target. */
  home: string;
  /** Where backups go when the settings name no destination. */
  defaultDestination: string;
  consoleDb: ConsoleDb;
  bus?: ConsoleBus;
  clock?: Clock;
  /** The backup locks the data API's writes and the settings saves wait on; made when absent. */
  locks?: BackupLocks;
  /** The running application's own folders (working directory, app root): never a restore's target. */
  appDirs?: string[];
}

/** The settings resolved as an operation uses them: the database's name, the destination, the attachments. */
export interface ResolvedContext {
  settings: BackupSettings;
  databaseName: string;
  destination: string;
  attachments: string[];
  refusedAttachments: Array<{ path: string; reason: string }>;
  /** The key of this database's entries in backupHistory.json (the structure's path, as 4D keys them). */
  structureKey: string;
}

export class DatabaseContext {
  readonly databaseDir: string;
  readonly home: string;
  readonly defaultDestination: string;
  readonly layout: DatabaseLayout;
  readonly consoleDb: ConsoleDb;
  readonly bus: ConsoleBus;
  readonly clock: Clock;
  readonly locks: BackupLocks;
  readonly journal: BackupJournal;
  readonly appDirs: readonly string[];

  constructor(opts: DatabaseContextOptions) {
    this.layout = databaseLayout(opts.databaseDir);
    this.databaseDir = this.layout.databaseDir;
    this.home = opts.home;
    this.defaultDestination = opts.defaultDestination;
    this.consoleDb = opts.consoleDb;
    this.bus = opts.bus ?? new ConsoleBus();
    this.clock = opts.clock ?? systemClock;
    this.locks = opts.locks ?? new BackupLocks();
    this.appDirs = opts.appDirs ?? [];
    this.journal = new BackupJournal(this.layout.logsDir, { onAppend: (file) => this.bus.publish({ type: "journal", file }) });
    this.locks.on("change", (locks) => this.bus.publish({ type: "locks", locks }));
  }

  /** Reads the settings and resolves the name, destination and attachments as the next operation will see them. */
  async resolve(): Promise<ResolvedContext> {
    const settings = await loadSettings(this.databaseDir, this.defaultDestination);
    const databaseName = resolveDatabaseName(settings, this.databaseDir);
    const destination = resolveDestination(settings, this.databaseDir);
    const { accepted, refused } = await resolveAttachments(settings, {
      databaseDir: this.databaseDir,
      home: this.home,
      destination,
      dataFile: this.layout.dataFile,
    });
    return { settings, databaseName, destination, attachments: accepted, refusedAttachments: refused, structureKey: this.layout.projectDir };
  }

  /** This database's entries of backupHistory.json in the resolved destination; a damaged file is rebuilt from the archives. */
  history(ctx: Pick<ResolvedContext, "destination" | "structureKey" | "databaseName">): BackupHistory {
    return new BackupHistory(ctx.destination, ctx.structureKey, {
      rebuild: () => import("../archive/rebuild-history").then((m) => m.rebuildHistory(ctx.destination, ctx.databaseName)),
    });
  }
}
