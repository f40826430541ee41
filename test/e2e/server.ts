// Starts a real Strongbox server (next start on the e2e build) on a fresh home and a free port, for one test file.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Page } from "@playwright/test";
// @ts-expect-error plain .mjs helper without types
import { SERVER_ENV, SERVER_NODE_FLAGS } from "../../scripts/server-node-flags.mjs";

export const ADMIN_PASSWORD = "admin-password-e2e";
const root = path.resolve(import.meta.dirname, "../..");

export interface TestServer {
  url: string;
  home: string;
  databaseDir: string;
  destination: string;
  output: () => string;
  /**
   * Stops the server (SIGTERM) and returns how it exited; the home is removed unless `keepHome` (to start it again
   * on the same state).
   */
  stop: (opts?: { keepHome?: boolean }) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export async function startServer(opts: { throttleBytesPerSecond?: number; env?: Record<string, string>; home?: string } = {}): Promise<TestServer> {
  const home = opts.home ?? fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-e2e-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = "";
  const child: ChildProcess = spawn(process.execPath, [...SERVER_NODE_FLAGS, path.join(root, "node_modules/next/dist/bin/next"), "start", "-H", "127.0.0.1", "-p", String(port)], {
    cwd: root,
    env: {
      ...process.env,
      ...SERVER_ENV,
      STRONGBOX_HOME: home,
      STRONGBOX_ADMIN_PASSWORD: ADMIN_PASSWORD,
      STRONGBOX_DIST_DIR: process.env.STRONGBOX_E2E_DIST || ".next-e2e",
      STRONGBOX_APP_ROOT: root,
      NEXTAUTH_URL: url,
      HOST: "127.0.0.1",
      PORT: String(port),
      NEXT_TELEMETRY_DISABLED: "1",
      // The small demo: made in a second, so the many servers the tests start stay quick (npm start makes the large one).
      STRONGBOX_DEMO_SIZE: "small",
      ...(opts.throttleBytesPerSecond ? { STRONGBOX_TEST_THROTTLE_BPS: String(opts.throttleBytesPerSecond) } : {}),
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const deadline = Date.now() + 60_000;
  while (!/Console: http/.test(log)) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${log}`);
    if (Date.now() > deadline) throw new Error(`server did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url, home,
    databaseDir: path.join(home, "database"),
    destination: path.join(home, "backups"),
    output: () => log,
    stop: async ({ keepHome = false } = {}) => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        // The server's own fallback ends a stop that hangs (exit code 1); this only guards the suite against worse.
        const force = setTimeout(() => child.kill("SIGKILL"), 30_000);
        await exited;
        clearTimeout(force);
      }
      if (!keepHome) fs.rmSync(home, { recursive: true, force: true });
      return { code: child.exitCode, signal: child.signalCode };
    },
  };
}

export async function login(page: Page, server: TestServer, username = "admin", password = ADMIN_PASSWORD): Promise<void> {
  await page.goto(`${server.url}/login`);
  await page.getByLabel("User name").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${server.url}/`);
}
