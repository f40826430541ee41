// The console attacked through a real server and a real browser: a form on another origin of the same host riding
// on the session cookie, a sign-out whose cookie is replayed, a sign-in redirect off-site, guessing from another
// address that claims to be the admin's, too many event streams for one token, oversized request bodies and cells,
// and the security headers on pages and API answers.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { historyEntries, trpcMutate, trpcQuery } from "./api";
import { ADMIN_PASSWORD, login, startServer, type TestServer } from "./server";

let server: TestServer;
let attacker: http.Server;
/** Another origin on the same host: same-site for the browser, so the session cookie (SameSite=Lax) goes along. */
let attackerUrl: string;

test.describe.configure({ mode: "serial" });
test.beforeAll(async () => {
  server = await startServer();
  attacker = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const enctype = url.searchParams.get("enctype") ?? "application/x-www-form-urlencoded";
    res.setHeader("content-type", "text/html");
    res.end(`<!doctype html><form id="f" method="POST" action="${server.url}/api/trpc/backup.start" enctype="${enctype}">
      <input name="json" value="{}"></form><script>document.getElementById("f").submit()</script>`);
  });
  await new Promise<void>((r) => attacker.listen(0, "127.0.0.1", r));
  attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
});
test.afterAll(async () => {
  attacker?.close();
  await server?.stop();
});

/** A plain HTTP request from a chosen local address (the browser always comes from 127.0.0.1). */
function rawRequest(opts: { method: string; path: string; headers?: Record<string, string>; body?: string; localAddress?: string }) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const u = new URL(opts.path, server.url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: opts.method, headers: opts.headers, localAddress: opts.localAddress }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** A sign-in through next-auth's credentials form, as a script would post it; the message the login page would show, or "signed in". */
async function signInFrom(localAddress: string, password: string, extraHeaders: Record<string, string> = {}): Promise<string> {
  const csrf = await rawRequest({ method: "GET", path: "/api/auth/csrf", localAddress });
  const cookie = (csrf.headers["set-cookie"] ?? []).map((c) => c.split(";")[0]).join("; ");
  const body = new URLSearchParams({ csrfToken: JSON.parse(csrf.body).csrfToken, username: "admin", password, json: "true", callbackUrl: `${server.url}/` });
  const res = await rawRequest({ method: "POST", path: "/api/auth/callback/credentials", localAddress, body: body.toString(),
    headers: { "content-type": "application/x-www-form-urlencoded", cookie, ...extraHeaders } });
  const url = new URL(JSON.parse(res.body).url);
  return url.searchParams.get("error") ?? "signed in";
}

