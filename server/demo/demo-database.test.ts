import Database from "better-sqlite3";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadSettings } from "../settings/backup-settings-file";
import { resolveAttachments, resolveDatabaseName, resolveDestination } from "../settings/resolve";
import { createDemoDatabaseIfAbsent } from "./demo-database";
import { demoSizeFromEnv } from "./demo-volume";
import { databaseLayout } from "../database/layout";

async function walk(dir: string): Promise<Array<{ file: string; size: number }>> {
  const out: Array<{ file: string; size: number }> = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push({ file: p, size: (await stat(p)).size });
  }
  return out;
}

let root: string;
let home: string;
let dbDir: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "strongbox-demo-"));
  home = path.join(root, "home");
  dbDir = path.join(home, "database");
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe("databaseLayout", () => {
  it("names every part of a database folder", () => {
    expect(databaseLayout("/srv/db")).toEqual({
      databaseDir: "/srv/db",
      projectDir: "/srv/db/Project",
      settingsDir: "/srv/db/Settings",
      settingsFile: "/srv/db/Settings/Backup.4DSettings",
      dataDir: "/srv/db/Data",
      dataFile: "/srv/db/Data/data.sqlite",
      dataSettingsDir: "/srv/db/Data/Settings",
      logFile: "/srv/db/Data/data.journal",
      logsDir: "/srv/db/Logs",
      logSegmentsDir: "/srv/db/Logs/Log segments",
      hooksDir: "/srv/db/Project/Sources/DatabaseMethods",
    });
  });
});

