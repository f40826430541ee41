// What several end-to-end specs do besides clicking: call a tRPC procedure as the signed-in page, read the history
// file a server wrote, and read a data file's tables (state is seeded through the API, assertions are on disk).
import Database from "better-sqlite3";
import fs from "node:fs";
import path from "node:path";
import { expect, type Page } from "@playwright/test";
import type { TestServer } from "./server";

/** A tRPC query with the page's session; fails the test with the server's answer when it isn't OK. */
export async function trpcQuery<T = any>(page: Page, server: TestServer, proc: string, input?: unknown): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const q = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  const res = await page.request.get(`${server.url}/api/trpc/${proc}${q}`);
  expect(res.ok(), await res.text()).toBe(true);
  return (await res.json()).result.data;
}

/** A tRPC mutation with the page's session; fails the test with the server's answer when it isn't OK. */
export async function trpcMutate<T = any>(page: Page, server: TestServer, proc: string, input: unknown = {}): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await page.request.post(`${server.url}/api/trpc/${proc}`, { data: input });
  expect(res.ok(), await res.text()).toBe(true);
  return (await res.json()).result.data;
}

/** This database's operations in the server's backupHistory.json (none while the file doesn't exist). */
export function historyEntries<T = { backupNumber: number; status: number; partial: boolean }>(server: TestServer): T[] {
  const file = path.join(server.destination, "backupHistory.json");
  if (!fs.existsSync(file)) return [];
  return JSON.parse(fs.readFileSync(file, "utf8"))[path.join(server.databaseDir, "Project")] ?? [];
}

/**
 * The application's tables (not SQLite's nor Strongbox's bookkeeping) and all their rows. Read-only by default;
 * `readWrite` for a file of a stopped server, so that closing it leaves no -wal/-shm files behind.
 */
export function tablesOf(dataFile: string, opts: { readWrite?: boolean } = {}): Record<string, unknown[]> {
  const db = new Database(dataFile, { readonly: !opts.readWrite, fileMustExist: true });
  try {
    const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'strongbox_%' ORDER BY name")
      .pluck().all() as string[];
    return Object.fromEntries(names.map((n) => [n, db.prepare(`SELECT * FROM "${n}" ORDER BY rowid`).all()]));
  } finally {
    db.close();
  }
}
