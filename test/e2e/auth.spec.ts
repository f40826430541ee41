// Signing in, and roles checked on the server: a wrong password is refused, a viewer sees no Backup button and
// the server refuses a viewer's start call, signed-out requests get nothing.
import { expect, test } from "@playwright/test";
import { login, startServer, type TestServer } from "./server";

let server: TestServer;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { await server?.stop(); });

test("a wrong password is refused with a clear message", async ({ page }) => {
  await page.goto(`${server.url}/login`);
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  // (Next's route announcer is also an alert, so look for ours by its text.)
  await expect(page.getByRole("alert").filter({ hasText: "Wrong user name or password." })).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
});

test("signed-out visitors are sent to the login page and the API refuses them", async ({ page, request }) => {
  await page.goto(`${server.url}/`);
  await expect(page).toHaveURL(/\/login/);
  const res = await request.get(`${server.url}/api/trpc/backup.overview`);
  expect(res.status()).toBe(401);
  const start = await request.post(`${server.url}/api/trpc/backup.start`, { data: {} });
  expect(start.status()).toBe(401);
});

test("a viewer sees the Backup page without the Backup button, and the server refuses its start call", async ({ page, browser }) => {
  await login(page, server);
  const created = await page.request.post(`${server.url}/api/trpc/users.create`, { data: { username: "vera", password: "vera-password", role: "viewer" } });
  expect(created.ok()).toBe(true);

  const viewerContext = await browser.newContext();
  const viewer = await viewerContext.newPage();
  await login(viewer, server, "vera", "vera-password");
  await expect(viewer.getByRole("heading", { name: "Backup", level: 1 })).toBeVisible();
  await expect(viewer.getByRole("region", { name: "Last backup" })).toBeVisible();
  await expect(viewer.getByRole("button", { name: "Backup" })).toHaveCount(0);
  const refused = await viewer.request.post(`${server.url}/api/trpc/backup.start`, { data: {} });
  expect(refused.status()).toBe(403);
  expect(await refused.text()).toContain("operator");

  // A role change takes effect on the next request, without signing in again.
  const users = await (await page.request.get(`${server.url}/api/trpc/users.list`)).json();
  const vera = users.result.data.find((u: { username: string }) => u.username === "vera");
  await page.request.post(`${server.url}/api/trpc/users.setRole`, { data: { id: vera.id, role: "operator" } });
  await viewer.reload();
  await expect(viewer.getByRole("button", { name: "Backup" })).toBeVisible();
  await viewerContext.close();
});

test("an admin adds a user on the Users page", async ({ page }) => {
  await login(page, server);
  await page.getByRole("link", { name: "Users" }).click();
  const form = page.getByRole("region", { name: "Add a user" });
  await form.getByLabel("User name").fill("otto");
  await form.getByLabel("Password").fill("otto-password");
  await form.getByLabel("Role").selectOption("operator");
  await form.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByRole("status")).toContainText("User otto added as operator.");
  await expect(page.getByRole("combobox", { name: "Role of otto" })).toHaveValue("operator");
});
