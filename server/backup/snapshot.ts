// Runs the data file snapshot in a child process (snapshot-worker.mjs) and lets a Stop end it at once.
import { fork } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { BOOKKEEPING_TABLE, type Bookkeeping } from "../data/bookkeeping";
import { openNoFollow } from "../fs/safe-open";

/** The child is a plain .mjs file on disk; the Next bundle can't carry it, so we find it from the app root. */
function workerPath(): string {
  const root = process.env.STRONGBOX_APP_ROOT || process.cwd();
  return path.join(/*turbopackIgnore: true*/ root, "server", "backup", "snapshot-worker.mjs");
}

/** Files SQLite may leave beside a snapshot target (VACUUM INTO writes a rollback journal while it runs). */
export const snapshotSidecars = (target: string) => [target, `${target}-journal`];

export async function snapshotDataFile(source: string, target: string, signal: AbortSignal): Promise<{ bookkeeping: Bookkeeping | null }> {
  signal.throwIfAborted();
  // The copy of the data is the server's alone: created here 0600 (never through a link at its name), and VACUUM INTO
  // fills the empty file, keeping its mode (SQLite gives its rollback journal the same).
  await fs.rm(target, { force: true });
  await (await openNoFollow(target, "create")).close();
  const child = fork(/*turbopackIgnore: true*/ workerPath(), [], { stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "json" });
  try {
    return await new Promise((resolve, reject) => {
      const onAbort = () => child.kill("SIGKILL");
      signal.addEventListener("abort", onAbort, { once: true });
      child.once("message", (msg: { ok: boolean; bookkeeping?: Bookkeeping | null; message?: string }) => {
        if (msg.ok) resolve({ bookkeeping: msg.bookkeeping ?? null });
        else reject(new Error(`Could not take the data file snapshot: ${msg.message}`));
      });
      child.once("error", reject);
      child.once("exit", (code, sig) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) reject(signal.reason ?? Object.assign(new Error("Aborted"), { name: "AbortError" }));
        else reject(new Error(`The snapshot process ended without an answer (${sig ?? `exit code ${code}`}).`));
      });
      child.send({ source, target, table: BOOKKEEPING_TABLE });
    });
  } catch (err) {
    for (const f of snapshotSidecars(target)) await fs.rm(f, { force: true });
    throw err;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}
