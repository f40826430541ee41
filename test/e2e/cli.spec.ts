// The BACKUP command from a program (docs/roles-and-api.md): an admin creates API tokens on the Tokens page (the secret is shown
// once), then bin/strongbox drives a real server with them — backup with progress, status, stop, and the exit
// codes for failures, usage errors, refused tokens and an unreachable server.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { login, startServer, type TestServer } from "./server";

const CLI = path.resolve(import.meta.dirname, "../../bin/strongbox");

let server: TestServer;
let operatorSecret = "";
// Test-only slowdown (e2e build only): the demo backup lasts a few seconds, so progress shows and Stop lands.
test.beforeAll(async () => { server = await startServer({ throttleBytesPerSecond: 300_000 }); });
test.afterAll(async () => { await server?.stop(); });
test.describe.configure({ mode: "serial" });

interface Run { code: number | null; stdout: string; stderr: string }

/** Runs the CLI (through its shebang, as a user would); `onStdout` sees the output as it comes. */
function cli(args: string[], token: string | null, opts: { server?: string; onStdout?: (all: string) => void } = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, STRONGBOX_SERVER: opts.server ?? server.url };
  delete env.STRONGBOX_TOKEN;
  if (token !== null) env.STRONGBOX_TOKEN = token;
  const child = spawn(CLI, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  child.stdout.on("data", (d) => { stdout += d; opts.onStdout?.(stdout); });
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

async function createTokenOnPage(page: Page, name: string, role: string): Promise<string> {
  const form = page.getByRole("region", { name: "Create a token" });
  await form.getByLabel("Token name").fill(name);
  await form.getByLabel("Role").selectOption(role);
  await form.getByRole("button", { name: "Create token" }).click();
  const secret = page.getByRole("region", { name: "New token" }).getByRole("textbox", { name: "Token secret" });
  await expect(secret).toHaveValue(/^sbx_[A-Za-z0-9_-]{43}$/);
  return secret.inputValue();
}

async function createTokenByApi(page: Page, name: string, role: string): Promise<string> {
  const res = await page.request.post(`${server.url}/api/trpc/tokens.create`, { data: { name, role } });
  expect(res.ok()).toBe(true);
  return (await res.json()).result.data.secret;
}

const archives = () => fs.readdirSync(server.destination).filter((n) => /\[\d{4}\]\.zip$/.test(n)).sort();

test("an admin creates a token on the Tokens page; its secret is shown only once", async ({ page }) => {
  await login(page, server);
  await page.getByRole("link", { name: "Tokens" }).click();
  await expect(page.getByRole("heading", { name: "API tokens", level: 1 })).toBeVisible();
  operatorSecret = await createTokenOnPage(page, "ci", "operator");
  await expect(page.getByRole("region", { name: "New token" })).toContainText("shown only this once");
  const row = page.getByRole("row").filter({ hasText: "ci" });
  await expect(row).toContainText("operator");
  await expect(row).toContainText("never");
  // Once dismissed (or after a reload) the secret is nowhere: the server keeps only its hash.
  await page.getByRole("button", { name: "Done" }).click();
  await expect(page.getByRole("region", { name: "New token" })).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole("row").filter({ hasText: "ci" })).toBeVisible();
  expect(await page.content()).not.toContain(operatorSecret);
  const list = await page.request.get(`${server.url}/api/trpc/tokens.list`);
  expect(await list.text()).not.toContain(operatorSecret.slice(4));
});

