// Whether a Next build in `distDir` is older than the sources it was made from (so start and test rebuild only
// when something changed).
import fs from "node:fs";
import path from "node:path";

const SOURCES = ["app", "components", "server", "public", "instrumentation.ts", "next.config.js", "package-lock.json", "postcss.config.mjs"];

function newestMtime(p) {
  let st;
  try { st = fs.statSync(p); } catch { return 0; }
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of fs.readdirSync(p)) max = Math.max(max, newestMtime(path.join(p, name)));
  return max;
}

export function buildIsStale(root, distDir) {
  let built;
  try { built = fs.statSync(path.join(root, distDir, "BUILD_ID")).mtimeMs; } catch { return true; }
  return SOURCES.some((s) => newestMtime(path.join(root, s)) > built);
}
