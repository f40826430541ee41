// The Restore page end to end on a real server and the demo database (docs/console.md, issue 6): the empty state, a viewer
// without the page, the verification schedule, Verify on an archive, a restore of chosen parts to a folder (files
// on disk compared with the live database's), the live folder check, a restore in place confirmed in its dialog,
// and a rollback to an operation chosen in the log.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { databaseLayout } from "../../server/database/layout";
import { historyEntries, tablesOf, trpcMutate, trpcQuery } from "./api";
import { login, startServer, type TestServer } from "./server";

let server: TestServer;
// Restored files go outside the server's home: a restore into STRONGBOX_HOME is refused (restore-target.ts).
let restoreRoot: string;
test.beforeAll(async () => {
  server = await startServer();
  restoreRoot = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-e2e-restored-"));
});
test.afterAll(async () => {
  await server?.stop();
  if (restoreRoot) fs.rmSync(restoreRoot, { recursive: true, force: true });
});
test.describe.configure({ mode: "serial" });

/** Every file under `dir`, as paths relative to it, sorted. */
function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .sort();
}

const query = <T = any>(page: Page, proc: string, input?: unknown) => trpcQuery<T>(page, server, proc, input); // eslint-disable-line @typescript-eslint/no-explicit-any
const mutate = <T = any>(page: Page, proc: string, input?: unknown) => trpcMutate<T>(page, server, proc, input); // eslint-disable-line @typescript-eslint/no-explicit-any
const backups = () => historyEntries(server);

async function openRestore(page: Page) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Restore", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Restore", level: 1 })).toBeVisible();
}

