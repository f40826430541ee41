// The live progress panel never looks stale: when the console's event stream drops mid-backup the page says it is
// reconnecting (never "● Live"), reads the state meanwhile, and shows the outcome as soon as the server has it —
// here while every attempt to reopen the stream is refused; once the stream is back, "● Live" again.
import { expect, test } from "@playwright/test";
import { historyEntries } from "./api";
import { login, startServer, type TestServer } from "./server";

let server: TestServer;
// The test-only slowdown makes the demo's backup last long enough to drop the stream in the middle of it; the
// server ends every event stream after 3 s (test-only too), as a network drop would, and the browser reopens it.
test.beforeAll(async () => { server = await startServer({ throttleBytesPerSecond: 200_000, env: { STRONGBOX_TEST_STREAM_MAX_MS: "3000" } }); });
test.afterAll(async () => { await server?.stop(); });

test("a stream dropped mid-backup shows Reconnecting, and the outcome the moment the server has it", async ({ page }) => {
  await login(page, server);
  await expect(page.getByText("● Live")).toBeVisible();
  await page.getByRole("button", { name: "Backup" }).click();
  const bar = page.getByRole("progressbar", { name: "Backup progress" });
  await expect(bar).toBeVisible();

  // Every reopening of the event stream is refused from now on; the open one ends within 3 s.
  await page.route("**/api/trpc/events.onEvents**", (route) => route.abort("connectionrefused"));
  await expect(page.getByText("○ Reconnecting…")).toBeVisible();
  await expect(page.getByText("● Live")).toHaveCount(0);
  await expect(bar).toBeVisible(); // the backup still runs

  // The backup ends on the server while the stream is still down: the page shows its outcome anyway.
  await expect.poll(() => historyEntries(server).length, { timeout: 60_000 }).toBe(1);
  await expect(page.getByRole("status").filter({ hasText: "Backup #1" })).toContainText("finished: 0 — OK");
  await expect(bar).toHaveCount(0);
  await expect(page.getByText("○ Reconnecting…")).toBeVisible();

  // The stream may open again: the page is Live, with the same outcome.
  await page.unroute("**/api/trpc/events.onEvents**");
  await expect(page.getByText("● Live")).toBeVisible({ timeout: 40_000 });
  await expect(page.getByRole("status").filter({ hasText: "Backup #1" })).toContainText("finished: 0 — OK");
});
