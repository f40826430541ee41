#!/usr/bin/env node
// `npm test`: unit and integration tests (vitest), then end-to-end tests in Debian's Chromium (Playwright).
// Installs Chromium, zip and unzip from Debian's packages when they are missing and we are root; otherwise stops
// with a message saying how. Ends with one "N passed, N failed" line for both suites together.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = process.env.STRONGBOX_CHROMIUM || "/usr/bin/chromium";

function ensureSystemPackages() {
  const missing = [];
  if (!fs.existsSync(CHROMIUM)) missing.push("chromium");
  for (const tool of ["zip", "unzip"]) if (spawnSync("which", [tool]).status !== 0) missing.push(tool);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    console.error(`The tests need ${missing.join(", ")}. Install them with: sudo apt-get install -y ${missing.join(" ")}`);
    process.exit(2);
  }
  console.log(`[test] Installing ${missing.join(", ")} from Debian's packages…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const run = (args) => spawnSync("apt-get", args, { stdio: "inherit", env }).status === 0;
  if (!run(["update"]) || !run(["install", "-y", "--no-install-recommends", ...missing])) {
    console.error(`Installing ${missing.join(", ")} failed. Install them by hand: apt-get install -y ${missing.join(" ")}`);
    process.exit(2);
  }
}

function readJson(file) {
  try { return JSON.parse(fs.readFileSync(file, "utf8")); } catch { return null; }
}

// The layer check first (fast): a forbidden import fails the run before any test starts.
{
  const r = spawnSync("npx", ["depcruise", "server", "app", "components", "--config", ".dependency-cruiser.cjs", "--output-type", "err"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    console.error("[test] The layer check failed (see .dependency-cruiser.cjs for the layers): fix the imports above.");
    process.exit(1);
  }
}

ensureSystemPackages();
fs.mkdirSync(path.join(root, "test-results"), { recursive: true });
const only = process.argv[2]; // "unit" or "e2e" to run one suite
let passed = 0, failed = 0, ok = true;

if (only !== "e2e") {
  const out = path.join(root, "test-results", "vitest.json");
  fs.rmSync(out, { force: true });
  const r = spawnSync("npx", ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${out}`], { cwd: root, stdio: "inherit" });
  const j = readJson(out);
  passed += j?.numPassedTests ?? 0;
  failed += j ? j.numFailedTests + (j.numRuntimeErrorTestSuites ?? 0) : 1;
  ok &&= r.status === 0;
}
if (only !== "unit") {
  const out = path.join(root, "test-results", "playwright.json");
  fs.rmSync(out, { force: true });
  const r = spawnSync("npx", ["playwright", "test"], { cwd: root, stdio: "inherit", env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: out } });
  const s = readJson(out)?.stats;
  passed += (s?.expected ?? 0) + (s?.flaky ?? 0);
  failed += s ? s.unexpected : 1;
  ok &&= r.status === 0;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(ok && failed === 0 ? 0 : 1);
