// Backups through a real Strongbox server (the production build, as `npm start` runs it), started over the
// console's API: the peak RSS that counts for docs/performance.md is the server process's own, with Next.js and the engine
// together. Two cases: one Fast backup of the reference database on an idle server, and the loaded case — viewers
// holding the console's event stream open, writers going through the data API, several backups in a row — which
// also reports what the server keeps after them. Linux only (reads /proc/<pid>/status).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
// @ts-expect-error plain .mjs helper without types
import { buildIsStale } from "../scripts/build-state.mjs";
// @ts-expect-error plain .mjs helper without types
import { SERVER_ENV, SERVER_NODE_FLAGS } from "../scripts/server-node-flags.mjs";

const root = path.resolve(import.meta.dirname, "..");
const next = path.join(root, "node_modules/next/dist/bin/next");

/** Resident set (VmRSS) and its peak so far (VmHWM) of a process, in bytes. */
function rssOf(pid: number): { now: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { now: kb("VmRSS"), peak: kb("VmHWM") };
}

type Info = { running: unknown; lastBackupStatus: number | null; lastBackupDate: string | null };

/** A production server on its own home, signed in as the admin. */
class BenchServer {
  private constructor(readonly url: string, private readonly child: ChildProcess, private readonly home: string, private readonly cookie: string) {}

  static async start(databaseDir: string): Promise<BenchServer> {
    if (buildIsStale(root, ".next")) {
      const b = spawnSync(process.execPath, [next, "build"], { cwd: root, stdio: "ignore", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
      if (b.status !== 0) throw new Error("next build failed");
    }
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-bench-server-"));
    const port = 3900 + Math.floor(Math.random() * 90);
    const url = `http://127.0.0.1:${port}`;
    const password = "bench-password";
    const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, next, "start", "-H", "127.0.0.1", "-p", String(port)], {
      cwd: root, stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...SERVER_ENV, STRONGBOX_HOME: home, STRONGBOX_DATABASE: databaseDir, STRONGBOX_ADMIN_PASSWORD: password, NEXTAUTH_URL: url, NEXT_TELEMETRY_DISABLED: "1" },
    });
    let log = "";
    child.stdout!.on("data", (d) => (log += d));
    child.stderr!.on("data", (d) => (log += d));
    for (let i = 0; !log.includes("Console: http"); i++) {
      if (child.exitCode !== null || i > 300) throw new Error(`the server did not start:\n${log}`);
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
    return new BenchServer(url, child, home, cookie());
  }

  rss(): { now: number; peak: number } {
    return rssOf(this.child.pid!);
  }

