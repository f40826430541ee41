// The alert webhook against real HTTP servers on loopback: private and loopback targets refused unless allowed
// (by address or by a name resolving there), redirects not followed, the request sent to the address checked.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Alert } from "./alerts";
import { checkWebhook, isRefusedAddress, sendWebhook } from "./webhook";

const servers: http.Server[] = [];
afterEach(() => { for (const s of servers.splice(0)) s.close(); });

async function receiver(answer: (res: http.ServerResponse) => void = (res) => res.end("ok")) {
  const received: Array<{ body: string; host: string | undefined; method: string | undefined }> = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => { received.push({ body, host: req.headers.host, method: req.method }); answer(res); });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as AddressInfo).port, received };
}

const alert: Alert = { id: 1, createdAt: "2026-11-26T02:00:01Z", status: 1407, text: "Backup impossible", database: "/db", scheduledDate: null, acknowledgedAt: null, acknowledgedBy: null };
const publicLookup = async () => [{ address: "93.184.215.14", family: 4 }];

describe("webhook addresses", () => {
  it.each(["127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1",
    "::1", "::", "fe80::1", "fd00::1", "fc12::3", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "224.0.0.1", "not-an-ip"])("refuses %s", (a) => {
    expect(isRefusedAddress(a)).toBe(true);
  });
  it.each(["93.184.215.14", "172.32.0.1", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"])("accepts %s", (a) => {
    expect(isRefusedAddress(a)).toBe(false);
  });

  it("refuses a private target at save time, by address or by name, unless allowed; and other schemes", async () => {
    await expect(checkWebhook("http://127.0.0.1:9/x", { allowPrivate: false })).rejects.toThrow(/127\.0\.0\.1 is a loopback, link-local, private or reserved address.*Allow private and loopback addresses/);
    await expect(checkWebhook("http://[::1]/x", { allowPrivate: false })).rejects.toThrow(/loopback/);
    await expect(checkWebhook("http://169.254.169.254/latest/meta-data", { allowPrivate: false })).rejects.toThrow(/private/);
    await expect(checkWebhook("http://localhost:8080/", { allowPrivate: false })).rejects.toThrow(/localhost resolves to/);
    // A name with one private address among public ones is refused too.
    const mixed = async () => [{ address: "93.184.215.14", family: 4 }, { address: "10.0.0.7", family: 4 }];
    await expect(checkWebhook("https://hooks.example.org/a", { allowPrivate: false, lookup: mixed })).rejects.toThrow(/resolves to 10\.0\.0\.7/);
    await expect(checkWebhook("https://hooks.example.org/a", { allowPrivate: false, lookup: publicLookup })).resolves.toBe("https://hooks.example.org/a");
    await expect(checkWebhook("http://127.0.0.1:9/x", { allowPrivate: true })).resolves.toBe("http://127.0.0.1:9/x");
    await expect(checkWebhook("ftp://example.org/x", { allowPrivate: true })).rejects.toThrow(/http:\/\/ or https:\/\//);
    await expect(checkWebhook("http://nowhere.invalid/", { allowPrivate: true })).rejects.toThrow(/can't be resolved/);
  });
});

describe("sendWebhook", () => {
  it("sends nothing to a loopback receiver unless allowed, and the alert as JSON when allowed", async () => {
    const hook = await receiver();
    const url = `http://127.0.0.1:${hook.port}/alerts`;
    const refused = await sendWebhook({ url, allowPrivate: false }, alert);
    expect(refused).toMatchObject({ ok: false, error: expect.stringMatching(/loopback/) });
    expect(hook.received).toEqual([]);
    expect(await sendWebhook({ url, allowPrivate: true }, alert)).toEqual({ ok: true });
    expect(JSON.parse(hook.received[0]!.body)).toMatchObject({ source: "strongbox", statusCode: 1407, statusText: "Backup impossible", database: "/db" });
  });

  it("checks a name at send time and connects to the address it checked, with the name as Host", async () => {
    const hook = await receiver();
    const toLoopback = async () => [{ address: "127.0.0.1", family: 4 }];
    const url = `http://hooks.test:${hook.port}/alerts`;
    expect(await sendWebhook({ url, allowPrivate: false }, alert, {}, { lookup: toLoopback })).toMatchObject({ ok: false, error: expect.stringMatching(/hooks\.test resolves to 127\.0\.0\.1/) });
    expect(hook.received).toEqual([]);
    expect(await sendWebhook({ url, allowPrivate: true }, alert, {}, { lookup: toLoopback })).toEqual({ ok: true });
    expect(hook.received[0]!.host).toBe(`hooks.test:${hook.port}`);
  });

  it("doesn't follow a redirect: the alert stays with the first receiver and the send fails with a clear error", async () => {
    const elsewhere = await receiver();
    const redirecting = await receiver((res) => { res.writeHead(307, { location: `http://127.0.0.1:${elsewhere.port}/steal` }); res.end(); });
    const sent = await sendWebhook({ url: `http://127.0.0.1:${redirecting.port}/alerts`, allowPrivate: true }, alert);
    expect(sent).toEqual({ ok: false, error: expect.stringMatching(/HTTP 307: the webhook answered with a redirect, which is not followed/) });
    expect(redirecting.received).toHaveLength(1);
    expect(elsewhere.received).toEqual([]);
  });
});
