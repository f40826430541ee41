// A log file the server can't take at start shows at once on the Backup and Data pages, with what to do — not
// only in the server's output until a write or a backup fails: one out of step with the data file (1416: an
// older copy put back) and a damaged one (1403). Writes are refused meanwhile, with the same reason.
import fs from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { trpcMutate } from "./api";
import { login, startServer, type TestServer } from "./server";

let server: TestServer | null = null;
// Three server starts in one test.
test.setTimeout(240_000);
test.afterAll(async () => { await server?.stop(); });

async function expectBanner(page: Page, title: string, text: RegExp) {
  for (const where of ["/", "/data"]) {
    await page.goto(`${server!.url}${where}`);
    const banner = page.getByRole("alert", { name: "Log file problem" });
    await expect(banner).toContainText(title);
    await expect(banner).toContainText(text);
    await expect(banner).toContainText(/What to do: .*restart the server/);
    await expect(banner).toContainText("every write on the Data page and every backup is refused");
  }
}

test("a log file out of step (1416) and a damaged one (1403) show on the Backup and Data pages at once", async ({ page }) => {
  server = await startServer();
  await login(page, server);
  await expect(page.getByRole("heading", { name: "Backup", exact: true })).toBeVisible();
  await expect(page.getByRole("alert", { name: "Log file problem" })).toHaveCount(0);
  const logFile = path.join(server.databaseDir, "Data", "data.journal");
  // A copy holding operations (a log with none would be taken as a fresh one, rightly: nothing is missing from it).
  await trpcMutate(page, server, "data.insert", { table: "customers", values: { name: "In both logs", created_at: "2025-02-03T04:05:06Z" } });
  const olderCopy = fs.readFileSync(logFile);
  await trpcMutate(page, server, "data.insert", { table: "customers", values: { name: "Only in the newer log", created_at: "2025-02-03T04:05:06Z" } });
  await server.stop({ keepHome: true });

  // An older copy of the log put back: it ends before the data file.
  fs.writeFileSync(logFile, olderCopy);
  server = await startServer({ home: server.home });
  await page.context().clearCookies(); // cookies don't tell ports apart: sign in to this server afresh
  await login(page, server);
  await expectBanner(page, "The log file does not belong to this data file (1416)", /ends at operation \d+ but the data file's last operation is \d+/);
  const refused = await page.request.post(`${server.url}/api/trpc/data.insert`, { data: { table: "customers", values: { name: "x", created_at: "2025-01-01T00:00:00Z" } } });
  expect(await refused.text()).toContain("ends at operation");
  await server.stop({ keepHome: true });

  // A damaged log.
  fs.writeFileSync(logFile, "this is not a log file\n");
  server = await startServer({ home: server.home });
  await page.context().clearCookies(); // cookies don't tell ports apart: sign in to this server afresh
  await login(page, server);
  await expectBanner(page, "The log file is damaged or can't be read (1403)", /data\.journal/);
});
