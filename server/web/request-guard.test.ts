// The gate in front of the API, on real web Requests: cross-origin pages riding on the session cookie, bodies that
// aren't JSON, bodies over the limit (declared or chunked).
import { describe, expect, it } from "vitest";
import { crossOriginRefusal, guardApiRequest, guardRouteRequest, MAX_API_BODY_BYTES } from "./request-guard";

const consoleUrl = "http://127.0.0.1:3000";
const api = `${consoleUrl}/api/trpc/backup.start`;
const post = (headers: Record<string, string>, body: BodyInit | null = "{}") =>
  new Request(api, { method: "POST", headers: { host: "127.0.0.1:3000", ...headers }, body, duplex: "half" } as RequestInit);

async function status(req: Request): Promise<number | "passed"> {
  const r = await guardApiRequest(req, { consoleUrl });
  return "refused" in r ? r.refused.status : "passed";
}

describe("crossOriginRefusal", () => {
  it("lets the console's own pages and programs through", () => {
    expect(crossOriginRefusal(post({ "sec-fetch-site": "same-origin", origin: consoleUrl }), consoleUrl)).toBeNull();
    expect(crossOriginRefusal(post({ origin: consoleUrl }), consoleUrl)).toBeNull();
    expect(crossOriginRefusal(post({}), consoleUrl)).toBeNull(); // curl, the CLI: no browser, no cookie of a victim
  });

  it("refuses another origin of the same host (another port), another site, and an opaque origin", () => {
    expect(crossOriginRefusal(post({ "sec-fetch-site": "same-site", origin: "http://127.0.0.1:4000" }), consoleUrl)).toMatch(/outside the Strongbox console/);
    expect(crossOriginRefusal(post({ "sec-fetch-site": "cross-site" }), consoleUrl)).not.toBeNull();
    expect(crossOriginRefusal(post({ origin: "http://127.0.0.1:4000" }), consoleUrl)).not.toBeNull();
    expect(crossOriginRefusal(post({ origin: "null" }), consoleUrl)).not.toBeNull();
    expect(crossOriginRefusal(post({ "sec-fetch-site": "none" }), consoleUrl)).not.toBeNull();
  });

  it("lets a read through when it is a navigation or typed in, not when another page fetches it", () => {
    const get = (headers: Record<string, string>) => new Request(`${consoleUrl}/api/journal/all`, { headers });
    expect(crossOriginRefusal(get({ "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" }), consoleUrl)).toBeNull();
    expect(crossOriginRefusal(get({ "sec-fetch-site": "none", "sec-fetch-mode": "navigate" }), consoleUrl)).toBeNull();
    expect(crossOriginRefusal(get({ "sec-fetch-site": "same-site", "sec-fetch-mode": "no-cors" }), consoleUrl)).not.toBeNull();
    expect(crossOriginRefusal(get({ "sec-fetch-site": "same-site", "sec-fetch-mode": "cors" }), consoleUrl)).not.toBeNull();
  });
});

describe("guardApiRequest", () => {
  it("refuses the three bodies a cross-origin form can send, even from the console's own origin", async () => {
    const form = new FormData();
    form.set("x", "1");
    expect(await status(post({ origin: consoleUrl }, form))).toBe(415);
    expect(await status(post({ "content-type": "text/plain" }, "{}"))).toBe(415);
    expect(await status(post({ "content-type": "application/x-www-form-urlencoded" }, "a=1"))).toBe(415);
    const refused = await guardApiRequest(post({ "content-type": "text/plain" }));
    expect(await ("refused" in refused ? refused.refused.json() : null)).toMatchObject({ error: { message: expect.stringMatching(/JSON only/) } });
  });

  it("refuses a JSON call from another origin, and takes one from the console or with a token", async () => {
    expect(await status(post({ "content-type": "application/json", "sec-fetch-site": "same-site", origin: "http://127.0.0.1:4000" }))).toBe(403);
    expect(await status(post({ "content-type": "application/json", "sec-fetch-site": "same-origin", origin: consoleUrl }))).toBe("passed");
    expect(await status(post({ "content-type": "application/json", authorization: "Bearer sbx_x", origin: "http://elsewhere.example" }))).toBe("passed");
  });

  it("refuses a body over the limit, declared or counted as it arrives, and hands on one below it intact", async () => {
    const big = "x".repeat(MAX_API_BODY_BYTES + 1);
    expect(await status(post({ "content-type": "application/json", "content-length": String(big.length) }, big))).toBe(413);
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(new Uint8Array(64 * 1024).fill(32));
        c.close();
      },
    });
    const r = await guardApiRequest(post({ "content-type": "application/json" }, chunked), { consoleUrl });
    expect("refused" in r && r.refused.status).toBe(413);
    expect("refused" in r && (await r.refused.json()).error.message).toMatch(/larger than 1 MiB/);
    const ok = await guardApiRequest(post({ "content-type": "application/json; charset=utf-8" }, JSON.stringify({ v: "é".repeat(1000) })), { consoleUrl });
    expect("req" in ok && (await ok.req.json())).toEqual({ v: "é".repeat(1000) });
  });
});

describe("guardRouteRequest", () => {
  it("refuses a cross-origin POST and a body over its limit", async () => {
    const r = await guardRouteRequest(post({ "sec-fetch-site": "same-site" }), { consoleUrl });
    expect("refused" in r && r.refused.status).toBe(403);
    const big = await guardRouteRequest(post({}, "x".repeat(100_000)), { consoleUrl, maxBody: 64 * 1024 });
    expect("refused" in big && big.refused.status).toBe(413);
  });
});
