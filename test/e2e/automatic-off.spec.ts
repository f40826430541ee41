// After 1401 (too many failed automatic attempts), what the console and BACKUP INFO say is true: no next date, but
// "off until the server restarts or a manual backup succeeds"; and the alerts that piled up meanwhile show as
// groups (the same alert once, with its count, first and last time), acknowledged all at once.
import Database from "better-sqlite3";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { trpcMutate, trpcQuery } from "./api";
import { login, startServer, type TestServer } from "./server";

const CLI = path.resolve(import.meta.dirname, "../../bin/strongbox");
let server: TestServer | null = null;
test.afterAll(async () => { await server?.stop(); });

const pad = (n: number) => String(n).padStart(2, "0");

test("after 1401 the next backup is 'off until …' on the Backup page and in BACKUP INFO; repeated alerts are grouped", async ({ page }) => {
  const first = await startServer();
  await first.stop({ keepHome: true });
  // A daily backup due 5 minutes ago, while the server was down (its heartbeat says 10 minutes ago): one failed
  // backup at start, then retries 1 s apart into a destination under a regular file (1407), 5 attempts, then 1401.
  const blocker = path.join(first.home, "not-a-folder");
  fs.writeFileSync(blocker, "a file where the destination folder should be");
  const due = new Date(Date.now() - 5 * 60_000);
  const settingsFile = path.join(first.databaseDir, "Settings/Backup.4DSettings");
  fs.writeFileSync(settingsFile, fs.readFileSync(settingsFile, "utf8")
    .replace(/<Frequency>\w+<\/Frequency>/, "<Frequency>Daily</Frequency>")
    .replace(/<Daily>\s*<Every>1<\/Every>\s*<Hour>[^<]*<\/Hour>/, `<Daily><Every>1</Every><Hour>0000-00-00T${pad(due.getHours())}:${pad(due.getMinutes())}:00.000</Hour>`)
    .replace(/<TryToBackupAfter>[^<]*<\/TryToBackupAfter>/, "<TryToBackupAfter>0000-00-00T00:00:01.000</TryToBackupAfter>")
    .replace(/<AbortIfBackupFail>\w+<\/AbortIfBackupFail>/, "<AbortIfBackupFail>True</AbortIfBackupFail>")
    .replace(/<RetryCountBeforeAbort>\d+<\/RetryCountBeforeAbort>/, "<RetryCountBeforeAbort>5</RetryCountBeforeAbort>")
    .replace(/<DestinationFolder>[^<]*<\/DestinationFolder>/, `<DestinationFolder>${path.join(blocker, "backups")}</DestinationFolder>`));
  const consoleDb = new Database(path.join(first.home, "console.sqlite"));
  consoleDb.prepare("UPDATE console_settings SET value = ? WHERE key = 'last_alive'").run(new Date(Date.now() - 10 * 60_000).toISOString());
  consoleDb.close();

  server = await startServer({ home: first.home });
  await login(page, server);
  const nextBackup = page.getByRole("region", { name: "Next backup", exact: true });
  await expect(nextBackup).toContainText("Off until the server restarts or a manual backup succeeds", { timeout: 60_000 });
  await expect(nextBackup).toContainText("1401");
  await expect(page.getByRole("alert").filter({ hasText: "Automatic backups are off since" })).toBeVisible();

  // One box per alert text: the 1407 raised at each failed retry shows once, with how many times and when.
  const alerts = page.getByRole("alert").filter({ hasText: "Backup alert" });
  await expect(alerts).toHaveCount(2);
  await expect(alerts.nth(0)).toContainText(/\(\d+ times, first .+, last .+\): 1407 — /);
  await expect(alerts.nth(1)).toContainText(/\): 1401 — Maximum number of backup attempts reached/);

  // BACKUP INFO says the same, for programs and the CLI.
  const info = await trpcQuery(page, server, "backup.info");
  expect(info.nextBackupDate).toBeNull();
  expect(info.automaticBackupsOff).toMatchObject({ until: "until the server restarts or a manual backup succeeds" });
  const { secret } = await trpcMutate(page, server, "tokens.create", { name: "status", role: "viewer" });
  const child = spawn(CLI, ["status"], { env: { ...process.env, STRONGBOX_SERVER: server.url, STRONGBOX_TOKEN: secret }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  child.stdout.on("data", (d) => (stdout += d));
  expect(await new Promise((r) => child.on("close", r))).toBe(0);
  expect(stdout).toMatch(/Next backup:\s+off until the server restarts or a manual backup succeeds \(1401 at .+: Maximum number of backup attempts reached/);

  // Acknowledge all: every alert of every group at once.
  await page.getByRole("button", { name: "Acknowledge all" }).click();
  await expect(alerts).toHaveCount(0);
  expect((await trpcQuery(page, server, "automation.state")).alerts).toEqual([]);
  await page.reload();
  await expect(page.getByRole("alert").filter({ hasText: "Backup alert" })).toHaveCount(0);
});
