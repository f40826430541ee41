// Reusable bench helpers: run a command measuring wall time and peak RSS, warm the page cache,
// exchange results with child processes, and print side-by-side tables.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export interface Measured {
  wallMs: number;
  /** Peak resident set of the child, from /usr/bin/time (null when unavailable). */
  maxRssBytes: number | null;
  code: number | null;
  stdout: string;
  stderr: string;
}

const TIME = "/usr/bin/time";
const MARK = "__MEASURE__";

/** Runs `cmd` to completion; wall time measured here, peak RSS by GNU time when present. */
export function measureCommand(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Measured> {
  const haveTime = fs.existsSync(TIME);
  const [file, argv] = haveTime ? [TIME, ["-f", `${MARK} %M`, cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(file, argv, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    child.on("error", reject);
    child.on("close", (code) => {
      const wallMs = performance.now() - start;
      const m = new RegExp(`${MARK} (\\d+)`).exec(stderr);
      stderr = stderr.replace(new RegExp(`^${MARK}.*$`, "m"), "").trim();
      resolve({ wallMs, maxRssBytes: m ? Number(m[1]) * 1024 : null, code, stdout, stderr });
    });
  });
}

/** Child side: print a JSON report on one marked stdout line. */
export function report(data: unknown): void {
  process.stdout.write(`${MARK}${JSON.stringify(data)}\n`);
}
/** Parent side: the report a child printed with `report()`. */
export function parseReport<T>(stdout: string): T {
  const line = stdout.split("\n").find((l) => l.startsWith(MARK));
  if (!line) throw new Error(`child printed no report:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice(MARK.length)) as T;
}

/** Peak RSS of the current process in bytes (Linux reports maxRSS in KiB). */
export function selfMaxRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Reads every file under `roots` once so all contenders start with the same (warm) page cache. */
export async function warmPageCache(roots: string[]): Promise<number> {
  let bytes = 0;
  const buf = Buffer.allocUnsafe(1 << 20);
  const walk = async (p: string): Promise<void> => {
    const st = await fs.promises.lstat(p);
    if (st.isDirectory()) {
      for (const name of await fs.promises.readdir(p)) await walk(path.join(p, name));
    } else if (st.isFile()) {
      const fh = await fs.promises.open(p, "r");
      try {
        for (;;) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, null);
          if (!bytesRead) break;
          bytes += bytesRead;
        }
      } finally {
        await fh.close();
      }
    }
  };
  for (const r of roots) await walk(r);
  return bytes;
}

/** Runs a tsx script in a child node process (so its RSS is its own), measured. */
export function measureTsx(script: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Measured> {
  return measureCommand(process.execPath, ["--import", "tsx", script, ...args], opts);
}

export const fmtMB = (b: number | null | undefined) => (b == null ? "n/a" : `${(b / 1048576).toFixed(1)} MiB`);
export const fmtS = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Plain text table: first row's keys are the columns. */
export function table(rows: Array<Record<string, string | number>>): string {
  if (!rows.length) return "";
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? "").length)));
  const line = (vals: string[]) => vals.map((v, i) => (i ? v.padStart(width[i]!) : v.padEnd(width[i]!))).join("  ");
  return [line(cols), line(width.map((w) => "-".repeat(w))), ...rows.map((r) => line(cols.map((c) => String(r[c] ?? ""))))].join("\n");
}

/** `zip -r -q -LEVEL` of `paths` (relative to `cwd`) into `out`, measured: the baseline of every bench. */
export async function zipBaseline(cwd: string, paths: string[], level: number, out: string): Promise<{ wallMs: number; size: number; rss: number | null }> {
  fs.rmSync(out, { force: true }); // zip -r would update an existing archive
  const m = await measureCommand("zip", ["-r", "-q", `-${level}`, out, ...paths], { cwd });
  if (m.code !== 0) throw new Error(`zip failed (${m.code}): ${m.stderr}`);
  return { wallMs: m.wallMs, size: fs.statSync(out).size, rss: m.maxRssBytes };
}