test("before any backup the page says so and links to the Backup page; a viewer has no Restore page", async ({ page, browser }) => {
  await login(page, server);
  await openRestore(page);
  await expect(page.getByText("There is no archive in the destination yet")).toBeVisible();
  await expect(page.getByRole("main").getByRole("link", { name: "Backup", exact: true })).toHaveAttribute("href", "/");

  await mutate(page, "users.create", { username: "vera", password: "viewer-password", role: "viewer" });
  const viewerContext = await browser.newContext();
  const viewer = await viewerContext.newPage();
  await login(viewer, server, "vera", "viewer-password");
  await expect(viewer.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Journal" })).toBeVisible();
  await expect(viewer.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Restore" })).toHaveCount(0);
  await viewer.goto(`${server.url}/restore`);
  await expect(viewer.getByRole("alert").filter({ hasText: "Restores are made by admins" })).toContainText("signed in as a viewer");
  await expect(viewer.getByRole("button", { name: "Restore", exact: true })).toHaveCount(0);
  // The server refuses too, whatever the page shows.
  const res = await viewer.request.get(`${server.url}/api/trpc/restore.archives`);
  expect(res.status()).toBe(403);
  await viewerContext.close();
});

test("the scheduled verification is saved; a bad hour is said in words and not sent", async ({ page }) => {
  await login(page, server);
  await openRestore(page);
  const form = page.getByRole("region", { name: "Scheduled verification" });
  await form.getByLabel("Verify archives").selectOption("Weekly");
  await form.getByLabel("Hour").fill("");
  await form.getByRole("button", { name: "Save schedule" }).click();
  await expect(form.getByRole("alert")).toContainText("The hour must be a whole number from 0 to 23.");
  expect((await query(page, "restore.archives")).verificationSchedule.frequency).toBe("Never");
  await form.getByLabel("Hour").fill("4");
  await form.getByLabel("Weekday").selectOption("Wednesday");
  await form.getByRole("button", { name: "Save schedule" }).click();
  await expect(form.getByRole("status")).toContainText("Verification schedule saved.");
  expect((await query(page, "restore.archives")).verificationSchedule).toEqual({ frequency: "Weekly", hour: 4, weekday: 3 });
  // One place for it: the Settings page has no second copy of this setting.
  await page.goto(`${server.url}/settings`);
  await page.getByRole("tab", { name: "Backup & Restore" }).click();
  await expect(page.getByRole("tabpanel", { name: "Backup & Restore" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Scheduled verification" })).toHaveCount(0);
  await expect(page.getByLabel("Verify archives")).toHaveCount(0);
  await openRestore(page);
  // Back to never, so that no verification starts during the other tests.
  await form.getByLabel("Verify archives").selectOption("Never");
  await form.getByRole("button", { name: "Save schedule" }).click();
  await expect(form.getByRole("status")).toContainText("Verification schedule saved.");
  await page.reload();
  await expect(page.getByRole("region", { name: "Scheduled verification" }).getByLabel("Verify archives")).toHaveValue("Never");
});

test("Verify says OK; the archive restores without its attachments to a new folder, files equal to the originals", async ({ page }) => {
  await login(page, server);
  await mutate(page, "backup.start");
  await expect.poll(() => backups().length, { timeout: 120_000 }).toBe(1);
  expect(backups()[0]).toMatchObject({ backupNumber: 1, status: 0 });

  await openRestore(page);
  const archives = page.getByRole("table", { name: "Archives in the destination, newest first" });
  const row = archives.getByRole("row").filter({ hasText: "#1" });
  await expect(row).toContainText("0 — OK");
  await expect(row).toContainText("not verified");
  await row.getByRole("radio", { name: "Choose archive #1" }).check();

  // Verify: the outcome, and the row's Verification column from what the server recorded.
  await row.getByRole("button", { name: "Verify archive #1" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Verification" })).toContainText("finished: 0", { timeout: 60_000 });
  await expect(page.getByRole("status").filter({ hasText: "Verification" })).toContainText("entries match the manifest");
  await expect(row.getByRole("cell").filter({ hasText: /^OK/ })).toBeVisible();

  // The contents of the chosen archive; its attachments are unticked.
  const contents = await query<{ parts: Array<{ id: string; kind: string; label: string }>; defaultTarget: string }>(
    page, "restore.contents", { archivePath: path.join(server.destination, "Demo[0001].zip") });
  const attachments = contents.parts.filter((p) => p.kind === "attachment");
  expect(attachments.length).toBeGreaterThan(0);
  const form = page.getByRole("region", { name: "Restore to a folder" });
  const target = form.getByLabel("Restore to folder");
  await expect(target).toHaveValue(contents.defaultTarget);
  await expect(form.getByRole("checkbox", { name: "Data file" })).toBeChecked();
  for (const a of attachments) {
    const box = form.getByRole("checkbox", { name: a.label });
    await expect(box).toBeChecked();
    await box.uncheck();
  }
  // Log integration needs the data file: unticking it disables the option.
  await form.getByRole("checkbox", { name: "Data file" }).uncheck();
  await expect(form.getByRole("checkbox", { name: "Integrate log file(s) after restore" })).toBeDisabled();
  await form.getByRole("checkbox", { name: "Data file" }).check();

  const folder = path.join(restoreRoot, "restored-1");
  await target.fill(folder);
  await expect(form.getByText("A new folder is created for the restored files.")).toBeVisible();
  await form.getByRole("button", { name: "Restore", exact: true }).click();
  const result = page.getByRole("status").filter({ hasText: "Restore" });
  await expect(result).toContainText("finished: 0", { timeout: 60_000 });
  await expect(result).toContainText(`to ${folder}`);

  // On disk: the structure and the data file, byte- and row-equal to the database's own; no attachments.
  const live = databaseLayout(server.databaseDir);
  const projectFiles = filesUnder(live.projectDir);
  expect(projectFiles.length).toBeGreaterThan(0);
  expect(filesUnder(path.join(folder, "Project"))).toEqual(projectFiles);
  for (const f of projectFiles) {
    expect(fs.readFileSync(path.join(folder, "Project", f)).equals(fs.readFileSync(path.join(live.projectDir, f))), f).toBe(true);
  }
  const restoredTables = tablesOf(path.join(folder, "Data", "data.sqlite"));
  expect(Object.keys(restoredTables)).toEqual(expect.arrayContaining(["customers", "invoice_lines", "invoices", "products"]));
  expect(restoredTables).toEqual(tablesOf(live.dataFile));
  expect(fs.existsSync(path.join(folder, "Attachments"))).toBe(false);
  const journal = fs.readFileSync(path.join(server.databaseDir, "Logs", "Backup Journal[001].txt"), "utf8");
  expect(journal).toContain("*** Full Backup Restore");

  // The same folder is now refused as not empty (checked again when the restore ended), unless its content is
  // replaced (moved aside).
  await expect(form.getByRole("alert").filter({ hasText: "is not empty" })).toBeVisible();
  await expect(form.getByRole("button", { name: "Restore", exact: true })).toBeDisabled();
  await form.getByRole("checkbox", { name: "Replace the folder's content (it is moved aside, not deleted)" }).check();
  await expect(form.getByText("The folder's current content will be moved aside")).toBeVisible();
  await expect(form.getByRole("button", { name: "Restore", exact: true })).toBeEnabled();
});

test("restore in place: the dialog names the live data file; the data returns to the backup's, the old file is kept aside", async ({ page }) => {
  await login(page, server);
  const live = databaseLayout(server.databaseDir);
  const atBackup = tablesOf(live.dataFile);
  // A change made after the backup: restoring in place (without the logs) takes the data back to before it.
  await mutate(page, "data.insert", { table: "customers", values: { name: "Added after the backup", created_at: "2025-01-01T00:00:00Z" } });
  const changed = tablesOf(live.dataFile);
  expect(changed.customers!.length).toBe(atBackup.customers!.length + 1);

  await openRestore(page);
  await page.getByRole("radio", { name: "Choose archive #1" }).check();
  const section = page.getByRole("region", { name: "Restore in place" });
  await section.getByRole("button", { name: "Restore the data file in place…" }).click();
  const dialog = page.getByRole("dialog", { name: "Replace the live data file?" });
  await expect(dialog).toContainText(live.dataFile);
  await expect(dialog).toContainText("archive #1");
  await dialog.getByRole("button", { name: "Replace the data file" }).click();
  await expect(dialog).toHaveCount(0);

  const result = page.getByRole("status").filter({ hasText: "Restore of the data file" });
  await expect(result).toContainText("finished: 0", { timeout: 60_000 });
  await expect(result).toContainText(`The data file ${live.dataFile} was replaced`);
  const kept = /are kept in (.+)\.$/m.exec((await result.getByRole("listitem").allInnerTexts()).join("\n"));
  expect(kept, "a details line says where the replaced file went").not.toBeNull();
  expect(fs.existsSync(kept![1]!)).toBe(true);

  expect(tablesOf(live.dataFile)).toEqual(atBackup);
  // The replaced data file is there, with the change it held.
  const asideFile = filesUnder(kept![1]!).find((f) => path.basename(f) === "data.sqlite");
  expect(asideFile).toBeDefined();
  expect(tablesOf(path.join(kept![1]!, asideFile!)).customers!.length).toBe(changed.customers!.length);
});

test("rollback: an operation chosen in the log, confirmed, and the data is as just after it", async ({ page }) => {
  await login(page, server);
  const live = databaseLayout(server.databaseDir);
  // The restore in place started a new log chain: a backup of it, then two changes, and back to the first one.
  await mutate(page, "backup.start");
  await expect.poll(() => backups().some((b) => b.backupNumber === 2 && b.status === 0), { timeout: 120_000 }).toBe(true);
  const first = await mutate<{ operation: number; key: number }>(page, "data.insert", { table: "customers", values: { name: "Kept by the rollback", created_at: "2025-01-02T00:00:00Z" } });
  const second = await mutate<{ operation: number; key: number }>(page, "data.insert", { table: "customers", values: { name: "Undone by the rollback", created_at: "2025-01-03T00:00:00Z" } });
  const names = () => (tablesOf(live.dataFile).customers as Array<{ name: string }>).map((c) => c.name);
  expect(names()).toEqual(expect.arrayContaining(["Kept by the rollback", "Undone by the rollback"]));

  await openRestore(page);
  const rollback = page.getByRole("region", { name: "Rollback" });
  const log = rollback.getByRole("table", { name: "Log operations, newest first" });
  await expect(log.getByRole("row").nth(1)).toContainText(`#${second.operation}`);
  await expect(log.getByRole("row").filter({ hasText: `#${first.operation}` })).toContainText(String(first.key));
  await log.getByRole("button", { name: `Roll back to operation ${first.operation}`, exact: true }).click();
  const dialog = page.getByRole("dialog", { name: `Roll back to operation #${first.operation}?` });
  await expect(dialog).toContainText("insert on customers");
  await dialog.getByRole("button", { name: "Roll back", exact: true }).click();

  await expect(page.getByRole("status").filter({ hasText: "Restore of the data file" })).toContainText("finished: 0", { timeout: 60_000 });
  const after = names();
  expect(after).toContain("Kept by the rollback");
  expect(after).not.toContain("Undone by the rollback");
});

test("a restore into a refused folder is refused before it starts: a clear error, nothing recorded", async ({ page }) => {
  await login(page, server);
  const journal = () => fs.readFileSync(path.join(server.databaseDir, "Logs", "Backup Journal[001].txt"), "utf8");
  const before = journal();
  const historyBefore = backups().length;
  const archive = (await query(page, "restore.archives")).archives[0].path;
  const res = await page.request.post(`${server.url}/api/trpc/restore.start`, {
    data: { archivePath: archive, target: server.databaseDir, parts: { structure: true, dataFile: false, dataSettings: false, attachments: [] }, overwrite: true, integrateLog: false, includeCurrentLog: false },
  });
  expect(res.status()).toBe(400);
  expect(await res.text()).toContain("the live database folder");
  const missing = await page.request.post(`${server.url}/api/trpc/restore.verify`, { data: { archivePath: path.join(server.destination, "Nothing[0009].zip") } });
  expect(missing.status()).toBe(404);
  expect(journal()).toBe(before);
  expect(backups()).toHaveLength(historyBefore);
});
