// Automatic restore at start end to end (docs/settings.md AutomaticRestore, docs/journal.md): a real server backs up the demo database and
// logs a write; stopped, its data file is corrupted; started again on the same home, it restores the data file from
// the backup with the log, keeps the damaged file aside, writes the journal block, and the Backup page says so.
import fs from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { databaseLayout } from "../../server/database/layout";
import { checkDataFile } from "../../server/restore/data-file-check";
import { tablesOf as readTables, trpcMutate } from "./api";
import { login, startServer, type TestServer } from "./server";

let server: TestServer | null = null;
test.afterAll(async () => { await server?.stop(); });

const mutate = (page: Page, proc: string, input?: unknown) => trpcMutate(page, server!, proc, input);
/** Read-write: the server is stopped when the tables are read, and closing leaves no -wal/-shm behind. */
const tablesOf = (dataFile: string) => readTables(dataFile, { readWrite: true });



test("a damaged data file is restored at start from the last backup and the log; the Backup page and the journal say so", async ({ page }) => {
  server = await startServer();
  await login(page, server);
  await page.getByRole("button", { name: "Backup" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Backup #1" })).toContainText("finished: 0 — OK", { timeout: 60_000 });
  // A write after the backup: only the log holds it once the data file is damaged.
  await mutate(page, "data.insert", { table: "customers", values: { name: "Written after the backup", created_at: "2025-02-03T04:05:06Z" } });
  await server.stop({ keepHome: true });
  const home = server.home;

  const live = databaseLayout(server.databaseDir);
  const expected = tablesOf(live.dataFile);
  expect(JSON.stringify(expected.customers)).toContain("Written after the backup");
  // The second page's b-tree header (the customers table's root) overwritten, as a failing disk would.
  const pageSize = fs.readFileSync(live.dataFile).readUInt16BE(16);
  const fd = fs.openSync(live.dataFile, "r+");
  fs.writeSync(fd, Buffer.alloc(16, 0xff), 0, 16, pageSize === 1 ? 65536 : pageSize);
  fs.closeSync(fd);
  expect((await checkDataFile(live.dataFile)).state).toBe("damaged");
  const settingsFile = path.join(server.databaseDir, "Settings/Backup.4DSettings");
  const xml = fs.readFileSync(settingsFile, "utf8");
  fs.writeFileSync(settingsFile, /<AutomaticRestore>/.test(xml)
    ? xml.replace(/<AutomaticRestore>[^<]*<\/AutomaticRestore>/, "<AutomaticRestore>True</AutomaticRestore>")
    : xml.replace("</Advanced>", "<AutomaticRestore>True</AutomaticRestore></Advanced>"));

  server = await startServer({ home });
  await page.context().clearCookies(); // cookies don't tell ports apart: sign in to this server afresh
  await login(page, server);
  const archive = path.join(server.destination, "Demo[0001].zip");
  const banner = page.getByRole("status").filter({ hasText: "restored automatically" });
  await expect(banner).toContainText(archive);
  await expect(banner).toContainText("backup #1");
  await expect(banner).toContainText(/integrated up to operation \d+ \(1 operation\)/);
  await expect(banner).toContainText(path.join(live.dataDir, "Damaged data file "));

  // The data is the backup plus the logged write; the damaged file is kept aside.
  expect(tablesOf(live.dataFile)).toEqual(expected);
  const kept = fs.readdirSync(live.dataDir).filter((n) => n.startsWith("Damaged data file "));
  expect(kept).toHaveLength(1);
  expect(fs.readdirSync(path.join(live.dataDir, kept[0]!))).toContain("data.sqlite");
  const journal = fs.readFileSync(path.join(server.databaseDir, "Logs", "Backup Journal[001].txt"), "utf8");
  expect(journal).toContain(`*** Automatic Full Backup Restore\nTrigger : startup\nRestoring archive : ${archive}\n`);
  expect(journal).toContain(`Damaged files kept in : ${path.join(live.dataDir, kept[0]!)}`);
  const history = JSON.parse(fs.readFileSync(path.join(server.destination, "backupHistory.json"), "utf8"))[live.projectDir];
  expect(history.at(-1)).toMatchObject({ operation: "restore", trigger: "startup", backupNumber: 1, status: 0 });
});
