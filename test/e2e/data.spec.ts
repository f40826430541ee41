// The Data page end to end on a real server and the demo database (docs/log-file.md, docs/console.md): browse, page, sort and filter;
// add, edit and delete rows and change the schema; an edit made during a Full-mode backup waits in the waiting
// dialog and goes through when the backup ends; Cancel operation gives -9976 and leaves the row unchanged (in the
// data file, also after the backup); a viewer gets a read-only page and the server refuses its writes.
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { expect, test, type Page } from "@playwright/test";
import { databaseLayout } from "../../server/database/layout";
import { historyEntries, trpcMutate, trpcQuery } from "./api";
import { login, startServer, type TestServer } from "./server";

let server: TestServer;
// Test-only slowdown (compiled into the e2e build only). At 150 kB/s the demo backup's archive phase lasts about
// 25 s (at 600 kB/s, as backup.spec.ts uses, it was over in about 6 s, too short for a person-speed edit, the
// checks made while it waits, and a Cancel to all land inside it on this 2-core machine).
test.beforeAll(async () => { server = await startServer({ throttleBytesPerSecond: 150_000 }); });
test.afterAll(async () => { await server?.stop(); });
test.describe.configure({ mode: "serial" });

const WAITING = "Waiting for the backup to end";
const BACKUP_IN_PROGRESS = "This command cannot be executed because the database backup is in progress";

type Customer = { id: number; name: string; email: string | null; city: string | null };
/** Straight from the data file, not through the server. */
function sql<T>(query: string, ...params: unknown[]): T {
  const db = new Database(databaseLayout(server.databaseDir).dataFile, { readonly: true, fileMustExist: true });
  try { return db.prepare(query).get(...params) as T; } finally { db.close(); }
}
const customer = (id: number) => sql<Customer>("SELECT * FROM customers WHERE id = ?", id);

const query = <T = any>(page: Page, proc: string, input?: unknown) => trpcQuery<T>(page, server, proc, input); // eslint-disable-line @typescript-eslint/no-explicit-any
const mutate = <T = any>(page: Page, proc: string, input?: unknown) => trpcMutate<T>(page, server, proc, input); // eslint-disable-line @typescript-eslint/no-explicit-any
const backups = () => historyEntries(server);

/** Starts a backup over the API and returns once it holds the data write lock (so a write now has to wait). */
async function startBackupHoldingDataLock(page: Page) {
  await mutate(page, "backup.start");
  await expect.poll(async () => (await query(page, "data.lockState")).data.held, { timeout: 30_000, intervals: [100] }).toBe(true);
}

async function backupEnded(page: Page, count: number) {
  await expect.poll(() => backups().length, { timeout: 120_000 }).toBe(count);
  expect(backups().at(-1)).toMatchObject({ backupNumber: count, status: 0 });
  expect((await query(page, "data.lockState")).data.held).toBe(false);
}

async function openTable(page: Page, table: string) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Data", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Data", level: 1 })).toBeVisible();
  await page.getByRole("navigation", { name: "Tables" }).getByRole("link", { name: new RegExp(`^${table} \\(`) }).click();
  await expect(page.getByRole("heading", { name: table, level: 2 })).toBeVisible();
  return page.getByRole("table", { name: `Rows of ${table}` });
}

const rowOf = (page: Page, key: number) =>
  page.getByRole("row").filter({ has: page.getByRole("button", { name: `Edit row ${key}`, exact: true }) });

