// The History page end to end on a real server and the demo database: an empty history says so; a successful and a
// partial backup (an attachment that does not exist) appear with their numbers and statuses, the chart and the
// health summary; the details list the files saved and the attachments found or not; a backup that ends while the
// page is open shows up without a reload.
import fs from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { loadSettings, saveSettings } from "../../server/settings/backup-settings-file";
import { historyEntries } from "./api";
import { login, startServer, type TestServer } from "./server";

let server: TestServer;
test.describe.configure({ mode: "serial" });
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { await server?.stop(); });

const entries = () => historyEntries(server);

/** Starts a backup through the API (as the BACKUP command would) and waits until the history records it. */
async function backupThroughApi(page: Page): Promise<void> {
  const before = entries().length;
  const res = await page.request.post(`${server.url}/api/trpc/backup.start`, { data: {} });
  expect(res.ok()).toBe(true);
  await expect.poll(() => entries().length, { timeout: 60_000 }).toBe(before + 1);
}

async function setAttachments(change: (items: string[]) => string[]): Promise<void> {
  const settings = await loadSettings(server.databaseDir, server.destination);
  settings.general.includesFiles = change(settings.general.includesFiles);
  await saveSettings(server.databaseDir, settings);
}

const row = (page: Page, number: number) =>
  page.getByRole("region", { name: "Operations" }).getByRole("row").filter({ has: page.getByRole("cell", { name: String(number), exact: true }) });

test("the History page shows the operations, the chart, the health summary and each operation's details", async ({ page }) => {
  // In a sub-folder: a file directly in STRONGBOX_HOME would be refused as an attachment, not reported missing.
  const missing = path.join(server.home, "contracts", "no-such-contract.pdf");
  await login(page, server);
  await page.getByRole("link", { name: "History" }).click();
  await expect(page.getByRole("heading", { name: "History", level: 1 })).toBeVisible();
  await expect(page.getByText("No backups yet")).toBeVisible();

  // One successful backup, then one with an attachment that does not exist: partial (1409), archive kept.
  await backupThroughApi(page);
  await setAttachments((items) => [...items, missing]);
  await backupThroughApi(page);
  expect(entries().map((e) => [e.backupNumber, e.status, e.partial])).toEqual([[1, 0, false], [2, 1409, true]]);

  await page.reload();
  const table = page.getByRole("region", { name: "Operations" }).getByRole("table");
  for (const name of ["Number", "Operation", "Trigger", "User", "Started", "Duration", "Size", "Status"]) {
    await expect(table.getByRole("columnheader", { name, exact: true })).toBeVisible();
  }
  await expect(row(page, 1)).toContainText("0 — OK");
  await expect(row(page, 1)).toContainText("admin");
  await expect(row(page, 2)).toContainText("1409 — Partial backup");
  await expect(row(page, 2)).toContainText(missing);
  // Newest first.
  await expect(table.getByRole("row").nth(1)).toContainText("1409");

  await expect(page.getByRole("img", { name: /Chart of the last 2 backups/ })).toBeVisible();
  await expect(page.getByRole("img", { name: /1 not successful/ })).toBeVisible();

  const lastSuccess = page.getByRole("region", { name: "Last successful backup" });
  await expect(lastSuccess).toContainText(/\d+ (s|min) ago/);
  await expect(lastSuccess).toContainText("Backup #1");
  await expect(lastSuccess).toContainText("No schedule");
  await expect(page.getByRole("region", { name: "Success rate" })).toContainText("50%");
  await expect(page.getByRole("region", { name: "Success rate" })).toContainText("1 of 2 backups succeeded, 1 partial");
  await expect(page.getByRole("region", { name: "Last backup status" })).toContainText("Partial");

  // The successful backup's details: every file saved, one known demo file found through the filter.
  await row(page, 1).getByRole("button", { name: "Details" }).click();
  const details = page.getByRole("region", { name: "Details of backup #1" });
  // The demo saves a few dozen files: one page (paging over thousands is covered by the unit tests).
  await expect(details).toContainText(/Files 1–\d\d+ of \d\d+/);
  await details.getByLabel("Filter files").fill("inv_newinvoice");
  const files = details.getByRole("list", { name: "Files saved" });
  await expect(files.getByRole("listitem")).toHaveCount(1);
  await expect(files).toContainText(path.join(server.databaseDir, "Project/Sources/Methods/INV_NewInvoice.4dm"));
  await expect(details.getByRole("list", { name: "Attachments" })).toContainText("Found");
  await expect(details).toContainText("Errors");
  await expect(details.getByRole("list", { name: "Errors" })).toHaveCount(0);

  // The partial one: the missing attachment is "Not found", the error says which.
  await row(page, 2).getByRole("button", { name: "Details" }).click();
  const partial = page.getByRole("region", { name: "Details of backup #2" });
  const attachments = partial.getByRole("list", { name: "Attachments" });
  await expect(attachments.getByRole("listitem").filter({ hasText: missing })).toContainText("Not found");
  await expect(attachments.getByRole("listitem").filter({ hasText: "demo-attachments" })).toContainText("Found");
  await expect(partial.getByRole("list", { name: "Errors" })).toContainText(`1409`);
  await expect(partial.getByRole("list", { name: "Errors" })).toContainText(missing);
});

