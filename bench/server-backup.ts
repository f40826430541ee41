// One Fast backup of the reference database through a real Strongbox server (the production build, as `npm start`
// runs it), started over the console's API: the peak RSS that counts for spec §12 is the server process's own,
// with Next.js and the engine together. Linux only (reads /proc/<pid>/status).
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
// @ts-expect-error plain .mjs helper without types
import { buildIsStale } from "../scripts/build-state.mjs";
// @ts-expect-error plain .mjs helper without types
import { SERVER_ENV, SERVER_NODE_FLAGS } from "../scripts/server-node-flags.mjs";

const root = path.resolve(import.meta.dirname, "..");
const next = path.join(root, "node_modules/next/dist/bin/next");

function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

export async function backupThroughServer(databaseDir: string): Promise<{ wallMs: number; peakRss: number; idleRss: number; status: number }> {
  if (buildIsStale(root, ".next")) {
    const b = spawnSync(process.execPath, [next, "build"], { cwd: root, stdio: "ignore", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
    if (b.status !== 0) throw new Error("next build failed");
  }
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-bench-server-"));
  const port = 3900 + Math.floor(Math.random() * 90);
  const url = `http://127.0.0.1:${port}`;
  const password = "bench-password";
  const server = spawn(process.execPath, [...SERVER_NODE_FLAGS, next, "start", "-H", "127.0.0.1", "-p", String(port)], {
    cwd: root, stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...SERVER_ENV, STRONGBOX_HOME: home, STRONGBOX_DATABASE: databaseDir, STRONGBOX_ADMIN_PASSWORD: password, NEXTAUTH_URL: url, NEXT_TELEMETRY_DISABLED: "1" },
  });
  let log = "";
  server.stdout!.on("data", (d) => (log += d));
  server.stderr!.on("data", (d) => (log += d));
  try {
    for (let i = 0; !log.includes("Console: http"); i++) {
      if (server.exitCode !== null || i > 300) throw new Error(`the server did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Sign in as next-auth's credentials flow does: CSRF token, then the callback, keeping the cookies.
    const jar = new Map<string, string>();
    const keep = (res: Response) => { for (const c of res.headers.getSetCookie()) { const [kv] = c.split(";"); const [k, v] = kv!.split("="); jar.set(k!, v!); } };
    const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const csrf = await fetch(`${url}/api/auth/csrf`);
    keep(csrf);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const signIn = await fetch(`${url}/api/auth/callback/credentials`, {
      method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookie() },
      body: new URLSearchParams({ csrfToken, username: "admin", password, json: "true" }),
    });
    keep(signIn);
    type Info = { running: unknown; lastBackupStatus: number | null; lastBackupDate: string | null };
    const info = async (): Promise<Info> => {
      const res = await fetch(`${url}/api/trpc/backup.info`, { headers: { cookie: cookie() } });
      if (!res.ok) throw new Error(`backup.info: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { result: { data: Info } }).result.data;
    };
    const before = (await info()).lastBackupDate;
    const idleRss = peakRss(server.pid!);
    const start = performance.now();
    const res = await fetch(`${url}/api/trpc/backup.start`, { method: "POST", headers: { cookie: cookie(), "content-type": "application/json" }, body: "{}" });
    if (!res.ok) throw new Error(`backup.start: ${res.status} ${await res.text()}`);
    // Done when nothing runs and the last backup is a new one.
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const now = await info();
      if (!now.running && now.lastBackupDate !== before) {
        return { wallMs: performance.now() - start, peakRss: peakRss(server.pid!), idleRss, status: now.lastBackupStatus ?? -1 };
      }
    }
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    fs.rmSync(home, { recursive: true, force: true });
  }
}
