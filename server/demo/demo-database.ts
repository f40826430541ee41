// The demo database made on first start (docs/database-folder.md): only into a missing or empty folder, never over anything.
// Everything is built in a staging folder and moved into place at the end, so an interrupted start leaves
// either no demo or a whole one (the staging folder is swept at the next try).
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fsyncDir } from "../fs/atomic-write";
import { serializeSettings } from "../settings/backup-settings-file";
import { defaultSettings } from "../settings/defaults";
import { DEMO_ATTACHMENTS_FOLDER, demoAttachmentFiles } from "./demo-attachments";
import { createDemoDataFile } from "./demo-data";
import { demoProjectFiles } from "./demo-project";
import { databaseLayout } from "../database/layout";
import { seededRandom } from "./demo-random";
import { LARGE_DEMO, writeLargeAttachments, type DemoProgress, type DemoSize, type DemoVolume } from "./demo-volume";

export const DEMO_NAME = "Demo";
// One staging folder per process (two servers started at once on an empty folder must not share one).
const STAGING_PREFIX = ".strongbox-demo.partial-";
const ATTACHMENTS_STAGING_PREFIX = `.${DEMO_ATTACHMENTS_FOLDER}.partial-`;
const stagingName = (prefix: string) => `${prefix}${process.pid}-${randomBytes(4).toString("hex")}`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes staging folders (`<prefix><pid>-…`) left by processes that died while making the demo. */
async function sweepStaging(dir: string, prefix: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const pid = name.startsWith(prefix) ? Number.parseInt(name.slice(prefix.length), 10) : NaN;
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/**
 * Empty for our purpose: nothing but a staging folder left by an interrupted try, and a Logs/ folder holding
 * only Strongbox's own dot-files (for a server that takes its instance lock before making the demo).
 */
async function isEmptyForDemo(dir: string): Promise<boolean> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(STAGING_PREFIX)) continue;
    if (entry.name === "Logs" && entry.isDirectory()) {
      const logs = await readdir(path.join(dir, "Logs"));
      if (logs.every((n) => n.startsWith(".strongbox-"))) continue;
    }
    return false;
  }
  return true;
}

async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  const dirs = new Set(Object.keys(files).map((f) => path.dirname(path.join(root, f))));
  for (const d of dirs) await mkdir(d, { recursive: true });
  await Promise.all(Object.entries(files).map(([f, content]) => writeFile(path.join(root, f), content)));
}

/** `<home>/demo-attachments/`, created unless it already exists (then it is left as it is). */
async function ensureDemoAttachments(home: string, size: DemoSize, volume: DemoVolume, progress?: DemoProgress): Promise<string> {
  const dir = path.join(home, DEMO_ATTACHMENTS_FOLDER);
  if (await stat(dir).then(() => true, () => false)) return dir;
  await mkdir(home, { recursive: true });
  await sweepStaging(home, ATTACHMENTS_STAGING_PREFIX);
  const staging = path.join(home, stagingName(ATTACHMENTS_STAGING_PREFIX));
  await writeTree(staging, demoAttachmentFiles());
  if (size === "large") await writeLargeAttachments(staging, seededRandom(11), volume, progress);
  try {
    await rename(staging, dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    await rm(staging, { recursive: true, force: true });
    if (code !== "EEXIST" && code !== "ENOTEMPTY") throw err;
  }
  await fsyncDir(home);
  return dir;
}

/**
 * Creates the demo database in `databaseDir` when that folder is missing or empty: project files, a data file
 * with four tables and thousands of rows, Data/Settings/, and settings (DatabaseName "Demo", destination
 * `<home>/backups`) listing an attachments folder `<home>/demo-attachments/`. Data/data.journal and Logs/ are
 * left to their owners. `size` "large" adds the volume that makes a backup last long enough to watch
 * (demo-volume.ts, about a gigabyte); `progress` hears how far the making is.
 */
export async function createDemoDatabaseIfAbsent(databaseDir: string, home: string,
  opts: { size?: DemoSize; progress?: DemoProgress; volume?: DemoVolume } = {}): Promise<{ created: boolean }> {
  const size = opts.size ?? "small";
  const volume = opts.volume ?? LARGE_DEMO;
  const dbDir = path.resolve(databaseDir);
  const homeDir = path.resolve(home);
  await mkdir(dbDir, { recursive: true });
  if (!(await stat(dbDir)).isDirectory()) throw new Error(`The database path ${dbDir} exists and is not a folder.`);
  if (!(await isEmptyForDemo(dbDir))) return { created: false };

  await sweepStaging(dbDir, STAGING_PREFIX);
  const attachments = await ensureDemoAttachments(homeDir, size, volume, opts.progress);
  const staging = path.join(dbDir, stagingName(STAGING_PREFIX));
  const layout = databaseLayout(staging);

  await writeTree(staging, demoProjectFiles(DEMO_NAME));
  const settings = defaultSettings(path.join(homeDir, "backups"));
  settings.databaseName = DEMO_NAME;
  settings.general.includesFiles = [attachments];
  await mkdir(layout.settingsDir, { recursive: true });
  await writeFile(layout.settingsFile, serializeSettings(settings));
  await mkdir(layout.dataSettingsDir, { recursive: true });
  await writeFile(
    path.join(layout.dataSettingsDir, "settings.4DSettings"),
    '<?xml version="1.0" encoding="UTF-8"?>\n<preferences stamp="1">\n\t<com.4d>\n\t\t<server>\n\t\t\t<network publication_name="Demo" publication_port="19813"/>\n\t\t</server>\n\t</com.4d>\n</preferences>\n',
  );
  createDemoDataFile(layout.dataFile, { size, volume, progress: opts.progress });

  // Three renames within one folder: the only window where a crash leaves part of a demo. Whoever moves
  // Project/ first wins; another process racing us fails on that first rename and backs off untouched.
  try {
    for (const part of ["Project", "Data", "Settings"]) await rename(path.join(/*turbopackIgnore: true*/ staging, part), path.join(/*turbopackIgnore: true*/ dbDir, part));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EEXIST" && code !== "ENOTEMPTY") throw err;
    return { created: false };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  await fsyncDir(dbDir);
  return { created: true };
}
