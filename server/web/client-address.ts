// The address a request came from, for the sign-in throttle. Route handlers get a web Request, which doesn't carry
// the socket's address, and Next fills X-Forwarded-For with it only when the client didn't send one itself, so
// that header can be forged by anyone. So the Node server's requests are stamped here, as they arrive, with the
// socket's address and a secret of this process (a client can't forge a stamp it doesn't know); X-Forwarded-For is
// believed only when STRONGBOX_TRUST_PROXY=1 says that a reverse proxy in front of the console sets it.
import crypto from "node:crypto";
import http from "node:http";

const PEER_HEADER = "x-strongbox-peer";

type Stamp = { secret: string; installed: boolean };
// On globalThis: instrumentation (which installs the stamp) and the route handlers (which read it) are separate
// bundle entries with their own module instances.
const g = globalThis as unknown as { __strongboxPeerStamp?: Stamp };
const stamp = (): Stamp => (g.__strongboxPeerStamp ??= { secret: crypto.randomBytes(16).toString("hex"), installed: false });

/** Stamps every request the process's HTTP servers receive with its socket's address (called once at start). */
export function installPeerStamp(): void {
  const s = stamp();
  if (s.installed) return;
  s.installed = true;
  const emit = http.Server.prototype.emit as (this: http.Server, event: string | symbol, ...args: unknown[]) => boolean;
  http.Server.prototype.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]) {
    if (event === "request") {
      const req = args[0] as http.IncomingMessage;
      // Always overwritten: whatever a client sent under this name is dropped.
      req.headers[PEER_HEADER] = `${s.secret} ${req.socket?.remoteAddress ?? "unknown"}`;
    }
    return emit.call(this, event, ...args);
  } as typeof http.Server.prototype.emit;
}

type HeaderBag = Headers | Record<string, string | string[] | undefined>;
const header = (h: HeaderBag, name: string): string | undefined => {
  const v = h instanceof Headers ? h.get(name) ?? undefined : h[name];
  return Array.isArray(v) ? v.join(",") : v;
};

/** "::ffff:127.0.0.1" and "127.0.0.1" are one client. */
const normalize = (address: string) => address.trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "").toLowerCase() || "unknown";

/**
 * The client's address: with a trusted proxy, the last X-Forwarded-For entry (the one that proxy added); else the
 * socket's address from this process's stamp; "unknown" when neither is there.
 */
export function clientAddress(headers: HeaderBag, env: Record<string, string | undefined> = process.env): string {
  if (env.STRONGBOX_TRUST_PROXY === "1") {
    const last = header(headers, "x-forwarded-for")?.split(",").map((s) => s.trim()).filter(Boolean).at(-1);
    if (last) return normalize(last);
  }
  const peer = header(headers, PEER_HEADER);
  const { secret } = stamp();
  if (peer?.startsWith(secret + " ")) return normalize(peer.slice(secret.length + 1));
  return "unknown";
}