test("a form on another origin of the same host can't start a backup with the signed-in session", async ({ page }) => {
  await login(page, server);
  for (const enctype of ["multipart/form-data", "text/plain", "application/x-www-form-urlencoded"]) {
    const answer = page.waitForResponse((r) => r.url().includes("/api/trpc/backup.start"));
    await page.goto(`${attackerUrl}/?enctype=${encodeURIComponent(enctype)}`);
    const res = await answer;
    expect(res.status(), enctype).toBe(403);
    expect(await res.text()).toContain("came from a page outside the Strongbox console");
  }
  expect(await trpcQuery(page, server, "backup.info")).toMatchObject({ running: null, lastBackupNumber: null });
  expect(historyEntries(server)).toEqual([]);

  // The console's own pages still change things: the Backup button starts a backup.
  await page.goto(`${server.url}/`);
  await page.getByRole("button", { name: "Backup" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Backup #1" })).toContainText("finished: 0 — OK", { timeout: 60_000 });

  // A program with an API token is not a browser page: its JSON call works from anywhere.
  const { secret } = await trpcMutate(page, server, "tokens.create", { name: "ci", role: "operator" });
  const call = await fetch(`${server.url}/api/trpc/automation.cancelRetry`, {
    method: "POST", headers: { authorization: `Bearer ${secret}`, "content-type": "application/json", origin: "https://ci.example.org" }, body: "{}" });
  expect(call.status).toBe(200);
  // …but only as JSON.
  const form = await fetch(`${server.url}/api/trpc/automation.cancelRetry`, { method: "POST", headers: { authorization: `Bearer ${secret}` }, body: new FormData() });
  expect(form.status).toBe(415);
});

test("pages and API answers carry the security headers", async ({ request }) => {
  for (const path of ["/login", "/api/trpc/backup.overview", "/api/journal/all"]) {
    const res = await request.get(`${server.url}${path}`, { maxRedirects: 0 });
    const h = res.headers();
    expect(h["content-security-policy"], path).toContain("frame-ancestors 'none'");
    expect(h["x-frame-options"], path).toBe("DENY");
    expect(h["x-content-type-options"], path).toBe("nosniff");
    expect(h["referrer-policy"], path).toBe("same-origin");
  }
});

test("after sign-out, a copy of the session cookie opens nothing", async ({ browser, playwright }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await login(page, server);
  const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
  const replay = await playwright.request.newContext({ extraHTTPHeaders: { cookie } });
  expect((await replay.get(`${server.url}/api/trpc/backup.overview`)).status()).toBe(200);

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/login/);
  expect((await replay.get(`${server.url}/api/trpc/backup.overview`)).status()).toBe(401);
  expect((await replay.get(`${server.url}/api/journal/all`)).status()).toBe(401);
  expect((await replay.get(`${server.url}/`)).url()).toMatch(/\/login$/);
  await replay.dispose();
  // Signing in again gives a new, working session.
  await login(page, server);
  await expect(page.getByRole("heading", { name: "Backup", level: 1 })).toBeVisible();
  await context.close();
});

test("sign-in goes to a local callbackUrl only, never off-site", async ({ page }) => {
  await page.goto(`${server.url}/login?callbackUrl=${encodeURIComponent("/.//evil.example/")}`);
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${server.url}/`);
  await page.context().clearCookies();
  await page.goto(`${server.url}/login?callbackUrl=${encodeURIComponent("/journal")}`);
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${server.url}/journal`);
});

test("a burst of guesses from another address, claiming the admin's in X-Forwarded-For, gets 3 checks and doesn't lock the admin out", async ({ page }) => {
  const spoofed = { "x-forwarded-for": "127.0.0.1" };
  // Concurrent: each attempt is counted before its password is hashed, so the burst gets no more checks than 3.
  const answers = await Promise.all(Array.from({ length: 10 }, () => signInFrom("127.0.0.2", "wrong-password", spoofed)));
  expect(answers.filter((a) => a === "Wrong user name or password.")).toHaveLength(3);
  expect(answers.filter((a) => /Too many failed sign-in attempts/.test(a))).toHaveLength(7);
  // The guesser's own address is slowed down, even with the right password…
  expect(await signInFrom("127.0.0.2", ADMIN_PASSWORD, spoofed)).toMatch(/Too many failed sign-in attempts/);
  // …but the admin, at 127.0.0.1, signs in as usual.
  await page.context().clearCookies();
  await login(page, server);
});

