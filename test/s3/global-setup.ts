// vitest globalSetup of the "s3" project: a real S3 server for the off-site tests — Ceph's RADOS Gateway, started
// by scripts/s3/s3-up.sh on free ports with its state under os.tmpdir(), and stopped (its state deleted) after the
// run. If the server can't be started the tests are not skipped: each one fails with the reason.
//
// To keep one server running between runs (saves ~10 s a run), start it yourself and point the tests at it:
//   S3_STATE_DIR=/tmp/my-s3 S3_PORT=7490 bash scripts/s3/s3-up.sh
//   STRONGBOX_S3_ENDPOINT=http://127.0.0.1:7490 STRONGBOX_S3_ACCESS_KEY=… STRONGBOX_S3_SECRET_KEY=… \
//   STRONGBOX_S3_STATE_DIR=/tmp/my-s3 npx vitest run --project s3
// (keys from /tmp/my-s3/env; STRONGBOX_S3_STATE_DIR lets the gateway-restart test stop and start it; optional
// STRONGBOX_S3_REGION, STRONGBOX_S3_PATH_STYLE=0). Such a server is left running after the tests.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import type { S3TestServer } from "./s3-server";

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

export default async function setup(project: TestProject): Promise<(() => void) | void> {
  const env = process.env;
  if (env.STRONGBOX_S3_ENDPOINT) {
    const accessKeyId = env.STRONGBOX_S3_ACCESS_KEY ?? env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.STRONGBOX_S3_SECRET_KEY ?? env.AWS_SECRET_ACCESS_KEY;
    project.provide("s3", {
      endpoint: env.STRONGBOX_S3_ENDPOINT, region: env.STRONGBOX_S3_REGION ?? "us-east-1", forcePathStyle: env.STRONGBOX_S3_PATH_STYLE !== "0",
      accessKeyId: accessKeyId ?? "", secretAccessKey: secretAccessKey ?? "", stateDir: env.STRONGBOX_S3_STATE_DIR ?? null, scriptsDir: SCRIPTS,
      error: accessKeyId && secretAccessKey ? null
        : "STRONGBOX_S3_ENDPOINT is set but not its credentials: set STRONGBOX_S3_ACCESS_KEY and STRONGBOX_S3_SECRET_KEY (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).",
    } satisfies S3TestServer);
    return;
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
    project.provide("s3", {
      endpoint: "", region: "", forcePathStyle: true, accessKeyId: "", secretAccessKey: "", stateDir: null, scriptsDir: SCRIPTS,
      error: `The S3 test server (Ceph's RADOS Gateway, scripts/s3/s3-up.sh) could not be started (exit ${up.code}); the off-site tests need it ` +
        `(or set STRONGBOX_S3_ENDPOINT to a running one). Its output:\n${tail}`,
    } satisfies S3TestServer);
    return down;
  }
  const e = readEnvFile(envFile);
  console.log(`[s3] RADOS Gateway up at ${e.S3_ENDPOINT} in ${((Date.now() - t0) / 1000).toFixed(1)} s (state: ${stateDir})`);
  project.provide("s3", {
    endpoint: e.S3_ENDPOINT!, region: e.S3_REGION!, forcePathStyle: true, accessKeyId: e.S3_ACCESS_KEY!, secretAccessKey: e.S3_SECRET_KEY!,
    stateDir, scriptsDir: SCRIPTS, error: null,
  } satisfies S3TestServer);
  return down;
}