test("a backup that ends while the page is open appears without a reload", async ({ page }) => {
  await setAttachments((items) => items.filter((p) => !p.endsWith("no-such-contract.pdf")));
  await login(page, server);
  await page.getByRole("link", { name: "History" }).click();
  await expect(row(page, 2)).toBeVisible();
  await expect(row(page, 3)).toHaveCount(0);
  await backupThroughApi(page);
  await expect(row(page, 3)).toContainText("0 — OK");
  await expect(page.getByRole("region", { name: "Last successful backup" })).toContainText("Backup #3");
  await expect(page.getByRole("region", { name: "Success rate" })).toContainText("2 of 3 backups succeeded");
  await expect(page.getByRole("img", { name: /Chart of the last 3 backups/ })).toBeVisible();
});

test("the attempts at one number are one group, the committed one marked", async ({ page }) => {
  // An On Backup Startup hook that cancels: the attempt is recorded with number 4, which it does not use up.
  const hook = path.join(server.databaseDir, "Project/Sources/DatabaseMethods/onBackupStartup.mjs");
  fs.mkdirSync(path.dirname(hook), { recursive: true });
  fs.writeFileSync(hook, "process.exit(3);\n");
  await login(page, server);
  await backupThroughApi(page);
  fs.rmSync(hook);
  // The next one commits #4; keeping the last 3, it deletes #1 (and its history entry).
  expect((await page.request.post(`${server.url}/api/trpc/backup.start`, { data: {} })).ok()).toBe(true);
  await expect.poll(() => entries().map((e) => [e.backupNumber, e.status]), { timeout: 60_000 }).toEqual([[2, 1409], [3, 0], [4, 3], [4, 0]]);

  await page.getByRole("link", { name: "History" }).click();
  const group = page.getByRole("rowgroup", { name: "Backup #4: 2 attempts" });
  await expect(group.getByRole("row")).toHaveCount(2);
  await expect(group.getByRole("row").nth(0)).toContainText("committed");
  await expect(group.getByRole("row").nth(0)).toContainText("0 — OK");
  await expect(group.getByRole("row").nth(1)).toContainText("attempt 1 of 2");
  await expect(group.getByRole("row").nth(1)).toContainText("Canceled by the On Backup Startup hook");
  // One group counts once in the pages: #4, #3, #2.
  await expect(page.getByRole("navigation", { name: "Operations pages" })).toContainText("Operations 1–3 of 3");
  await group.getByRole("button", { name: /Details of backup #4 \(attempt 1 of 2\)/ }).click();
  await expect(page.getByRole("region", { name: "Details of backup #4" })).toContainText("Canceled by the On Backup Startup hook");
});
