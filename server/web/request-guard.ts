// What every API request must satisfy before it reaches tRPC or a route handler: it comes from the console's own
// pages (not from a page of another origin riding on the session cookie), changes state only with a JSON body
// (which a cross-origin form can't send), and its body has a bounded size. Plain web Request/Response, no Next.
//
// Cross-origin check: browsers say where a request comes from in Sec-Fetch-Site (all current ones) and Origin (on
// every POST). A request with neither comes from a program, not a browser, so it can't carry the signed-in user's
// cookie without the user's own doing. Requests with a Bearer API token carry no cookie that counts (the token
// alone decides), so the cross-origin check doesn't apply to them.

/** Largest tRPC request body: far above any console form, far below what would hurt the server. */
export const MAX_API_BODY_BYTES = 1024 * 1024;
// Most procedure calls in one tRPC batch (the console's client batches no more): one request can't ask for 1,000 pages.
import { MAX_BATCH_CALLS } from "../isomorphic/limits";
export { MAX_BATCH_CALLS };
/** next-auth's forms (sign in, sign out) are a few hundred bytes. */
export const MAX_AUTH_BODY_BYTES = 64 * 1024;

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function refuse(status: number, message: string, json: boolean): Response {
  // A body refused unread may still be arriving: the connection is closed after the answer rather than reused.
  const headers: Record<string, string> = { "cache-control": "no-store", ...(status === 413 ? { connection: "close" } : {}) };
  if (!json) return new Response(message + "\n", { status, headers: { ...headers, "content-type": "text/plain; charset=utf-8" } });
  const code = status === 413 ? "PAYLOAD_TOO_LARGE" : status === 415 ? "UNSUPPORTED_MEDIA_TYPE" : "FORBIDDEN";
  // tRPC's error shape, so that its clients show the message.
  return new Response(JSON.stringify({ error: { message, code: -32600, data: { code, httpStatus: status } } }), { status, headers: { ...headers, "content-type": "application/json" } });
}

/** Whether the request authenticates with an API token rather than the session cookie. */
export const hasBearerToken = (req: Request) => /^bearer(\s|$)/i.test(req.headers.get("authorization") ?? "");

/** The origins the console is served on: NEXTAUTH_URL's and the one the request was addressed to (its Host). */
function ownOrigins(req: Request, consoleUrl: string | undefined): { origins: Set<string>; hosts: Set<string> } {
  const origins = new Set<string>();
  const hosts = new Set<string>();
  for (const u of [consoleUrl, req.url]) {
    if (!u) continue;
    try {
      const url = new URL(u);
      origins.add(url.origin);
      hosts.add(url.host);
    } catch { /* not a URL: ignored */ }
  }
  const host = req.headers.get("host");
  if (host) hosts.add(host.toLowerCase());
  return { origins, hosts };
}

/**
 * Why a request made with the session cookie must be refused as coming from another origin, or null. State-changing
 * methods must come from the console's own origin; reads too, except a top-level navigation (a link to a journal
 * download opened from elsewhere is harmless, and the browser shows the answer to the user, not to that site).
 */
export function crossOriginRefusal(req: Request, consoleUrl = process.env.NEXTAUTH_URL): string | null {
  const site = req.headers.get("sec-fetch-site")?.toLowerCase();
  const origin = req.headers.get("origin");
  const safe = SAFE_METHODS.has(req.method.toUpperCase());
  const navigation = safe && req.headers.get("sec-fetch-mode")?.toLowerCase() === "navigate";
  const refusal = "This request came from a page outside the Strongbox console and was refused (cross-origin). Use the console itself, or an API token for programs.";
  if (site !== undefined) {
    if (site === "same-origin") return null;
    if (site === "none" && safe) return null; // typed in the address bar, a bookmark
    if (navigation) return null;
    return refusal;
  }
  if (origin !== null) {
    const own = ownOrigins(req, consoleUrl);
    try {
      const o = new URL(origin);
      if (own.origins.has(o.origin) || own.hosts.has(o.host)) return null;
    } catch { /* "null" or garbage: refused below */ }
    return refusal;
  }
  return null; // neither header: not a browser's request
}

/**
 * The request's body, read up to `max` bytes (counted as it arrives: a chunked body has no Content-Length), or the
 * 413 response to send.
 */
export async function readLimitedBody(req: Request, max: number, json: boolean): Promise<{ body: Uint8Array | null } | { refused: Response }> {
  const tooLarge = () => ({ refused: refuse(413, `The request body is larger than ${formatLimit(max)}, the most this server accepts. Send less at once (for the data API: fewer rows per batch, smaller values).`, json) });
  const declared = Number(req.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > max) {
    await req.body?.cancel().catch(() => undefined);
    return tooLarge();
  }
  if (!req.body) return { body: null };
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { body.set(c, at); at += c.byteLength; }
  return { body };
}

const formatLimit = (bytes: number) => (bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`);

/** A copy of `req` with its body already read (the original's body can be read only once). */
function withBody(req: Request, body: Uint8Array | null): Request {
  return new Request(req.url, { method: req.method, headers: req.headers, body: body as BodyInit | null, signal: req.signal });
}

/**
 * The gate in front of tRPC: the request to hand over (its body read and bounded), or the refusal to send. Mutations
 * must be JSON (tRPC would also take multipart/form-data, which any page can post cross-origin).
 */
export async function guardApiRequest(req: Request, opts: { maxBody?: number; consoleUrl?: string } = {}): Promise<{ req: Request } | { refused: Response }> {
  const json = true;
  if (!hasBearerToken(req)) {
    const refusal = crossOriginRefusal(req, opts.consoleUrl);
    if (refusal) return { refused: refuse(403, refusal, json) };
  }
  if (SAFE_METHODS.has(req.method.toUpperCase())) return { req };
  const type = req.headers.get("content-type")?.split(";", 1)[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    await req.body?.cancel().catch(() => undefined);
    return { refused: refuse(415, `This API takes JSON only: send the request body with Content-Type: application/json (this one was ${type ? `"${type}"` : "without a Content-Type"}).`, json) };
  }
  const read = await readLimitedBody(req, opts.maxBody ?? MAX_API_BODY_BYTES, json);
  if ("refused" in read) return read;
  return { req: withBody(req, read.body) };
}

/** The gate in front of route handlers other than tRPC (journal downloads, next-auth): cross-origin and body size. */
export async function guardRouteRequest(req: Request, opts: { maxBody?: number; consoleUrl?: string } = {}): Promise<{ req: Request } | { refused: Response }> {
  if (!hasBearerToken(req)) {
    const refusal = crossOriginRefusal(req, opts.consoleUrl);
    if (refusal) return { refused: refuse(403, refusal, false) };
  }
  if (SAFE_METHODS.has(req.method.toUpperCase())) return { req };
  const read = await readLimitedBody(req, opts.maxBody ?? MAX_AUTH_BODY_BYTES, false);
  if ("refused" in read) return read;
  return { req: withBody(req, read.body) };
}
