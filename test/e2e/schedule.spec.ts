// A scheduled backup firing in a running server, on a destination that can't be written (a path under a regular
// file: permission bits prove nothing to root): retry after the delay, then an alert shown in the browser until
// acknowledged, and sent to a webhook served by the test.
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { login, startServer, type TestServer } from "./server";

let server: TestServer | null = null;
let hook: http.Server | null = null;
test.afterAll(async () => { await server?.stop(); hook?.close(); });

test("a scheduled backup that can't be made is retried, then alerts every console and the webhook", async ({ page }) => {
  test.setTimeout(180_000);
  const received: Array<Record<string, unknown>> = [];
  hook = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => { received.push(JSON.parse(body)); res.end(); });
  });
  await new Promise<void>((r) => hook!.listen(0, "127.0.0.1", r));
  const webhookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`;

  // First run: the demo database is created; an admin sets the webhook (a console setting, in console.sqlite).
  const first = await startServer();
  await login(page, first);
  await page.getByRole("link", { name: "Settings", exact: true }).click();
  await page.getByRole("tab", { name: "Notifications" }).click();
  const notifications = page.getByRole("tabpanel", { name: "Notifications" });
  await notifications.getByLabel("Alert webhook URL").fill(webhookUrl);
  // The test's receiver is on loopback, which the webhook refuses unless allowed: said under the field, nothing saved.
  await page.getByRole("tab", { name: "Scheduler" }).click();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("tab", { name: "Notifications" })).toHaveAttribute("aria-selected", "true");
  await expect(notifications).toContainText("127.0.0.1 is a loopback, link-local, private or reserved address");
  await notifications.getByLabel("Allow private and loopback addresses").check();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Settings saved." })).toContainText(`Alerts will be sent to ${webhookUrl}`);
  await page.getByRole("tab", { name: "Scheduler" }).click();
  // The cron field previews its next five runs in plain words.
  await page.getByRole("radio", { name: "Cron" }).check();
  await page.getByLabel("Cron expression").fill("30 2 * * 1-5");
  const preview = page.getByRole("region", { name: "Schedule preview" });
  await expect(preview).toContainText("02:30");
  await expect(preview.getByRole("listitem")).toHaveCount(5);
  await first.stop({ keepHome: true });

  // Every minute, to a destination under a regular file, retried 2 s after a failure.
  const blocker = path.join(first.home, "not-a-folder");
  fs.writeFileSync(blocker, "a file where the destination folder should be");
  const settingsFile = path.join(first.databaseDir, "Settings/Backup.4DSettings");
  const xml = fs.readFileSync(settingsFile, "utf8")
    .replace(/<Frequency>\w+<\/Frequency>/, "<Frequency>Cron</Frequency><Cron>* * * * *</Cron>")
    .replace(/<TryToBackupAfter>[^<]*<\/TryToBackupAfter>/, "<TryToBackupAfter>0000-00-00T00:00:02.000</TryToBackupAfter>")
    .replace(/<DestinationFolder>[^<]*<\/DestinationFolder>/, `<DestinationFolder>${path.join(blocker, "backups")}</DestinationFolder>`);
  fs.writeFileSync(settingsFile, xml);

  server = await startServer({ home: first.home });
  await page.context().clearCookies(); // cookies don't tell ports apart: sign in to this server afresh
  await login(page, server);
  await expect(page.getByRole("region", { name: "Next backup", exact: true })).not.toContainText("None scheduled");
  const alert = page.getByRole("alert").filter({ hasText: "Backup alert" });
  await expect(alert).toContainText("1407", { timeout: 90_000 });
  await expect.poll(() => received.length).toBe(1);
  expect(received[0]).toMatchObject({ source: "strongbox", statusCode: 1407, database: server.databaseDir });

  const journal = fs.readFileSync(path.join(server.databaseDir, "Logs/Backup Journal[001].txt"), "utf8");
  expect(journal).toMatch(/\*\*\* Full Backup aborted\nTrigger : scheduler\n/);
  expect(journal).toMatch(/\*\*\* Full Backup aborted\nTrigger : retry\n/);

  await alert.getByRole("button", { name: "Acknowledge" }).click();
  await expect(alert).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole("alert").filter({ hasText: "Backup alert" })).toHaveCount(0);
});
