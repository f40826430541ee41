// The last backup survives a change of destination: after the destination folder is changed, and after a backup
// stopped in the new one, the Backup page and `strongbox status` (BACKUP INFO) still show the last backup and the
// history it is in; the stopped attempt names no archive, and the last successful backup stays shown.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { trpcMutate, trpcQuery } from "./api";
import { login, startServer, type TestServer } from "./server";

const CLI = path.resolve(import.meta.dirname, "../../bin/strongbox");
let server: TestServer;
// Test-only slowdown (e2e build only): a backup lasts long enough for a Stop to land in its archive phase.
test.beforeAll(async () => { server = await startServer({ throttleBytesPerSecond: 400_000 }); });
test.afterAll(async () => { await server?.stop(); });

function status(token: string): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(CLI, ["status"], { env: { ...process.env, STRONGBOX_SERVER: server.url, STRONGBOX_TOKEN: token }, stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  child.stdout.on("data", (d) => (stdout += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout })));
}

test("after a change of destination and a stopped attempt, the last backup, its history and the last success are shown", async ({ page }) => {
  await login(page, server);
  await page.getByRole("button", { name: "Backup" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Backup #1" })).toContainText("finished: 0 — OK", { timeout: 60_000 });
  const oldHistory = path.join(server.destination, "backupHistory.json");
  const archive = path.join(server.destination, "Demo[0001].zip");

  // The destination is changed (as an administrator would edit the settings file).
  const moved = path.join(server.home, "other-backups");
  fs.mkdirSync(moved);
  const settingsFile = path.join(server.databaseDir, "Settings", "Backup.4DSettings");
  fs.writeFileSync(settingsFile, fs.readFileSync(settingsFile, "utf8").replace(/<DestinationFolder>[^<]*<\/DestinationFolder>/, `<DestinationFolder>${moved}</DestinationFolder>`));
  await page.reload();
  await expect(page.getByRole("region", { name: "Destination" })).toContainText(moved);
  const last = page.getByRole("region", { name: "Last backup" });
  await expect(last).toContainText("0 — OK");
  await expect(last).toContainText(archive);
  await expect(last).toContainText(`History${oldHistory}`);
  await expect(last).toContainText("the destination has changed since");
  await expect(page.getByText("No backup has been made yet")).toHaveCount(0);

  // A backup in the new destination, stopped: it is the last attempt, with no archive; the last success stays.
  await page.getByRole("button", { name: "Backup" }).click();
  await expect.poll(async () => (await trpcQuery(page, server, "backup.info")).running?.phase, { timeout: 30_000 }).toBe("archive");
  await trpcMutate(page, server, "backup.stop");
  await expect(page.getByRole("status").filter({ hasText: "Backup #1" })).toContainText("failed: 1406");
  await expect(last).toContainText("1406 — Backup canceled by user");
  await expect(last).toContainText("none: this attempt made no archive");
  expect(await last.textContent()).not.toContain(path.join(moved, "Demo[0001].zip"));
  const success = last.getByRole("heading", { name: "Last successful backup" }).locator("..");
  await expect(success).toContainText("0 — OK");
  await expect(success).toContainText(archive);
  await expect(success).toContainText(oldHistory);

  // BACKUP INFO says the same.
  const { secret } = await trpcMutate<{ secret: string }>(page, server, "tokens.create", { name: "status", role: "viewer" });
  const run = await status(secret);
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/Last status:\s+1406 — Backup canceled by user/);
  expect(run.stdout).toMatch(/Last archive:\s+none \(this attempt made no archive\)/);
  expect(run.stdout).toContain(`Last success:  `);
  expect(run.stdout).toMatch(new RegExp(`Last success:.*\\(#1\\) — ${archive.replace(/[[\]().]/g, "\\$&")}; its history: ${oldHistory.replace(/[[\]().]/g, "\\$&")}`));
  expect(run.stdout).toMatch(new RegExp(`History:\\s+${path.join(moved, "backupHistory.json").replace(/[[\]().]/g, "\\$&")}`));
});