  call(proc: string, init: { body?: unknown; signal?: AbortSignal; accept?: string } = {}): Promise<Response> {
    return fetch(`${this.url}/api/trpc/${proc}`, {
      method: init.body === undefined ? "GET" : "POST", signal: init.signal,
      headers: { cookie: this.cookie, ...(init.body === undefined ? {} : { "content-type": "application/json" }), ...(init.accept ? { accept: init.accept } : {}) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  }

  async info(): Promise<Info> {
    const res = await this.call("backup.info");
    if (!res.ok) throw new Error(`backup.info: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { result: { data: Info } }).result.data;
  }

  /** Starts a backup and resolves its status once nothing runs and the last backup is a new one. */
  async backup(): Promise<number> {
    const before = (await this.info()).lastBackupDate;
    const res = await this.call("backup.start", { body: {} });
    if (!res.ok) throw new Error(`backup.start: ${res.status} ${await res.text()}`);
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const now = await this.info();
      if (!now.running && now.lastBackupDate !== before) return now.lastBackupStatus ?? -1;
    }
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill("SIGTERM");
    await exited;
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}

export async function backupThroughServer(databaseDir: string): Promise<{ wallMs: number; peakRss: number; idleRss: number; status: number }> {
  const server = await BenchServer.start(databaseDir);
  try {
    const idleRss = server.rss().peak;
    const start = performance.now();
    const status = await server.backup();
    return { wallMs: performance.now() - start, peakRss: server.rss().peak, idleRss, status };
  } finally {
    await server.stop();
  }
}

export interface LoadedRun {
  viewers: number;
  writers: number;
  backups: number;
  statuses: number[];
  wallMs: number;
  idleRss: number;
  /** The highest resident set of the server process during the run (VmHWM). */
  peakRss: number;
  /** Its resident set once the last backup ended, the writers stopped and the viewers left (after `settleMs`). */
  afterRss: number;
  settleMs: number;
  writes: number;
  failedWrites: number;
}

/**
 * The loaded case: `viewers` event streams open (as that many console tabs keep them), `writers` clients each
 * inserting a row through the data API as soon as the previous one is acknowledged, and `backups` Fast backups of
 * `databaseDir` one after another. Writes go into the reference's `events` table: run it on a copy.
 */
export async function loadedBackupsThroughServer(databaseDir: string,
  o: { viewers: number; writers: number; backups: number; settleMs?: number; log?: (m: string) => void }): Promise<LoadedRun> {
  const log = o.log ?? (() => undefined);
  const server = await BenchServer.start(databaseDir);
  log(`server started, idle RSS ${(server.rss().now / 1048576).toFixed(1)} MiB`);
  // Past V8's memory reducer (it starts 8 s after allocation calms down): what the server then keeps is what stays.
  const settleMs = o.settleMs ?? 10_000;
  const stop = new AbortController();
  try {
    const idleRss = server.rss().peak;
    const viewers = await Promise.all(Array.from({ length: o.viewers }, async () => {
      const res = await server.call("events.onEvents", { accept: "text/event-stream", signal: stop.signal });
      if (!res.ok) throw new Error(`events.onEvents: ${res.status}`);
      const reader = res.body!.getReader();
      // Wrapped: an async function returning a promise would wait for it, i.e. for the stream's end.
      return { ended: (async () => { try { while (!(await reader.read()).done); } catch { /* ended by the abort */ } })() };
    }));
    let writes = 0, failedWrites = 0;
    const writers = Array.from({ length: o.writers }, async (_, w) => {
      for (let i = 0; !stop.signal.aborted; i++) {
        const values = { ts: Date.now(), level: "info", message: `bench writer ${w} write ${i}` };
        const res = await server.call("data.insert", { body: { table: "events", values }, signal: stop.signal }).catch(() => null);
        if (stop.signal.aborted) return;
        if (res?.ok) writes++;
        else failedWrites++;
        await res?.arrayBuffer().catch(() => undefined);
      }
    });
    log(`${o.viewers} viewers connected, ${o.writers} writers started`);
    const start = performance.now();
    const statuses: number[] = [];
    for (let b = 0; b < o.backups; b++) {
      statuses.push(await server.backup());
      log(`backup ${b + 1}: status ${statuses.at(-1)}, RSS ${(server.rss().now / 1048576).toFixed(1)} MiB, peak ${(server.rss().peak / 1048576).toFixed(1)} MiB, ${writes} writes`);
    }
    const wallMs = performance.now() - start;
    stop.abort();
    // A request that ignores its abort must not hang the bench (seen with Node 20's fetch): it goes with the server.
    const ended = await Promise.race([Promise.all([...viewers.map((v) => v.ended), ...writers]).then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 10_000).unref())]);
    log(ended ? "viewers and writers stopped" : "some viewers or writers did not stop within 10 s of their abort; going on");
    await new Promise((r) => setTimeout(r, settleMs));
    const { now, peak } = server.rss();
    return { viewers: o.viewers, writers: o.writers, backups: o.backups, statuses, wallMs, idleRss, peakRss: peak, afterRss: now, settleMs, writes, failedWrites };
  } finally {
    stop.abort();
    await server.stop();
  }
}
