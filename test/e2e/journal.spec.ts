// The Journal page end to end on a real server: a running backup's block builds up live and the finished block
// replaces it without a reload; a failed backup is found with the filters and the search; a journal file and the
// ZIP of all of them download as they are on disk; the download routes refuse signed-out and traversal requests.
import fs from "node:fs";
import path from "node:path";
import { expect, request, test, type Page } from "@playwright/test";
import { listEntries, readEntry } from "../../server/zip/zip-reader";
import { login, startServer, type TestServer } from "./server";

let server: TestServer;
// Test-only slowdown (compiled into the e2e build only): the demo backup runs for several seconds.
test.beforeAll(async () => { server = await startServer({ throttleBytesPerSecond: 600_000 }); });
test.afterAll(async () => { await server?.stop(); });
test.describe.configure({ mode: "serial" });

const journalPath = (n: number) => path.join(server.databaseDir, "Logs", `Backup Journal[${String(n).padStart(3, "0")}].txt`);
const settingsFile = () => path.join(server.databaseDir, "Settings", "Backup.4DSettings");

async function openJournal(page: Page) {
  await page.getByRole("link", { name: "Journal", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Journal", level: 1 })).toBeVisible();
}

async function startBackup(page: Page) {
  const res = await page.request.post(`${server.url}/api/trpc/backup.start`, { data: {} });
  expect(res.ok(), await res.text()).toBe(true);
}

test("a running backup's block builds up live, then the finished block takes its place without a reload", async ({ page }) => {
  await login(page, server);
  await openJournal(page);
  await expect(page.getByText("No backup journal yet")).toBeVisible();
  // Record the cards after every change of the page: the running card must give way to the finished one directly.
  await page.evaluate(() => {
    const w = window as unknown as { cardStates: string[]; notReloaded: boolean };
    w.notReloaded = true;
    w.cardStates = [];
    const record = () => {
      const labels = [...document.querySelectorAll("article")].map((a) => a.getAttribute("aria-label") ?? "");
      const state = `${labels.filter((l) => l.startsWith("Running: ")).length} running, ${labels.filter((l) => l.startsWith("Full backup")).length} done`;
      if (w.cardStates.at(-1) !== state) w.cardStates.push(state);
    };
    new MutationObserver(record).observe(document.body, { childList: true, subtree: true, attributes: true, characterData: true });
  });

  await startBackup(page);
  const running = page.getByRole("article", { name: /^Running: Full backup/ });
  await expect(running).toBeVisible();
  await expect(running).toContainText("Running");
  await expect(running).toContainText("manual (admin)");
  await expect(running).toContainText("Demo[0001].zip");
  // The block grows as the engine learns more: the content line comes after the snapshot.
  await expect(running).toContainText("Content");
  await expect(running).toContainText("data file");

  const done = page.getByRole("article", { name: /^Full backup/ });
  await expect(done).toBeVisible({ timeout: 60_000 });
  await expect(running).toHaveCount(0);
  await expect(done).toContainText("OK");
  await expect(done).toContainText("Demo[0001].zip");
  await expect(done).toContainText("verified");
  await expect(done.getByRole("list", { name: "Attachments" })).toContainText("[OK]");
  await expect(done).not.toContainText("Running");

  const states = await page.evaluate(() => (window as unknown as { cardStates: string[] }).cardStates);
  // From the running card's first appearance to the end: never a moment with neither card, nor one with both.
  const since = states.slice(states.indexOf("1 running, 0 done"));
  expect(since[0], states.join(" | ")).toBe("1 running, 0 done");
  expect(since, states.join(" | ")).toEqual(["1 running, 0 done", "0 running, 1 done"]);
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);

  // The card says what the file says.
  const text = fs.readFileSync(journalPath(1), "utf8");
  expect(text).toContain("*** Full Backup\nTrigger : manual (admin)");
  const files = page.getByRole("region", { name: "Journal files" });
  await expect(files).toContainText("Backup Journal[001].txt");
  await expect(files).toContainText("Current");
});

test("a failed backup is found with the status filter and the search", async ({ page }) => {
  const missing = path.join(server.home, "no-such-folder");
  const xml = fs.readFileSync(settingsFile(), "utf8");
  expect(xml).toMatch(/<DestinationFolder>[^<]*<\/DestinationFolder>/);
  fs.writeFileSync(settingsFile(), xml.replace(/<DestinationFolder>[^<]*<\/DestinationFolder>/, `<DestinationFolder>${missing}</DestinationFolder>`));
  try {
    await login(page, server);
    await openJournal(page);
    await startBackup(page);
    const failed = page.getByRole("article", { name: /^Full backup/ }).filter({ hasText: "Failed" });
    await expect(failed).toBeVisible({ timeout: 30_000 });
    await expect(failed.getByRole("list", { name: "Errors" })).toContainText("1407");
    await expect(failed.getByRole("list", { name: "Errors" })).toContainText(missing);
    expect(fs.readFileSync(journalPath(1), "utf8")).toContain("*** Full Backup aborted");
    await expect(page.getByRole("article")).toHaveCount(2);

    await page.getByLabel("Status", { exact: true }).selectOption({ label: "Failed" });
    await expect(page.getByRole("article")).toHaveCount(1);
    await expect(page.getByRole("article")).toContainText("1407");
    await page.getByLabel("Status", { exact: true }).selectOption({ label: "OK" });
    await expect(page.getByRole("article")).toHaveCount(1);
    await expect(page.getByRole("article")).toContainText("Demo[0001].zip");
    await page.getByLabel("Status", { exact: true }).selectOption({ label: "Any status" });
    await page.getByLabel("Operation", { exact: true }).selectOption({ label: "Log integration" });
    await expect(page.getByText("No operation in this file matches these filters.")).toBeVisible();
    await page.getByLabel("Operation", { exact: true }).selectOption({ label: "All operations" });
    await expect(page.getByRole("article")).toHaveCount(2);

    await page.getByLabel("Search the journal").fill("NO-SUCH-FOLDER");
    await expect(page.getByRole("article")).toHaveCount(1);
    await expect(page.getByRole("article")).toContainText("Failed");
    await expect(page.getByRole("navigation", { name: "Pages" })).toContainText("1–1 of 1 matching (2 in the file)");
  } finally {
    fs.writeFileSync(settingsFile(), xml);
  }
});

test("a journal file and the ZIP of all of them download as they are on disk", async ({ page }) => {
  // An older second file, as rotation leaves them: listed, not current, and in the ZIP.
  fs.writeFileSync(journalPath(2), "*** Full Backup\nStarting : 2020-01-01 00:00:00 +00:00\n");
  fs.utimesSync(journalPath(2), new Date("2020-01-01T00:00:00Z"), new Date("2020-01-01T00:00:00Z"));
  await login(page, server);
  await openJournal(page);
  const files = page.getByRole("region", { name: "Journal files" });
  await expect(files.getByRole("row")).toHaveCount(3);
  await expect(files.getByRole("row").filter({ hasText: "Current" })).toContainText("Backup Journal[001].txt");

  const [one] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download Backup Journal[001].txt" }).click()]);
  expect(one.suggestedFilename()).toBe("Backup Journal[001].txt");
  expect(fs.readFileSync(await one.path()).equals(fs.readFileSync(journalPath(1)))).toBe(true);

  const [all] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download all (ZIP)" }).click()]);
  expect(all.suggestedFilename()).toMatch(/^Demo Backup Journals \d{4}-\d{2}-\d{2}\.zip$/);
  const zip = await all.path();
  expect((await listEntries(zip)).map((e) => e.name).sort()).toEqual(["Backup Journal[001].txt", "Backup Journal[002].txt"]);
  for (const n of [1, 2]) expect((await readEntry(zip, `Backup Journal[00${n}].txt`)).equals(fs.readFileSync(journalPath(n)))).toBe(true);

  // Reading the other file from the page.
  await files.getByRole("button", { name: "Backup Journal[002].txt" }).click();
  await expect(page.getByRole("heading", { name: "Operations in Backup Journal[002].txt" })).toBeVisible();
  await expect(page.getByRole("article")).toHaveCount(1);
});

test("the download routes refuse signed-out callers and anything but a listed number", async ({ page }) => {
  const anonymous = await request.newContext();
  for (const url of ["/api/journal/1", "/api/journal/all"]) {
    const res = await anonymous.get(server.url + url);
    expect(res.status(), url).toBe(401);
    expect(await res.text()).not.toContain("*** Full Backup");
  }
  const badToken = await anonymous.get(`${server.url}/api/journal/1`, { headers: { authorization: "Bearer sbx_wrong" } });
  expect(badToken.status()).toBe(401);
  expect(await badToken.text()).toContain("API token is not valid");
  await anonymous.dispose();

  await login(page, server);
  const created = await page.request.post(`${server.url}/api/trpc/tokens.create`, { data: { name: "journal-reader", role: "viewer" } });
  const { secret } = (await created.json()).result.data as { secret: string };
  const viaToken = await page.request.get(`${server.url}/api/journal/1`, { headers: { authorization: `Bearer ${secret}` } });
  expect(viaToken.status()).toBe(200);
  expect(Buffer.from(await viaToken.body()).equals(fs.readFileSync(journalPath(1)))).toBe(true);

  for (const attempt of ["..%2F..%2Fetc%2Fpasswd", "..%2FSettings%2FBackup.4DSettings", "%2e%2e", "1%2F..%2F..%2Fx", "0", "1000", "abc", "3"]) {
    const res = await page.request.get(`${server.url}/api/journal/${attempt}`);
    expect([400, 404], attempt).toContain(res.status());
    const body = await res.text();
    expect(body).not.toContain("root:");
    expect(body).not.toContain("<Preferences4D>");
  }
  expect((await page.request.get(`${server.url}/api/journal/3`)).status()).toBe(404);
  expect((await page.request.get(`${server.url}/api/journal/abc`)).status()).toBe(400);
});
