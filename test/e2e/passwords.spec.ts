// Passwords: on first start the sign-in page says where the first admin's password is (until it is changed); a user
// changes their own password with the current one; an admin's reset can require a change at next sign-in, and then
// the user can do nothing else — pages send them to the change-password page, the API and downloads refuse them.
import fs from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { startServer, type TestServer } from "./server";

let server: TestServer;
// No STRONGBOX_ADMIN_PASSWORD: the first admin's password goes to <home>/initial-admin-password, as for a newcomer.
test.beforeAll(async () => { server = await startServer({ env: { STRONGBOX_ADMIN_PASSWORD: "" } }); });
test.afterAll(async () => { await server?.stop(); });
test.describe.configure({ mode: "serial" });

async function signIn(page: Page, username: string, password: string) {
  await page.goto(`${server.url}/login`);
  await page.getByLabel("User name").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function changePassword(page: Page, current: string, next: string, again = next) {
  await page.getByLabel("Current password").fill(current);
  await page.getByLabel("New password", { exact: true }).fill(next);
  await page.getByLabel("New password again").fill(again);
  await page.getByRole("button", { name: "Change password" }).click();
}

test("the first start says where the first password is; the admin changes it, and the hint goes away", async ({ page }) => {
  const file = path.join(server.home, "initial-admin-password");
  await page.goto(`${server.url}/login`);
  await expect(page.getByRole("note")).toContainText(`sign in as admin with the password in ${file}`);
  const first = fs.readFileSync(file, "utf8").trim();
  await signIn(page, "admin", first);
  await page.waitForURL(`${server.url}/`);

  await page.getByRole("link", { name: "Change password" }).click();
  await expect(page.getByRole("heading", { name: "Change password" })).toBeVisible();
  await changePassword(page, "not-the-password", "admin-chose-this");
  await expect(page.getByRole("alert").filter({ hasText: "current password" })).toContainText("The current password is wrong: the password was not changed.");
  await changePassword(page, first, "admin-chose-this", "admin-typed-otherwise");
  await expect(page.getByRole("alert").filter({ hasText: "new passwords" })).toContainText("The two new passwords differ");
  await changePassword(page, first, "admin-chose-this");
  // Signed in again with the new password, back in the console.
  await page.waitForURL(`${server.url}/`);
  await expect(page.getByRole("heading", { name: "Backup", level: 1 })).toBeVisible();

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/login/);
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  await expect(page.getByRole("note")).toHaveCount(0);
  await signIn(page, "admin", first);
  await expect(page.getByRole("alert").filter({ hasText: "Wrong user name or password." })).toBeVisible();
});

test("an admin's reset makes the user change their password at next sign-in, before anything else", async ({ page, browser }) => {
  await signIn(page, "admin", "admin-chose-this");
  await page.waitForURL(`${server.url}/`);
  expect((await page.request.post(`${server.url}/api/trpc/users.create`, { data: { username: "carl", password: "carl-password", role: "operator" } })).ok()).toBe(true);
  await page.getByRole("link", { name: "Users" }).click();
  await page.getByRole("button", { name: "Set password of carl" }).click();
  const form = page.getByRole("form", { name: "New password for carl" });
  await form.getByLabel("New password").fill("temporary-password");
  await expect(form.getByLabel("Must change it at next sign-in")).toBeChecked();
  await form.getByRole("button", { name: "Save password" }).click();
  await expect(page.getByRole("status")).toContainText("They must choose their own at their next sign-in.");
  await expect(page.getByRole("row").filter({ hasText: "carl" })).toContainText("must change password at next sign-in");

  const context = await browser.newContext();
  const carl = await context.newPage();
  await signIn(carl, "carl", "temporary-password");
  await carl.waitForURL(`${server.url}/change-password`);
  await expect(carl.getByRole("status")).toContainText("An admin set a new password for carl");
  // Nothing else until it is changed: any page comes back here, the API and the downloads refuse.
  await carl.goto(`${server.url}/data`);
  await expect(carl).toHaveURL(`${server.url}/change-password`);
  const api = await carl.request.get(`${server.url}/api/trpc/backup.overview`);
  expect(api.status()).toBe(403);
  expect(await api.text()).toContain("An admin set your password: change it");
  expect((await carl.request.post(`${server.url}/api/trpc/backup.start`, { data: {} })).status()).toBe(403);
  expect((await carl.request.get(`${server.url}/api/journal/all`)).status()).toBe(403);

  await changePassword(carl, "temporary-password", "carl-chose-this");
  await carl.waitForURL(`${server.url}/`);
  await expect(carl.getByRole("heading", { name: "Backup", level: 1 })).toBeVisible();
  expect((await carl.request.get(`${server.url}/api/trpc/backup.overview`)).ok()).toBe(true);
  await context.close();
  await page.reload();
  await expect(page.getByRole("row").filter({ hasText: "carl" })).not.toContainText("must change password");
});
