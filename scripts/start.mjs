#!/usr/bin/env node
// `npm start`: makes the production build when it is missing or older than the sources, then serves the console
// with `next start -H HOST -p PORT` (next start ignores HOST by itself) and NEXTAUTH_URL matching the real port.
import { spawn, spawnSync } from "node:child_process";
import { SERVER_ENV, SERVER_NODE_FLAGS } from "./server-node-flags.mjs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildIsStale } from "./build-state.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const next = path.join(root, "node_modules", "next", "dist", "bin", "next");
const host = process.env.HOST || "127.0.0.1";
const port = process.env.PORT || "3000";
const distDir = process.env.STRONGBOX_DIST_DIR || ".next";
const env = {
  ...process.env,
  ...SERVER_ENV,
  HOST: host,
  PORT: port,
  NEXTAUTH_URL: process.env.NEXTAUTH_URL || `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
  STRONGBOX_APP_ROOT: root,
  NEXT_TELEMETRY_DISABLED: "1",
};

if (buildIsStale(root, distDir)) {
  console.log("[strongbox] Building the console (first start or changed sources)…");
  const build = spawnSync(process.execPath, [next, "build"], { cwd: root, env, stdio: "inherit" });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const server = spawn(process.execPath, [...SERVER_NODE_FLAGS, next, "start", "-H", host, "-p", port], { cwd: root, env, stdio: "inherit" });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.kill(sig));
server.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