test("the tables with their row counts; rows page, sort and filter", async ({ page }) => {
  await login(page, server);
  await openTable(page, "customers");
  const tables = page.getByRole("navigation", { name: "Tables" });
  const lines = sql<{ n: number }>("SELECT count(*) AS n FROM invoice_lines").n;
  await expect(tables.getByRole("link", { name: /^customers \(/ })).toContainText("600 rows");
  await expect(tables.getByRole("link", { name: /^invoice_lines \(/ })).toContainText(`${lines.toLocaleString("en-US")} rows`);
  await expect(page).toHaveURL(/\/data\?table=customers$/);

  const table = page.getByRole("table", { name: "Rows of customers" });
  for (const column of ["id", "name", "email", "city", "created_at"]) {
    await expect(table.getByRole("columnheader", { name: column, exact: true })).toBeVisible();
  }
  const firstId = () => table.getByRole("row").nth(1).getByRole("cell").first();
  await expect(page.getByText("Rows 1–50 of 600")).toBeVisible();
  await expect(table.getByRole("row")).toHaveCount(51);
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page.getByText("Rows 51–100 of 600")).toBeVisible();
  await expect(firstId()).toHaveText("51");
  await page.getByRole("button", { name: "Previous" }).click();
  await expect(firstId()).toHaveText("1");

  // Sort by clicking a header: ascending, then descending.
  const idHeader = table.getByRole("columnheader", { name: "id", exact: true });
  await idHeader.getByRole("button").click();
  await expect(idHeader).toHaveAttribute("aria-sort", "ascending");
  await idHeader.getByRole("button").click();
  await expect(idHeader).toHaveAttribute("aria-sort", "descending");
  await expect(firstId()).toHaveText("600");

  // Filter: city equals Paris gives as many rows as the data file has.
  const paris = sql<{ n: number }>("SELECT count(*) AS n FROM customers WHERE city = 'Paris'").n;
  expect(paris).toBeGreaterThan(0);
  const filter = page.getByRole("search", { name: "Filter rows" });
  await filter.getByLabel("Filter column").selectOption("city");
  await filter.getByLabel("Operator").selectOption("eq");
  await filter.getByLabel("Filter value").fill("Paris");
  await filter.getByRole("button", { name: "Apply filter" }).click();
  await expect(page.getByText(`Rows 1–${Math.min(50, paris)} of ${paris}`)).toBeVisible();
  const cities = await table.getByRole("row").evaluateAll((rows) => rows.slice(1).map((r) => r.querySelectorAll("td")[5]?.textContent));
  expect(new Set(cities)).toEqual(new Set(["Paris"]));
  await filter.getByLabel("Filter value").fill("no such city");
  await filter.getByRole("button", { name: "Apply filter" }).click();
  await expect(page.getByText("No rows match the filter.")).toBeVisible();
  await filter.getByRole("button", { name: "Clear filter" }).click();
  await expect(page.getByText("Rows 1–50 of 600")).toBeVisible();
});

test("an admin creates a table, adds a column, adds, edits and deletes a row; fast writes show no waiting dialog", async ({ page }) => {
  await login(page, server);
  await openTable(page, "customers");
  // Records whether the waiting dialog ever opened, however briefly (the page navigates client-side from here on).
  await page.evaluate((title) => {
    const w = window as unknown as { sawWaiting: boolean };
    w.sawWaiting = false;
    new MutationObserver(() => {
      for (const d of document.querySelectorAll("dialog[open]")) if (d.textContent?.includes(title)) w.sawWaiting = true;
    }).observe(document.body, { childList: true, subtree: true, attributes: true });
  }, WAITING);

  await page.getByRole("button", { name: "New table" }).click();
  const create = page.getByRole("dialog", { name: "New table" });
  await create.getByLabel("Table name").fill("visits");
  await create.getByLabel("Column 2 name").fill("note");
  await create.getByRole("button", { name: "Another column" }).click();
  await create.getByLabel("Column 3 name").fill("score");
  await create.getByLabel("Column 3 type").selectOption("INTEGER");
  await create.getByRole("button", { name: "Create table" }).click();
  await expect(create).toBeHidden();
  await expect(page.getByRole("status").filter({ hasText: "Table visits created." })).toBeVisible();
  await expect(page).toHaveURL(/\/data\?table=visits$/);
  await expect(page.getByText("visits has no rows yet.")).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Tables" }).getByRole("link", { name: /^visits \(/ })).toContainText("0 rows");

  await page.getByRole("button", { name: "Add column" }).click();
  const addColumn = page.getByRole("dialog", { name: "Add a column to visits" });
  await addColumn.getByLabel("Column name").fill("tag");
  await addColumn.getByRole("button", { name: "Add column" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Column tag added to visits." })).toBeVisible();

  await page.getByRole("button", { name: "Add row" }).click();
  const add = page.getByRole("dialog", { name: "Add a row to visits" });
  await add.getByLabel(/^note\b/).fill("first visit");
  await add.getByLabel(/^score\b/).fill("7");
  await add.getByLabel(/^tag\b/).fill("new");
  await add.getByRole("button", { name: "Add row" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Row 1 added to visits." })).toBeVisible();
  const table = page.getByRole("table", { name: "Rows of visits" });
  await expect(table.getByRole("columnheader", { name: "tag", exact: true })).toBeVisible();
  await expect(rowOf(page, 1)).toContainText("first visit");

  await rowOf(page, 1).getByRole("button", { name: "Edit row 1" }).click();
  const edit = page.getByRole("dialog", { name: "Edit row 1 of visits" });
  await expect(edit.getByLabel(/^id\b/)).toHaveValue("1");
  await expect(edit.getByLabel(/^score\b/)).toHaveValue("7");
  await edit.getByLabel(/^score\b/).fill("8");
  await edit.getByLabel(/^tag\b/).fill("");
  await edit.getByRole("button", { name: "Save row" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Row 1 of visits saved." })).toBeVisible();
  await expect(rowOf(page, 1)).toContainText("8");
  // Typed as the column says (a number), an emptied field is NULL, the untouched column as it was.
  expect(sql("SELECT * FROM visits WHERE id = 1")).toEqual({ id: 1, note: "first visit", score: 8, tag: null });

  await rowOf(page, 1).getByRole("button", { name: "Delete row 1" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete row 1 of visits?" });
  await confirm.getByRole("button", { name: "Keep the row" }).click();
  await expect(confirm).toBeHidden();
  await expect(rowOf(page, 1)).toBeVisible();
  await rowOf(page, 1).getByRole("button", { name: "Delete row 1" }).click();
  await confirm.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Row 1 deleted from visits." })).toBeVisible();
  await expect(page.getByText("visits has no rows yet.")).toBeVisible();
  expect(sql("SELECT count(*) AS n FROM visits")).toEqual({ n: 0 });

  // A write the server refuses keeps the form open with the reason.
  await page.getByRole("button", { name: "Add row" }).click();
  await add.getByLabel(/^id\b/).fill("not a number");
  await add.getByRole("button", { name: "Add row" }).click();
  await expect(add.getByRole("alert")).toBeVisible();
  await add.getByRole("button", { name: "Close" }).click();
  expect(sql("SELECT count(*) AS n FROM visits")).toEqual({ n: 0 });

  expect(await page.evaluate(() => (window as unknown as { sawWaiting: boolean }).sawWaiting)).toBe(false);
});

test("an edit during a Full-mode backup waits in the waiting dialog, then goes through when the backup ends", async ({ page }) => {
  test.setTimeout(240_000);
  await login(page, server);
  // DataLockMode Full, saved through the settings API as the Settings page does.
  const current = await query(page, "settings.get");
  const { databaseName: _, ...settings } = current.settings;
  settings.advanced.dataLockMode = "Full";
  await mutate(page, "settings.update", { settings, revision: current.revision });
  expect(fs.readFileSync(path.join(server.databaseDir, "Settings", "Backup.4DSettings"), "utf8")).toContain("<DataLockMode>Full</DataLockMode>");

  await openTable(page, "customers");
  const before = customer(1);
  await startBackupHoldingDataLock(page);
  await expect(page.getByRole("status").filter({ hasText: "holds the data write lock" })).toBeVisible();
  await rowOf(page, 1).getByRole("button", { name: "Edit row 1" }).click();
  const form = page.getByRole("dialog", { name: "Edit row 1 of customers" });
  await form.getByLabel(/^name\b/).fill("Edited during the backup");
  await form.getByRole("button", { name: "Save row" }).click();
  const waiting = page.getByRole("dialog", { name: WAITING });
  await expect(waiting).toBeVisible();
  await expect(waiting).toContainText("The database backup is in progress");
  await expect(waiting.getByRole("button", { name: "Cancel operation", exact: true })).toBeVisible();
  // The write waits on the server, in the lock's queue; reads go on meanwhile and show the row as it was.
  await expect.poll(async () => (await query(page, "data.lockState")).data).toMatchObject({ held: true, waiting: 1 });
  const read = await query(page, "data.rows", { table: "customers", filter: { column: "id", op: "eq", value: 1 } });
  expect(read.rows).toEqual([expect.objectContaining({ id: 1, name: before.name })]);
  expect(customer(1)).toEqual(before);

  // The backup ends: the dialog closes by itself, the write is applied and the table shows it.
  await expect(waiting).toBeHidden({ timeout: 120_000 });
  await expect(form).toBeHidden();
  await expect(page.getByRole("status").filter({ hasText: "Row 1 of customers saved." })).toBeVisible();
  await expect(rowOf(page, 1)).toContainText("Edited during the backup");
  expect(customer(1)).toEqual({ ...before, name: "Edited during the backup" });
  await backupEnded(page, 1);
  await expect(page.getByRole("status").filter({ hasText: "holds the data write lock" })).toHaveCount(0);
});

test("Cancel operation during a backup gives -9976 and the row stays unchanged, also after the backup", async ({ page }) => {
  test.setTimeout(240_000);
  await login(page, server);
  await openTable(page, "customers");
  const before = customer(2);
  expect(before.email).not.toBeNull();
  await rowOf(page, 2).getByRole("button", { name: "Edit row 2" }).click();
  const form = page.getByRole("dialog", { name: "Edit row 2 of customers" });
  await form.getByLabel(/^email\b/).fill("cancelled@example.com");

  await startBackupHoldingDataLock(page);
  await form.getByRole("button", { name: "Save row" }).click();
  const waiting = page.getByRole("dialog", { name: WAITING });
  await expect(waiting).toBeVisible();
  await expect.poll(async () => (await query(page, "data.lockState")).data.waiting).toBe(1);
  await waiting.getByRole("button", { name: "Cancel operation", exact: true }).click();

  await expect(waiting).toBeHidden();
  await expect(form).toBeHidden();
  const alert = page.getByRole("alert").filter({ hasText: "-9976" });
  await expect(alert).toContainText(BACKUP_IN_PROGRESS);
  await expect(alert).toContainText("nothing was changed");
  // Still during the backup: nothing waits any more, and the row is as it was, in the page and in the data file.
  expect((await query(page, "data.lockState")).data).toMatchObject({ held: true, waiting: 0 });
  await expect(rowOf(page, 2)).toContainText(before.email!);
  await expect(rowOf(page, 2)).not.toContainText("cancelled@example.com");
  expect(customer(2)).toEqual(before);

  // The cancelled write is never applied later: not when the backup ends, not after a reload.
  await backupEnded(page, 2);
  await page.reload();
  await expect(rowOf(page, 2)).toContainText(before.email!);
  expect(customer(2)).toEqual(before);
});

test("a viewer browses the rows read-only, and the server refuses its writes", async ({ page, browser }) => {
  await login(page, server);
  const created = await page.request.post(`${server.url}/api/trpc/users.create`, { data: { username: "vivian", password: "vivian-password", role: "viewer" } });
  expect(created.ok()).toBe(true);
  const context = await browser.newContext();
  const viewer = await context.newPage();
  await login(viewer, server, "vivian", "vivian-password");
  const table = await openTable(viewer, "customers");
  await expect(viewer.getByText("Rows 1–50 of 600")).toBeVisible();
  const before = customer(1);
  await expect(table.getByRole("row").nth(1)).toContainText(before.name);
  await expect(viewer.getByText("Read-only: operators and admins change rows.")).toBeVisible();
  for (const name of ["Add row", "Edit", "Delete", "New table", "Add column"]) {
    await expect(viewer.getByRole("button", { name })).toHaveCount(0);
  }
  const refused = await viewer.request.post(`${server.url}/api/trpc/data.update`, { data: { table: "customers", key: 1, values: { name: "viewer" } } });
  expect(refused.status()).toBe(403);
  expect(customer(1)).toEqual(before);
  await context.close();
});