test("strongbox backup prints progress, waits for the end and exits 0; the archive is on disk", async ({ page }) => {
  const run = await cli(["backup"], operatorSecret);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  const progress = run.stdout.split("\n").filter((l) => /^\[archive\]\s+\d+%/.test(l));
  expect(progress.length).toBeGreaterThanOrEqual(2);
  expect(run.stdout).toMatch(/Backup #1 finished: status 0 — OK/);
  expect(archives()).toEqual(["Demo[0001].zip"]);
  // Recorded as the BACKUP command by the token's name.
  const history = JSON.parse(fs.readFileSync(path.join(server.destination, "backupHistory.json"), "utf8"));
  expect(history[path.join(server.databaseDir, "Project")]).toEqual([expect.objectContaining({ backupNumber: 1, status: 0, trigger: "command", user: "ci" })]);
  // The Tokens page shows the use.
  await login(page, server);
  await page.goto(`${server.url}/tokens`);
  await expect(page.getByRole("row").filter({ hasText: "ci" })).not.toContainText("never");
});

test("strongbox status prints BACKUP INFO, also with a viewer token", async ({ page }) => {
  await login(page, server);
  const viewer = await createTokenByApi(page, "watcher", "viewer");
  for (const token of [operatorSecret, viewer]) {
    const run = await cli(["status"], token);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Last backup:\s+.+\(#1\)/);
    expect(run.stdout).toMatch(/Last status:\s+0 — OK/);
    expect(run.stdout).toMatch(/History:\s+.*backupHistory\.json/);
    expect(run.stdout).toMatch(/Running:\s+no/);
  }
  // A viewer may not start a backup: not authorised (3), and nothing started.
  const refused = await cli(["backup"], viewer);
  expect(refused.code).toBe(3);
  expect(refused.stderr).toMatch(/Not authorised: .*operator/);
  expect(archives()).toEqual(["Demo[0001].zip"]);
});

test("strongbox stop during a CLI backup: the backup command exits 1 with status 1406", async () => {
  let resolveStarted: () => void;
  const archiving = new Promise<void>((r) => (resolveStarted = r));
  const backup = cli(["backup"], operatorSecret, { onStdout: (out) => { if (/\[archive\]/.test(out)) resolveStarted(); } });
  await archiving;
  const stop = await cli(["stop"], operatorSecret);
  expect(stop.code).toBe(0);
  const run = await backup;
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/failed: status 1406 — Backup canceled by user/);
  expect(archives()).toEqual(["Demo[0001].zip"]);
  // Nothing runs now: stop has nothing to stop.
  expect((await cli(["stop"], operatorSecret)).code).toBe(1);
});

test("wrong and revoked tokens are refused with exit code 3", async ({ page }) => {
  const wrong = await cli(["status"], "sbx_" + "A".repeat(43));
  expect(wrong.code).toBe(3);
  expect(wrong.stderr).toMatch(/Not authorised: This API token is not valid/);

  await login(page, server);
  await page.goto(`${server.url}/tokens`);
  const secret = await createTokenOnPage(page, "temp", "operator");
  expect((await cli(["status"], secret)).code).toBe(0);
  // Revoking asks for confirmation first.
  await page.getByRole("button", { name: "Revoke temp" }).click();
  await page.getByRole("group", { name: "Confirm revoking temp" }).getByRole("button", { name: "Yes, revoke temp" }).click();
  await expect(page.getByRole("row").filter({ hasText: "temp" })).toHaveCount(0);
  const revoked = await cli(["status"], secret);
  expect(revoked.code).toBe(3);
  expect(revoked.stderr).toMatch(/not valid/);
});

test("usage errors exit 2; an unreachable server exits 3", async () => {
  const unknown = await cli(["frobnicate"], operatorSecret);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("Unknown command: frobnicate");
  expect(unknown.stderr).toContain("Usage: strongbox");
  const flag = await cli(["status", "--token", operatorSecret], null);
  expect(flag.code).toBe(2);
  expect(flag.stderr).toContain("STRONGBOX_TOKEN");
  const noToken = await cli(["status"], null);
  expect(noToken.code).toBe(2);

  // A port nobody listens on.
  const port = await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
  const down = await cli(["status"], operatorSecret, { server: `http://127.0.0.1:${port}` });
  expect(down.code).toBe(3);
  expect(down.stderr).toMatch(/Cannot connect to the Strongbox server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
});