describe("createDemoDatabaseIfAbsent", () => {
  it("creates a whole demo in a missing folder", async () => {
    expect(await createDemoDatabaseIfAbsent(dbDir, home)).toEqual({ created: true });
    const layout = databaseLayout(dbDir);

    expect((await readdir(dbDir)).sort()).toEqual(["Data", "Project", "Settings"]);
    const project = await walk(layout.projectDir);
    expect(project.length).toBeGreaterThanOrEqual(20);
    expect(project.length).toBeLessThanOrEqual(40);
    expect(JSON.parse(await readFile(path.join(layout.projectDir, "Demo.4DProject"), "utf8"))).toMatchObject({ version: "1" });
    // No hook is planted: the demo's database methods are 4D's ordinary ones.
    expect((await readdir(layout.hooksDir)).some((f) => /^onBackup/.test(f))).toBe(false);

    const db = new Database(layout.dataFile, { readonly: true });
    try {
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      const count = (t: string) => (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
      const counts = ["customers", "products", "invoices", "invoice_lines"].map(count);
      expect(counts.every((n) => n > 0)).toBe(true);
      expect(counts.reduce((a, b) => a + b)).toBeGreaterThan(5000);
      const orphans = db.prepare("SELECT count(*) AS n FROM invoice_lines l LEFT JOIN invoices i ON i.id = l.invoice_id WHERE i.id IS NULL").get() as { n: number };
      expect(orphans.n).toBe(0);
    } finally {
      db.close();
    }
    expect((await readdir(layout.dataSettingsDir)).length).toBeGreaterThan(0);
    await expect(stat(layout.logFile)).rejects.toMatchObject({ code: "ENOENT" }); // the log file has its own owner

    const settings = await loadSettings(dbDir, "/unused");
    expect(settings.databaseName).toBe("Demo");
    expect(resolveDatabaseName(settings, dbDir)).toBe("Demo");
    expect(resolveDestination(settings, dbDir)).toBe(path.join(home, "backups"));
    const attachmentsDir = path.join(home, "demo-attachments");
    expect(settings.general.includesFiles).toEqual([attachmentsDir]);

    // The attachments live outside the database, hold text and incompressible files and a sub-folder, and pass the checks.
    const attachments = await walk(attachmentsDir);
    const total = attachments.reduce((a, f) => a + f.size, 0);
    expect(total).toBeGreaterThan(1_000_000);
    expect(total).toBeLessThan(3_000_000);
    expect(attachments.some((f) => f.file.endsWith(".csv"))).toBe(true);
    expect(attachments.some((f) => f.file.endsWith(".jpg"))).toBe(true);
    expect(attachments.some((f) => path.dirname(f.file) !== attachmentsDir)).toBe(true);
    const resolved = await resolveAttachments(settings, {
      databaseDir: dbDir,
      home,
      destination: resolveDestination(settings, dbDir),
      dataFile: databaseLayout(dbDir).dataFile,
    });
    expect(resolved).toEqual({ accepted: [attachmentsDir], refused: [] });
  });

  it("is made once: a second call changes nothing", async () => {
    await createDemoDatabaseIfAbsent(dbDir, home);
    const before = await walk(root);
    const mtimes = await Promise.all(before.map((f) => stat(f.file).then((s) => s.mtimeMs)));
    expect(await createDemoDatabaseIfAbsent(dbDir, home)).toEqual({ created: false });
    const after = await walk(root);
    expect(after).toEqual(before);
    expect(await Promise.all(after.map((f) => stat(f.file).then((s) => s.mtimeMs)))).toEqual(mtimes);
  });

  it("never writes into a non-empty folder", async () => {
    await mkdir(dbDir, { recursive: true });
    await writeFile(path.join(dbDir, "notes.txt"), "mine");
    expect(await createDemoDatabaseIfAbsent(dbDir, home)).toEqual({ created: false });
    expect(await readdir(dbDir)).toEqual(["notes.txt"]);
    expect(await readdir(home)).toEqual(["database"]); // no attachments either
  });

  it("fills an existing empty folder, or one holding only the server's lock and a leftover staging folder", async () => {
    await mkdir(path.join(dbDir, "Logs"), { recursive: true });
    await writeFile(path.join(dbDir, "Logs", ".strongbox-server.lock"), "");
    // A staging folder of a process that no longer exists (pid 2^22 + 1 is above Linux's pid_max default range).
    await mkdir(path.join(dbDir, ".strongbox-demo.partial-4194305-dead", "Project"), { recursive: true });
    expect(await createDemoDatabaseIfAbsent(dbDir, home)).toEqual({ created: true });
    expect((await readdir(dbDir)).sort()).toEqual(["Data", "Logs", "Project", "Settings"]);
  });

  it("lets only one of two concurrent creations win", async () => {
    const results = await Promise.all([createDemoDatabaseIfAbsent(dbDir, home), createDemoDatabaseIfAbsent(dbDir, home)]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect((await readdir(dbDir)).sort()).toEqual(["Data", "Project", "Settings"]);
    expect((await loadSettings(dbDir, "/unused")).databaseName).toBe("Demo");
  });

  it("leaves an existing attachments folder as it is", async () => {
    await mkdir(path.join(home, "demo-attachments"), { recursive: true });
    await writeFile(path.join(home, "demo-attachments", "mine.txt"), "keep");
    expect(await createDemoDatabaseIfAbsent(dbDir, home)).toEqual({ created: true });
    expect(await readdir(path.join(home, "demo-attachments"))).toEqual(["mine.txt"]);
  });
});

describe("the large demo (what npm start makes)", () => {
  it("adds an activity log and compressible and incompressible attachments, saying how far it is as it goes", async () => {
    // The same making, at a scale a test can afford (LARGE_DEMO itself is about a gigabyte: README, demo).
    const volume = { activityRows: 3000, reports: { files: 3, bytes: 60_000 }, scans: { files: 2, bytes: 50_000 } };
    const seen: Array<[number, string]> = [];
    expect(await createDemoDatabaseIfAbsent(dbDir, home, { size: "large", volume, progress: (f, what) => seen.push([f, what]) })).toEqual({ created: true });
    const db = new Database(databaseLayout(dbDir).dataFile, { readonly: true });
    try {
      expect(db.prepare("SELECT count(*) AS n FROM activity_log").get()).toEqual({ n: 3000 });
      expect(db.prepare("SELECT count(*) AS n FROM activity_log a LEFT JOIN customers c ON c.id = a.customer_id WHERE c.id IS NULL").get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
    const reports = await walk(path.join(home, "demo-attachments", "reports"));
    expect(reports.map((f) => path.basename(f.file)).sort()).toEqual(["sales-2023-01.csv", "sales-2023-02.csv", "sales-2023-03.csv"]);
    expect(reports.every((f) => f.size >= 60_000)).toBe(true);
    const scans = await walk(path.join(home, "demo-attachments", "scans"));
    expect(scans.map((f) => f.size)).toEqual([50_012, 50_012]);
    // The progress goes up to 100 %, never back, and names what is being made.
    const fractions = seen.map(([f]) => f);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]!)).toBe(true);
    expect(fractions.at(-1)).toBeCloseTo(1, 6);
    expect(new Set(seen.map(([, what]) => what))).toEqual(new Set(["sales reports", "scanned invoices", "activity log"]));
  });

  it("is what STRONGBOX_DEMO_SIZE asks for: large unless small, anything else refused with a clear message", () => {
    expect(demoSizeFromEnv(undefined)).toBe("large");
    expect(demoSizeFromEnv("")).toBe("large");
    expect(demoSizeFromEnv("Small")).toBe("small");
    expect(() => demoSizeFromEnv("huge")).toThrow('STRONGBOX_DEMO_SIZE is "huge": it must be "small" or "large" (the default). Fix or unset it.');
  });
});