test("one token's event streams are capped, and a closed stream frees its slot", async ({ page }) => {
  await login(page, server);
  const { secret } = await trpcMutate(page, server, "tokens.create", { name: "many-streams", role: "viewer" });
  /** Opens an event stream with the token and reads up to its first event: the state (accepted) or an error. */
  async function openStream() {
    const client = new AbortController();
    const res = await fetch(`${server.url}/api/trpc/events.onEvents`, { headers: { authorization: `Bearer ${secret}`, accept: "text/event-stream" }, signal: client.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!/"type":"state"|event: serialized-error\ndata: .*\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    return { accepted: text.includes('"type":"state"'), text, close: () => client.abort() };
  }
  const open = [];
  for (let i = 0; i < 20; i++) open.push(await openStream());
  expect(open.every((s) => s.accepted)).toBe(true);
  const refused = await openStream();
  expect(refused.accepted).toBe(false);
  expect(refused.text).toContain("already has 20 event streams open");
  refused.close();

  open.shift()!.close();
  // The server frees the slot once it sees the connection gone.
  await expect.poll(async () => {
    const s = await openStream();
    if (s.accepted) open.push(s); else s.close();
    return s.accepted;
  }).toBe(true);
  for (const s of open) s.close();
});

test("request bodies over 1 MiB and cell values over 1 MB are refused and store nothing; long cells are cut in pages and edited whole", async ({ page }) => {
  await login(page, server);
  const { secret } = await trpcMutate(page, server, "tokens.create", { name: "bulk", role: "admin" });
  const call = (proc: string, body: BodyInit, extra: RequestInit = {}) => fetch(`${server.url}/api/trpc/${proc}`,
    { method: "POST", headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" }, body, ...extra });
  await call("data.createTable", JSON.stringify({ table: "notes", columns: [{ name: "id", type: "INTEGER", primaryKey: true }, { name: "body", type: "TEXT" }] }));

  const declared = await call("data.insert", JSON.stringify({ table: "notes", values: { body: "x".repeat(2 * 1024 * 1024) } }));
  expect(declared.status).toBe(413);
  expect((await declared.json()).error.message).toMatch(/larger than 1 MiB/);
  // A chunked body has no Content-Length: it is counted as it arrives.
  const chunks = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode('{"table":"notes","values":{"body":"'));
      for (let i = 0; i < 40; i++) c.enqueue(new Uint8Array(64 * 1024).fill(120));
      c.enqueue(new TextEncoder().encode('"}}'));
      c.close();
    },
  });
  const chunked = await call("data.insert", chunks, { duplex: "half" } as RequestInit);
  expect(chunked.status).toBe(413);
  // Under the body limit, over the value limit: 500,001 characters of 2 bytes each in UTF-8.
  const value = await call("data.insert", JSON.stringify({ table: "notes", values: { body: "é".repeat(500_001) } }));
  expect(value.status).toBe(400);
  expect((await value.json()).error.message).toMatch(/notes\.body has 1000002 bytes; the data API takes at most 1000000 bytes/);
  expect((await trpcQuery(page, server, "data.rows", { table: "notes" })).total).toBe(0);
  // Nor can one request ask for many pages at once.
  const batch = await page.request.get(`${server.url}/api/trpc/${Array(21).fill("data.tables").join(",")}?batch=1&input=${encodeURIComponent("{}")}`);
  expect(batch.status()).toBe(400);
  expect(await batch.text()).toContain("Batch call exceeds maximum size");

  // A long text is cut in a page of rows; the edit form loads it whole before it can be changed.
  const long = "0123456789".repeat(1000);
  expect((await call("data.insert", JSON.stringify({ table: "notes", values: { body: long } }))).status).toBe(200);
  const listed = await trpcQuery(page, server, "data.rows", { table: "notes" });
  expect(listed.truncated).toEqual([{ row: 0, column: "body", chars: 10_000 }]);
  expect(listed.rows[0].body).toMatch(/… \[10000 characters in all\]$/);
  await page.goto(`${server.url}/data?table=notes`);
  await page.getByRole("button", { name: "Edit row 1", exact: true }).click();
  const edit = page.getByRole("dialog", { name: "Edit row 1 of notes" });
  const body = edit.getByLabel(/^body\b/);
  await expect(body).toHaveAttribute("readonly", "");
  await expect(edit).toContainText("Shown cut: 10,000 characters in all.");
  await edit.getByRole("button", { name: "Load the whole value of body to edit it" }).click();
  await expect(body).toHaveValue(long);
  await body.fill(long.slice(0, -1) + "!");
  await edit.getByRole("button", { name: "Save row" }).click();
  await expect(edit).toHaveCount(0);
  expect((await trpcQuery(page, server, "data.cell", { table: "notes", key: 1, column: "body" })).value).toBe(long.slice(0, -1) + "!");
});
