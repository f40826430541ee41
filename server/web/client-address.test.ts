// The client address the sign-in throttle keys on, from a real HTTP server: the socket's address, whatever a client
// writes in X-Forwarded-For or in the stamp's own header; X-Forwarded-For only with a trusted proxy.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientAddress, installPeerStamp } from "./client-address";

let server: http.Server;
let port: number;
const seen: http.IncomingHttpHeaders[] = [];

beforeAll(async () => {
  installPeerStamp();
  server = http.createServer((req, res) => { seen.push(req.headers); res.end(); });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function get(headers: Record<string, string>, localAddress?: string): Promise<http.IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, headers, localAddress }, (res) => {
      res.resume();
      res.on("end", () => resolve(seen.at(-1)!));
    });
    req.on("error", reject);
  });
}

describe("clientAddress", () => {
  it("is the socket's address, not what the client claims", async () => {
    const headers = await get({ "x-forwarded-for": "10.9.8.7", "x-strongbox-peer": "forged 10.1.1.1" });
    expect(clientAddress(headers, {})).toBe("127.0.0.1");
    expect(clientAddress(new Headers(headers as Record<string, string>), {})).toBe("127.0.0.1");
    expect(clientAddress(await get({}, "127.0.0.2"), {})).toBe("127.0.0.2");
  });

  it("takes the entry a trusted proxy added to X-Forwarded-For only when told there is one", async () => {
    const headers = await get({ "x-forwarded-for": "10.9.8.7, 203.0.113.5" });
    expect(clientAddress(headers, { STRONGBOX_TRUST_PROXY: "1" })).toBe("203.0.113.5");
    expect(clientAddress(headers, {})).toBe("127.0.0.1");
  });

  it("is unknown for headers no server of this process stamped", () => {
    expect(clientAddress({ "x-strongbox-peer": "guess 10.0.0.1", "x-forwarded-for": "10.0.0.2" }, {})).toBe("unknown");
  });
});
