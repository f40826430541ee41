// The Settings page end to end on a real server: an admin's changes land in Settings/Backup.4DSettings (keys we
// don't know kept), invalid values are refused with clear messages and leave the file alone, a viewer sees it
// read-only, and a malformed file is reported with its line and never overwritten.
import fs from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { loadSettings } from "../../server/settings/backup-settings-file";
import { trpcMutate, trpcQuery } from "./api";
import { login, startServer, type TestServer } from "./server";

let server: TestServer;
const settingsFile = () => path.join(server.databaseDir, "Settings", "Backup.4DSettings");
const today = () => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
};

test.describe.configure({ mode: "serial" });
test.beforeAll(async () => {
  server = await startServer();
  // A key Strongbox doesn't use (4D writes it): it must survive a save from the console.
  const xml = fs.readFileSync(settingsFile(), "utf8");
  expect(xml).toContain("<Advanced>");
  fs.writeFileSync(settingsFile(), xml.replace("<Advanced>", "<Advanced>\n<Redundancy>None</Redundancy>"));
});
test.afterAll(async () => { await server?.stop(); });

async function openSettings(page: Page) {
  await page.getByRole("link", { name: "Settings", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Settings", level: 1 })).toBeVisible();
}
const notSaved = (page: Page) => page.getByRole("alert").filter({ hasText: "The settings were not saved" });

test("an admin sets a weekly schedule, retention, compression and an attachment; the file keeps unknown keys", async ({ page }) => {
  const extra = path.join(server.home, "extra-files");
  fs.mkdirSync(extra);
  fs.writeFileSync(path.join(extra, "contract.txt"), "signed");
  await login(page, server);
  await openSettings(page);

  await expect(page.getByRole("tab", { name: "Scheduler" })).toHaveAttribute("aria-selected", "true");
  await page.getByRole("radio", { name: "Weekly" }).check();
  for (const day of ["Monday", "Thursday"]) {
    await page.getByLabel(day, { exact: true }).check();
    await page.getByLabel(`Time on ${day}`).fill("02:30");
  }

  // 4D's presets are previewed too, not only Cron: the next five runs, server time.
  const preview = page.getByRole("region", { name: "Schedule preview" });
  await expect(preview.getByRole("listitem")).toHaveCount(5);
  for (const run of await preview.getByRole("listitem").allTextContents()) expect(run).toContain("02:30");

  await page.getByRole("tab", { name: "Backup & Restore" }).click();
  await expect(page.getByRole("tabpanel", { name: "Backup & Restore" })).toBeVisible();
  await page.getByLabel("Keep only the last backup files").check();
  await page.getByLabel("Backup files to keep").fill("5");
  await page.getByLabel("Compression rate").selectOption("Compact");

  await page.getByRole("tab", { name: "Configuration" }).click();
  const destination = page.getByRole("tabpanel", { name: "Configuration" });
  await expect(destination).toContainText(server.destination);
  await expect(destination).toContainText(/free of/);
  await page.getByLabel("Attachment path on the server").fill(extra);
  await page.getByRole("button", { name: "Add attachment" }).click();
  await expect(page.getByRole("list", { name: "Attachments" })).toContainText(extra);

  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Settings saved." })).toContainText(today());
  // Read back from the server: the new attachment is checked and found.
  const item = page.getByRole("listitem").filter({ hasText: extra });
  await expect(item).toContainText("Folder");

  const xml = fs.readFileSync(settingsFile(), "utf8");
  expect(xml).toContain("<Redundancy>None</Redundancy>");
  const s = await loadSettings(server.databaseDir, server.destination);
  expect(s.scheduler.frequency).toBe("Weekly");
  expect(s.scheduler.anchor).toBe(today());
  const saved = Object.entries(s.scheduler.weekly.days).filter(([, d]) => d.save);
  expect(saved).toEqual([["Monday", { save: true, hour: 2 * 3600 + 30 * 60 }], ["Thursday", { save: true, hour: 2 * 3600 + 30 * 60 }]]);
  expect(xml).toMatch(/<Monday>\s*<Save>True<\/Save>\s*<Hour>0000-00-00T02:30:00.000<\/Hour>/);
  expect(s.advanced.setNumber).toEqual({ enable: true, value: 5 });
  expect(s.advanced.compressionRate).toBe("Compact");
  expect(s.general.includesFiles).toContain(extra);
  expect(s.general.includesFiles.some((p) => p.endsWith("demo-attachments"))).toBe(true);

  // A reload shows what was saved.
  await page.reload();
  await expect(page.getByRole("radio", { name: "Weekly" })).toBeChecked();
  await expect(page.getByLabel("Time on Thursday")).toHaveValue("02:30");
});

test("invalid values are refused with clear messages, each under its field on its tab, and the file is unchanged", async ({ page }) => {
  const before = fs.readFileSync(settingsFile(), "utf8");
  const missing = path.join(server.home, "no-such-folder");
  await login(page, server);
  await openSettings(page);
  await page.getByRole("radio", { name: "Hourly" }).check();
  await page.getByLabel("Every (hours)").fill("30");
  await page.getByRole("tab", { name: "Configuration" }).click();
  await page.getByLabel("Destination folder").fill(path.join(server.databaseDir, "Project"));
  await page.getByRole("button", { name: "Save", exact: true }).click();

  const alert = notSaved(page);
  await expect(alert).toContainText("Hourly: every … hours must be a whole number from 1 to 24.");
  await expect(alert).toContainText("is refused: it is inside the database folder");
  expect(fs.readFileSync(settingsFile(), "utf8")).toBe(before);
  // The page opens the tab of the first problem, and marks every tab that has one; each problem sits under its field.
  await expect(page.getByRole("tab", { name: "Scheduler" })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByRole("tab", { name: "Configuration" })).toContainText("has problems");
  await expect(page.getByLabel("Every (hours)")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByRole("tabpanel", { name: "Scheduler" })).toContainText("Not saved: Hourly: every … hours must be a whole number from 1 to 24.");
  await page.getByRole("tab", { name: "Configuration" }).click();
  await expect(page.getByRole("tabpanel", { name: "Configuration" })).toContainText("Not saved: Destination folder");

  // A missing attachment never stops a save: it is a warning on the Configuration tab (backups will be partial).
  await page.getByLabel("Destination folder").fill(server.destination);
  await page.getByLabel("Attachment path on the server").fill(missing);
  await page.getByRole("button", { name: "Add attachment" }).click();
  await page.getByRole("tab", { name: "Scheduler" }).click();
  await page.getByLabel("Every (hours)").fill("6");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Settings saved." })).toContainText("One warning remains");
  await expect(page.getByRole("tab", { name: "Configuration" })).toContainText("has warnings");
  await page.getByRole("tab", { name: "Configuration" }).click();
  await expect(page.getByRole("listitem").filter({ hasText: missing })).toContainText("partial backups (1409)");
  let s = await loadSettings(server.databaseDir, server.destination);
  expect(s.scheduler.frequency).toBe("Hourly");
  expect(s.scheduler.hourly.every).toBe(6);
  expect(s.general.includesFiles).toContain(missing);
  await page.getByRole("button", { name: `Remove ${missing}` }).click();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Settings saved." })).not.toContainText("warning");
  s = await loadSettings(server.databaseDir, server.destination);
  expect(s.general.includesFiles).not.toContain(missing);
  expect(fs.readFileSync(settingsFile(), "utf8")).toContain("<Redundancy>None</Redundancy>");
});

test("a destination inside the database folder, the home itself or a system folder is refused on save", async ({ page }) => {
  const before = fs.readFileSync(settingsFile(), "utf8");
  await login(page, server);
  await openSettings(page);
  await page.getByRole("tab", { name: "Configuration" }).click();
  for (const [destination, reason] of [
    [path.join(server.databaseDir, "Project"), `is inside the database folder ${server.databaseDir}: each archive would hold the archives before it`],
    [server.home, "is STRONGBOX_HOME, the server's own folder"],
    ["/etc", "is the system folder /etc"],
  ]) {
    await page.getByLabel("Destination folder").fill(destination);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect(notSaved(page)).toContainText(`Destination folder ${destination} is refused: it ${reason}`);
    expect(fs.readFileSync(settingsFile(), "utf8")).toBe(before);
  }
});

test("a viewer sees the settings read-only, and the server refuses a viewer's update", async ({ page, browser }) => {
  await login(page, server);
  const created = await page.request.post(`${server.url}/api/trpc/users.create`, { data: { username: "vic", password: "vic-password", role: "viewer" } });
  expect(created.ok()).toBe(true);
  const context = await browser.newContext();
  const viewer = await context.newPage();
  await login(viewer, server, "vic", "vic-password");
  await openSettings(viewer);
  await expect(viewer.getByText("Read-only: only admins change the settings.")).toBeVisible();
  await expect(viewer.getByRole("button", { name: "Save", exact: true })).toHaveCount(0);
  await expect(viewer.getByRole("radio", { name: "Hourly" })).toBeChecked();
  await expect(viewer.getByRole("radio", { name: "Weekly" })).toBeDisabled();
  await viewer.getByRole("tab", { name: "Backup & Restore" }).click();
  await expect(viewer.getByLabel("Compression rate")).toBeDisabled();
  await expect(viewer.getByLabel("Compression rate")).toHaveValue("Compact");
  await viewer.getByRole("tab", { name: "Configuration" }).click();
  await expect(viewer.getByLabel("Destination folder")).toBeDisabled();
  await expect(viewer.getByRole("button", { name: "Add attachment" })).toHaveCount(0);
  const refused = await viewer.request.post(`${server.url}/api/trpc/settings.update`, { data: { settings: {} } });
  expect(refused.status()).toBe(403);
  await context.close();
});

test("a malformed file is reported with its line and is not overwritten", async ({ page }) => {
  const broken = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<Preferences4D>`,
    `  <Backup>`,
    `    <Settings>`,
    `      <Scheduler>`,
    `        <Frequency>Sometimes</Frequency>`,
    `      </Scheduler>`,
    `    </Settings>`,
    `  </Backup>`,
    `</Preferences4D>`,
    ``,
  ].join("\n");
  const good = fs.readFileSync(settingsFile(), "utf8");
  fs.writeFileSync(settingsFile(), broken);
  // The tests after this one share the server: they get the good file back, whatever happens here.
  try {
    await checkMalformed(page, broken);
  } finally {
    fs.writeFileSync(settingsFile(), good);
  }
});

async function checkMalformed(page: Page, broken: string): Promise<void> {
  await login(page, server);
  await openSettings(page);
  const alert = page.getByRole("alert").filter({ hasText: "malformed" });
  await expect(alert).toContainText("at line 6");
  await expect(alert).toContainText("Sometimes");
  await expect(page.getByRole("button", { name: "Save", exact: true })).toHaveCount(0);
  await expect(page.getByRole("tab")).toHaveCount(0);

  const refused = await page.request.post(`${server.url}/api/trpc/settings.update`, { data: { settings: {} } });
  expect(refused.status()).toBe(412);
  expect(await refused.text()).toContain("won't overwrite it");
  expect(fs.readFileSync(settingsFile(), "utf8")).toBe(broken);
}

test("what an admin types before the saved webhook has loaded is what gets saved, by the page's one Save", async ({ page }) => {
  await login(page, server);
  await trpcMutate(page, server, "automation.setWebhook", { url: "http://127.0.0.1:9/old-hook", allowPrivate: true });
  // The saved webhook answers only after the admin has typed (a slow machine, a slow network).
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const webhookQuery = /\/api\/trpc\/[^?]*automation\.webhook/;
  await page.route(webhookQuery, async (route) => {
    if (route.request().method() === "GET") await held;
    await route.continue();
  });
  await page.goto(`${server.url}/settings`);
  await page.getByRole("tab", { name: "Notifications" }).click();
  const notifications = page.getByRole("tabpanel", { name: "Notifications" });
  const url = notifications.getByLabel("Alert webhook URL");
  await url.fill("http://127.0.0.1:9/new-hook");
  const answered = page.waitForResponse(/automation\.webhook/);
  release();
  await answered;
  // The answer arrived: the field the admin typed in keeps its text, the one they didn't touch took the saved value.
  await expect(url).toHaveValue("http://127.0.0.1:9/new-hook");
  await expect(notifications.getByLabel("Allow private and loopback addresses")).toBeChecked();
  // One Save for the whole page (no Save button of its own for the webhook, nor for anything else).
  await expect(page.getByRole("button", { name: /save/i })).toHaveCount(1);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Settings saved." })).toContainText("Alerts will be sent to http://127.0.0.1:9/new-hook");
  expect(await trpcQuery(page, server, "automation.webhook")).toMatchObject({ url: "http://127.0.0.1:9/new-hook", allowPrivate: true });
  // A refetch after the save shows the saved value, not an older one.
  await page.unroute(webhookQuery);
  await page.reload();
  await page.getByRole("tab", { name: "Notifications" }).click();
  await expect(page.getByLabel("Alert webhook URL")).toHaveValue("http://127.0.0.1:9/new-hook");
});

test("a settings file 4D wrote loads, shows what it holds as warnings on its tabs, and saves unchanged from the console", async ({ page }) => {
  const fixture = fs.readFileSync(path.resolve(import.meta.dirname, "../fixtures/4d/AdminWindow-backup.4DSettings"), "utf8");
  fs.writeFileSync(settingsFile(), fixture);
  await login(page, server);
  await openSettings(page);
  // The file holds the destination "./" (the database folder, refused for a new value) and 4D's default attachments,
  // which don't exist here: warnings saying what backups will do, on the tab where they can be changed.
  const configuration = page.getByRole("tab", { name: "Configuration" });
  await expect(configuration).toContainText("has warnings");
  await configuration.click();
  const panel = page.getByRole("tabpanel", { name: "Configuration" });
  await expect(page.getByLabel("Destination folder")).toHaveValue("./");
  await expect(panel).toContainText(`Warning: Destination folder ${server.databaseDir} is refused: it is the database folder itself`);
  await expect(panel).toContainText("Backups fail with 1407 (destination folder not valid) until it is changed.");
  for (const item of ["./AdminWindow.4DIndx", "./AdminWindow.4DSyncData", "./AdminWindow.4DSyncHeader"]) {
    await expect(page.getByRole("listitem").filter({ hasText: item })).toContainText("Warning: Attachment");
  }
  // 0.561 seconds, in seconds: as the file holds it, with what it means for retries.
  await page.getByRole("tab", { name: "Backup & Restore" }).click();
  await expect(page.getByLabel("Retry delay", { exact: true })).toHaveValue("0.561");
  await expect(page.getByLabel("Retry delay unit")).toHaveValue("seconds");
  await expect(page.getByRole("tabpanel", { name: "Backup & Restore" })).toContainText("retries wait at least 1 second");
  await expect(page.getByRole("tabpanel", { name: "Backup & Restore" })).toContainText("Kept but not used: 4D's segmentation (FileSegmentation/DefaultSize), Redundancy and Interlacing");

  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Settings saved." })).toContainText("warnings remain");
  const written = fs.readFileSync(settingsFile(), "utf8");
  // Byte for byte what 4D wrote, apart from the keys Strongbox adds (its own settings, with their defaults).
  const ours = /\s*<(DataLockMode|UseLog|Cron|Anchor)>[^<]*<\/\1>/g;
  expect([...written.matchAll(ours)].map((m) => m[1]).sort()).toEqual(["Anchor", "Cron", "DataLockMode", "UseLog"]);
  expect(written.replace(ours, "")).toBe(fixture);

  // A new value that is refused is still refused, and said on its tab, which the page opens.
  await page.getByRole("tab", { name: "Configuration" }).click();
  await page.getByLabel("Destination folder").fill("./Project");
  await page.getByRole("tab", { name: "Scheduler" }).click();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(configuration).toHaveAttribute("aria-selected", "true");
  await expect(panel).toContainText("Not saved: Destination folder");
  expect(fs.readFileSync(settingsFile(), "utf8")).toBe(written);
});
