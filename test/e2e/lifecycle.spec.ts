// The server's life cycle end to end on the real server: SIGTERM during a backup, with consoles open (their event
// streams), progress streams (as the CLI opens them) and writes through the data API going on, is a graceful stop:
// exit code 0, "Stopped cleanly", the backup recorded as interrupted by the shutdown (1409, not a user's 1406);
// the last heartbeat is written as the stop begins; the next start on the same home replays nothing and every
// acknowledged write is in the data file.
import Database from "better-sqlite3";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { databaseLayout } from "../../server/database/layout";
import { historyEntries, tablesOf, trpcMutate, trpcQuery } from "./api";
import { login, startServer, type TestServer } from "./server";

let server: TestServer | undefined;
test.afterAll(async () => { await server?.stop(); });

/** A server-sent event stream opened as a program would (the page's cookies); `end` resolves how it ended and what came. */
async function openStream(page: Page, url: string): Promise<{ end: Promise<{ how: "ended" | "cut"; text: string }> }> {
  const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
  const res = await fetch(url, { headers: { cookie, accept: "text/event-stream" } });
  expect(res.ok, `${url}: ${res.status}`).toBe(true);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const end = (async () => {
    let text = "";
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
      return { how: "ended" as const, text };
    } catch {
      return { how: "cut" as const, text };
    }
  })();
  return { end };
}

/**
 * Inserts customers one after another until the server refuses or goes: the names it acknowledged go into
 * `acknowledged`; resolves how the last write ended (a refusal's status and text, or "no answer").
 */
async function writer(page: Page, url: string, id: number, acknowledged: string[]): Promise<string> {
  for (let i = 0; ; i++) {
    const name = `lifecycle-${id}-${i}`;
    const values = { name, city: "Stopville", created_at: "2026-12-04T00:00:00Z" };
    const res = await page.request.post(`${url}/api/trpc/data.insert`, { data: { table: "customers", values } }).catch(() => null);
    if (!res) return "no answer";
    if (!res.ok()) return `${res.status()} ${(await res.json()).error?.message}`;
    acknowledged.push(name);
  }
}

test("SIGTERM during a backup, with streams open and writes going on: a clean stop, nothing replayed or lost at the next start", async ({ browser }) => {
  test.setTimeout(180_000);
  server = await startServer({ throttleBytesPerSecond: 150_000 });
  const context = await browser.newContext();
  const page = await context.newPage();
  await login(page, server);
  // Consoles: the Backup page in three tabs (each with its event stream, as a browser keeps it).
  const consoles = [page, await context.newPage(), await context.newPage()];
  for (const p of consoles.slice(1)) await p.goto(server.url);
  for (const p of consoles) await expect(p.getByText("● Live")).toBeVisible();

  const { operationId } = await trpcMutate<{ operationId: string }>(page, server, "backup.start");
  await expect.poll(async () => (await trpcQuery(page, server!, "backup.info")).running?.phase, { timeout: 30_000 }).toBe("archive");
  const input = encodeURIComponent(JSON.stringify({ operationId }));
  const consoleStreams = await Promise.all(Array.from({ length: 5 }, () => openStream(page, `${server!.url}/api/trpc/events.onEvents`)));
  const progressStreams = await Promise.all(Array.from({ length: 5 }, () => openStream(page, `${server!.url}/api/trpc/backup.onProgress?input=${input}`)));
  const acknowledged: string[] = [];
  const writers = Array.from({ length: 4 }, (_, i) => writer(page, server!.url, i, acknowledged));
  await expect.poll(() => acknowledged.length).toBeGreaterThan(20);

  const stopAsked = new Date();
  const exit = await server.stop({ keepHome: true });
  // Each writer ended on a refusal that says why (or found the server gone), never on another error.
  for (const end of await Promise.all(writers)) expect(end).toMatch(/^(503 The server is shutting down: nothing was changed|no answer)/);
  expect(exit, server.output()).toEqual({ code: 0, signal: null });
  expect(server.output()).toContain("[strongbox] Stopped cleanly.");
  // Every stream was told how the backup ended (1409, the shutdown) before the server ended it.
  const shutdownText = "The backup was interrupted because the server was shutting down.";
  for (const s of [...consoleStreams, ...progressStreams]) {
    const { how, text } = await s.end;
    expect(how).toBe("ended");
    expect(text).toContain(`"type":"finished","outcome":{"operationId":"${operationId}"`);
    expect(text).toContain(`"status":1409,"statusText":"${shutdownText}"`);
  }
  await context.close();
  // The last heartbeat was written as the stop began: scheduled times before it don't count as missed at the next start.
  const consoleDb = new Database(path.join(server.home, "console.sqlite"), { readonly: true });
  const lastAlive = consoleDb.prepare("SELECT value FROM console_settings WHERE key = 'last_alive'").pluck().get() as string;
  consoleDb.close();
  expect(Date.parse(lastAlive)).toBeGreaterThanOrEqual(stopAsked.getTime());

  // The next start on the same home: nothing to replay, nothing interrupted to recover, every acknowledged write kept.
  const home = server.home;
  server = await startServer({ home });
  expect(server.output()).not.toMatch(/Replayed|Interrupted backup/);
  const names = new Set((tablesOf(databaseLayout(server.databaseDir).dataFile).customers as Array<{ name: string }>).map((c) => c.name));
  expect(acknowledged.filter((n) => !names.has(n))).toEqual([]);
  expect(historyEntries<{ status: number; statusText: string }>(server).at(-1)).toMatchObject({ status: 1409, statusText: shutdownText });
});
