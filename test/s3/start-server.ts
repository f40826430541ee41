// Starts the S3 test server for a test run — Ceph's RADOS Gateway by scripts/s3/s3-up.sh on free ports with its
// state under os.tmpdir(), stopped (its state deleted) by the returned `down` — or takes a running one from
// STRONGBOX_S3_ENDPOINT (see global-setup.ts). Shared by vitest's "s3" project and the Playwright run: neither
// skips its off-site tests when the server can't be started; `error` says why, and each such test fails with it.
// No vitest or Playwright import here.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
/** Where the off-site tests find their S3 server (endpoint, credentials) or why there is none. */
export interface S3TestServer {
  endpoint: string;
  region: string;
  forcePathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
  /** The s3-up.sh state dir (to stop and start the gateway); null for a server we did not start and know nothing of. */
  stateDir: string | null;
  scriptsDir: string;
  /** Why there is no server: every test that needs one fails with this. */
  error: string | null;
}

const SCRIPTS = path.resolve(import.meta.dirname, "../../scripts/s3");
/** Packages may have to be installed first on a fresh machine (about 40 s), then the cluster starts (about 10 s). */
const START_TIMEOUT_MS = 5 * 60_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function run(script: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", [path.join(SCRIPTS, script), ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGTERM"), START_TIMEOUT_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function readEnvFile(file: string): Record<string, string> {
  return Object.fromEntries(fs.readFileSync(file, "utf8").split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

export async function startS3TestServer(): Promise<{ server: S3TestServer; down: (() => void) | null }> {
  const env = process.env;
  if (env.STRONGBOX_S3_ENDPOINT) {
    const accessKeyId = env.STRONGBOX_S3_ACCESS_KEY ?? env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.STRONGBOX_S3_SECRET_KEY ?? env.AWS_SECRET_ACCESS_KEY;
    return { down: null, server: {
      endpoint: env.STRONGBOX_S3_ENDPOINT, region: env.STRONGBOX_S3_REGION ?? "us-east-1", forcePathStyle: env.STRONGBOX_S3_PATH_STYLE !== "0",
      accessKeyId: accessKeyId ?? "", secretAccessKey: secretAccessKey ?? "", stateDir: env.STRONGBOX_S3_STATE_DIR ?? null, scriptsDir: SCRIPTS,
      error: accessKeyId && secretAccessKey ? null
        : "STRONGBOX_S3_ENDPOINT is set but not its credentials: set STRONGBOX_S3_ACCESS_KEY and STRONGBOX_S3_SECRET_KEY (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).",
    } };
  }
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-s3-"));
  const t0 = Date.now();
  const up = await run("s3-up.sh", [stateDir], { S3_PORT: String(await freePort()), S3_MON_PORT: String(await freePort()) });
  const down = () => {
    const r = spawnSync("bash", [path.join(SCRIPTS, "s3-down.sh"), stateDir], { encoding: "utf8" });
    if (r.status !== 0) console.error(`[s3] s3-down.sh ${stateDir} failed:\n${r.stderr}`);
  };
  const envFile = path.join(stateDir, "env");
  if (up.code !== 0 || !fs.existsSync(envFile)) {
    const tail = up.output.trim().split("\n").slice(-25).join("\n");
    return { down, server: {
      endpoint: "", region: "", forcePathStyle: true, accessKeyId: "", secretAccessKey: "", stateDir: null, scriptsDir: SCRIPTS,
      error: `The S3 test server (Ceph's RADOS Gateway, scripts/s3/s3-up.sh) could not be started (exit ${up.code}); the off-site tests need it ` +
        `(or set STRONGBOX_S3_ENDPOINT to a running one). Its output:\n${tail}`,
    } };
  }
  const e = readEnvFile(envFile);
  console.log(`[s3] RADOS Gateway up at ${e.S3_ENDPOINT} in ${((Date.now() - t0) / 1000).toFixed(1)} s (state: ${stateDir})`);
  return { down, server: {
    endpoint: e.S3_ENDPOINT!, region: e.S3_REGION!, forcePathStyle: true, accessKeyId: e.S3_ACCESS_KEY!, secretAccessKey: e.S3_SECRET_KEY!,
    stateDir, scriptsDir: SCRIPTS, error: null,
  } };
}
