import { test } from "@playwright/test";
import { login, startServer } from "./server";
test("shot", async ({ page }) => {
  const server = await startServer();
  try {
    await page.setViewportSize({ width: 1200, height: 1100 });
    await login(page, server);
    await page.goto(`${server.url}/settings`);
    await page.getByRole("radio", { name: "Weekly" }).check();
    await page.screenshot({ path: "/tmp/shot-scheduler.png", fullPage: true });
    await page.getByRole("tab", { name: "Configuration" }).click();
    await page.screenshot({ path: "/tmp/shot-config.png", fullPage: true });
    await page.getByRole("tab", { name: "Backup & Restore" }).click();
    await page.screenshot({ path: "/tmp/shot-br.png", fullPage: true });
  } finally { await server.stop(); }
});
