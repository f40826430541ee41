// The Backup page end to end on a real server and the demo database: start a backup, watch the thermometer move
// without a reload, see the result; start and Stop; files on disk checked after each.
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { login, startServer, type TestServer } from "./server";

let server: TestServer;
// Test-only slowdown (compiled into the e2e build only): the demo backup (about 2.4 MB) takes about 12 s, so
// progress can be watched, and a reload followed by a person-speed Stop still lands mid-backup.
test.beforeAll(async () => { server = await startServer({ throttleBytesPerSecond: 200_000 }); });
test.afterAll(async () => { await server?.stop(); });

const archives = () => fs.readdirSync(server.destination).filter((n) => /\[\d{4}\]\.zip$/.test(n)).sort();

test.describe.configure({ mode: "serial" });

test("a backup shows live progress in every console, then its result; the files are on disk", async ({ page, browser }) => {
  await login(page, server);
  await expect(page.getByText("No backup has been made yet")).toBeVisible();
  await expect(page.getByRole("region", { name: "Content of the next backup" })).toContainText("demo-attachments");
  const otherContext = await browser.newContext();
  const other = await otherContext.newPage();
  await login(other, server);

  await page.getByRole("button", { name: "Backup" }).click();
  const bar = page.getByRole("progressbar", { name: "Backup progress" });
  await expect(bar).toBeVisible();
  // The value changes at least twice without a reload.
  const values = new Set<string>();
  await expect.poll(async () => {
    const v = await bar.getAttribute("aria-valuenow").catch(() => null);
    if (v !== null) values.add(v);
    return values.size;
  }, { timeout: 30_000, intervals: [100] }).toBeGreaterThanOrEqual(3);
  // The other console sees the same running backup, and its Backup button is disabled meanwhile.
  await expect(other.getByRole("progressbar", { name: "Backup progress" })).toBeVisible();
  await expect(other.getByRole("button", { name: "Backup" })).toBeDisabled();
  await expect(page.getByRole("region", { name: "Backup in progress" })).toContainText(/Current file/);

  await expect(page.getByRole("status").filter({ hasText: "Backup #1" })).toContainText("finished: 0 — OK", { timeout: 60_000 });
  const last = page.getByRole("region", { name: "Last backup" });
  await expect(last).toContainText("0 — OK");
  await expect(last).toContainText("manual (admin)");
  await expect(other.getByRole("region", { name: "Last backup" })).toContainText("0 — OK");
  await otherContext.close();

  expect(archives()).toEqual(["Demo[0001].zip"]);
  const history = JSON.parse(fs.readFileSync(path.join(server.destination, "backupHistory.json"), "utf8"));
  const entries = history[path.join(server.databaseDir, "Project")];
  expect(entries).toEqual([expect.objectContaining({ backupNumber: 1, status: 0, trigger: "manual", user: "admin", logPath: "" })]);
  const journal = fs.readFileSync(path.join(server.databaseDir, "Logs", "Backup Journal[001].txt"), "utf8");
  expect(journal).toContain("*** Full Backup\nTrigger : manual (admin)");

  // Everything the server wrote is readable by its own user only: files 0600, the folders it made 0700.
  const mode = (p: string) => (fs.statSync(p).mode & 0o777).toString(8);
  const files = [path.join(server.destination, "Demo[0001].zip"), path.join(server.destination, "backupHistory.json"),
    path.join(server.databaseDir, "Logs", "Backup Journal[001].txt"), path.join(server.home, "console.sqlite"), path.join(server.home, "nextauth-secret"),
    path.join(server.databaseDir, "Data", "data.sqlite"), path.join(server.databaseDir, "Data", "data.journal"), path.join(server.databaseDir, "Settings", "Backup.4DSettings")];
  expect(Object.fromEntries(files.map((f) => [f, mode(f)]))).toEqual(Object.fromEntries(files.map((f) => [f, "600"])));
  const dirs = [server.home, server.destination, server.databaseDir, path.join(server.databaseDir, "Logs"), path.join(server.home, "demo-attachments")];
  expect(Object.fromEntries(dirs.map((d) => [d, mode(d)]))).toEqual(Object.fromEntries(dirs.map((d) => [d, "700"])));
});

test("Stop ends the backup with 1406 and leaves no new archive", async ({ page }) => {
  await login(page, server);
  await page.getByRole("button", { name: "Backup" }).click();
  const bar = page.getByRole("progressbar", { name: "Backup progress" });
  await expect(bar).toBeVisible();
  await expect.poll(async () => Number(await bar.getAttribute("aria-valuenow").catch(() => 0)), { timeout: 30_000 }).toBeGreaterThan(5);
  // A console reloaded mid-backup shows the running backup at once.
  await page.reload();
  await expect(bar).toBeVisible();
  await expect(page.getByRole("region", { name: "Backup in progress" })).toContainText("started by manual (admin)");
  await page.getByRole("button", { name: "Stop" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Backup #2" })).toContainText("failed: 1406 — Backup canceled by user");
  await expect(bar).toHaveCount(0);
  expect(archives()).toEqual(["Demo[0001].zip"]);
  expect(fs.readdirSync(server.destination).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  const journal = fs.readFileSync(path.join(server.databaseDir, "Logs", "Backup Journal[001].txt"), "utf8");
  expect(journal).toContain("Error reported : 1406");
});

test("a second start while a backup runs gets a clear error", async ({ page }) => {
  await login(page, server);
  await page.getByRole("button", { name: "Backup" }).click();
  await expect(page.getByRole("progressbar", { name: "Backup progress" })).toBeVisible();
  const res = await page.request.post(`${server.url}/api/trpc/backup.start`, { data: {} });
  expect(res.status()).toBe(409);
  expect(await res.text()).toContain("A backup is already in progress");
  await page.getByRole("button", { name: "Stop" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Backup #2" })).toContainText("1406");
});

test("\"Database Settings…\" next to the Backup button opens the settings, as in 4D", async ({ page }) => {
  await login(page, server);
  const settings = page.getByRole("link", { name: "Database Settings…" });
  await expect(settings).toBeVisible();
  await settings.click();
  await expect(page).toHaveURL(`${server.url}/settings`);
  await expect(page.getByRole("heading", { name: "Settings", level: 1 })).toBeVisible();
});
