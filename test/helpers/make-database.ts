// Builds a small managed database on disk for engine tests: project files, a settings file, a real SQLite data
// file in WAL mode, Data/Settings, and an attachments folder outside the database.
import Database from "better-sqlite3";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface TestDatabase {
  root: string;
  home: string;
  databaseDir: string;
  destination: string;
  attachmentsDir: string;
  dataFile: string;
  writeSettings(opts?: SettingsOptions): void;
  cleanup(): void;
}

export interface SettingsOptions {
  destination?: string;
  attachments?: string[];
  keep?: number | null;
  compression?: "None" | "Fast" | "Compact";
  verbose?: boolean;
  verify?: boolean;
  eraseBefore?: boolean;
  includeStructure?: boolean;
  includeData?: boolean;
  /** Extra XML inside <Advanced> (BackupFailure, BackupIfDataChange…). */
  advancedXml?: string;
}

const b = (v: boolean) => (v ? "True" : "False");

export function settingsXml(o: Required<Omit<SettingsOptions, "keep" | "advancedXml">> & { keep: number | null; advancedXml?: string }): string {
  const items = o.attachments.map((a, i) => `<Item${i + 1}>${a}</Item${i + 1}>`).join("");
  return `<?xml version="1.0" encoding="UTF-8"?>
<Preferences4D>
  <Backup>
    <DataBase><DatabaseName>TestDb</DatabaseName></DataBase>
    <Settings>
      <General>
        <IncludeStructureFile>${b(o.includeStructure)}</IncludeStructureFile>
        <IncludeDataFile>${b(o.includeData)}</IncludeDataFile>
        <DestinationFolder>${o.destination}</DestinationFolder>
        <IncludesFiles><ItemsCount>${o.attachments.length}</ItemsCount>${items}</IncludesFiles>
      </General>
      <Scheduler><Frequency>Never</Frequency></Scheduler>
      <Advanced>
        <SetNumber><Enable>${b(o.keep !== null)}</Enable><Value>${o.keep ?? 3}</Value></SetNumber>
        <EraseOldBackupBefore>${b(o.eraseBefore)}</EraseOldBackupBefore>
        <CompressionRate>${o.compression}</CompressionRate>
        <CheckArchiveFileDuringBackup>${b(o.verify)}</CheckArchiveFileDuringBackup>
        <BackupJournalVerboseMode>${b(o.verbose)}</BackupJournalVerboseMode>
        ${o.advancedXml ?? ""}
      </Advanced>
    </Settings>
  </Backup>
</Preferences4D>
`;
}

export function makeTestDatabase(opts: { rows?: number } = {}): TestDatabase {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-test-"));
  const home = path.join(root, "home");
  const databaseDir = path.join(root, "TestDb");
  const destination = path.join(root, "backups");
  const attachmentsDir = path.join(root, "files");
  for (const d of [home, destination, attachmentsDir, path.join(databaseDir, "Project/Sources/Methods"), path.join(databaseDir, "Settings"), path.join(databaseDir, "Data/Settings")]) {
    fs.mkdirSync(d, { recursive: true });
  }
  for (let i = 0; i < 20; i++) {
    fs.writeFileSync(path.join(databaseDir, `Project/Sources/Methods/method${i}.4dm`), `// method ${i}\n`.repeat(50 + i));
  }
  fs.writeFileSync(path.join(databaseDir, "Project/TestDb.4DProject"), JSON.stringify({ name: "TestDb" }));
  fs.mkdirSync(path.join(databaseDir, "Project/Empty"));
  fs.writeFileSync(path.join(databaseDir, "Data/Settings/settings.json"), "{}");
  fs.writeFileSync(path.join(attachmentsDir, "notes.txt"), "hello attachments\n".repeat(100));
  fs.writeFileSync(path.join(attachmentsDir, "photo.bin"), crypto.randomBytes(200_000));
  fs.symlinkSync("notes.txt", path.join(attachmentsDir, "link-to-notes"));
  const dataFile = path.join(databaseDir, "Data/data.sqlite");
  const db = new Database(dataFile);
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT)");
  const ins = db.prepare("INSERT INTO customers (name, city) VALUES (?, ?)");
  db.transaction(() => { for (let i = 0; i < (opts.rows ?? 2000); i++) ins.run(`Customer ${i}`, `City ${i % 50}`); })();
  db.close();
  const t: TestDatabase = {
    root, home, databaseDir, destination, attachmentsDir, dataFile,
    writeSettings(o = {}) {
      fs.writeFileSync(path.join(databaseDir, "Settings/Backup.4DSettings"), settingsXml({
        destination: o.destination ?? destination, attachments: o.attachments ?? [attachmentsDir], keep: o.keep === undefined ? 3 : o.keep,
        compression: o.compression ?? "Fast", verbose: o.verbose ?? true, verify: o.verify ?? true, eraseBefore: o.eraseBefore ?? false,
        includeStructure: o.includeStructure ?? true, includeData: o.includeData ?? true, advancedXml: o.advancedXml,
      }));
    },
    cleanup() { fs.rmSync(root, { recursive: true, force: true }); },
  };
  t.writeSettings();
  return t;
}
