// Layout a newcomer meets: the Data table stays inside its card (a wide table scrolls within it, and scrolled to
// its end no column sits under the Edit/Delete buttons); at 420 px the top menu is behind a Menu button instead of
// cut off; the next archive's size is estimated from the last archive.
import { expect, test, type Locator, type Page } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import { trpcMutate, trpcQuery } from "./api";
import { login, startServer, type TestServer } from "./server";

let server: TestServer;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { await server?.stop(); });

const box = async (l: Locator) => (await l.boundingBox())!;
const pageWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);

test("a wide table scrolls inside its card, its last column clear of the Edit/Delete buttons", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await login(page, server);
  const columns = Array.from({ length: 14 }, (_, i) => ({ name: `a_rather_long_column_name_${i}`, type: "TEXT" as const }));
  await trpcMutate(page, server, "data.createTable", { table: "wide", columns: [{ name: "id", type: "INTEGER", primaryKey: true }, ...columns] });
  await trpcMutate(page, server, "data.insert", { table: "wide", values: Object.fromEntries(columns.map((c) => [c.name, `value of ${c.name}`])) });
  await page.goto(`${server.url}/data?table=wide`);
  const section = page.getByRole("region", { name: "Table wide" });
  const table = section.getByRole("table");
  await expect(table.getByRole("button", { name: "Edit row 1" })).toBeVisible();
  const main = await box(page.locator("main"));
  const scroller = table.locator("xpath=..");
  const card = await box(scroller);
  expect(card.x + card.width).toBeLessThanOrEqual(main.x + main.width + 1);
  expect(await pageWidth(page)).toBeLessThanOrEqual(1280);
  // Scrolled to its end, the last column is wholly left of the actions column.
  await scroller.evaluate((el) => { el.scrollLeft = el.scrollWidth; });
  const last = await box(table.getByRole("columnheader", { name: "a_rather_long_column_name_13" }));
  const actions = await box(table.getByRole("columnheader", { name: "Actions" }));
  expect(last.x + last.width).toBeLessThanOrEqual(actions.x + 1);
  await expect(section).toContainText("15 columns");
});

test("at 420 px the top menu opens from a Menu button, and nothing is cut off", async ({ page }) => {
  await page.setViewportSize({ width: 420, height: 800 });
  await login(page, server);
  const menu = page.getByRole("button", { name: "Menu" });
  await expect(menu).toBeVisible();
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Settings" })).toBeHidden();
  await menu.click();
  await expect(menu).toHaveAttribute("aria-expanded", "true");
  for (const name of ["Backup", "Journal", "History", "Data", "Restore", "Settings", "Users", "Tokens"]) {
    const link = nav.getByRole("link", { name, exact: true });
    await expect(link).toBeVisible();
    const b = await box(link);
    expect(b.x + b.width).toBeLessThanOrEqual(420);
  }
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  expect(await pageWidth(page)).toBeLessThanOrEqual(420);
  await nav.getByRole("link", { name: "Data", exact: true }).click();
  await page.waitForURL(`${server.url}/data`);
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(page.getByRole("heading", { name: "Data", exact: true })).toBeVisible();
  expect(await pageWidth(page)).toBeLessThanOrEqual(420);
});

test("after a backup, the next archive's size is estimated from what each kind of file became in the last one", async ({ page }) => {
  await login(page, server);
  const content = page.getByRole("region", { name: "Content of the next backup" });
  await expect(content).toContainText("a rough ratio until there is an archive");
  await page.getByRole("button", { name: "Backup" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Backup #1" })).toContainText("finished: 0 — OK", { timeout: 60_000 });
  await expect(content).toContainText("from what each kind of file became in the last archive");
  // Nothing changed since: the estimate is the archive just made, give or take its headers and manifest.
  const o = await trpcQuery(page, server, "backup.overview");
  const made = fs.statSync(path.join(server.destination, "Demo[0001].zip")).size;
  expect(Math.abs(o.content.estimatedArchiveBytes - made) / made).toBeLessThan(0.05);
});
