// The alert webhook (docs/operations.md): alerts POSTed as JSON to a URL an admin set. The server makes that request from
// inside the network it runs in, so by default it refuses to reach places only it can reach: loopback, link-local
// (cloud metadata at 169.254.169.254), private and unique-local ranges, "this network" — whether the URL names
// them or a host name resolves to them. The name is resolved when the URL is saved and again for each request, and
// the request connects to exactly the address that was checked (no second lookup in between). An admin may allow
// such addresses (a webhook receiver on the same machine or LAN). Redirects are never followed: a 3xx is a failure.
import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { Alert, WebhookSetting } from "./alerts";

/** What the page says is refused unless allowed. */
export const REFUSED_RANGES_TEXT =
  "loopback (127.0.0.0/8, ::1), link-local (169.254.0.0/16, fe80::/10), private (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, " +
  "fc00::/7), shared (100.64.0.0/10), 0.0.0.0 and multicast";

const refused = new net.BlockList();
for (const [net4, prefix] of [["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
  ["192.168.0.0", 16], ["224.0.0.0", 4], ["240.0.0.0", 4]] as const) refused.addSubnet(net4, prefix, "ipv4");
for (const [net6, prefix] of [["::", 128], ["::1", 128], ["fe80::", 10], ["fc00::", 7], ["ff00::", 8]] as const) refused.addSubnet(net6, prefix, "ipv6");

/** Whether an IP address is one the webhook may not reach unless allowed (IPv4-mapped IPv6 counts as its IPv4). */
export function isRefusedAddress(address: string): boolean {
  const family = net.isIPv4(address) ? "ipv4" : net.isIPv6(address) ? "ipv6" : null;
  if (!family) return true;
  const mapped = family === "ipv6" ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] : undefined;
  return mapped ? refused.check(mapped, "ipv4") : refused.check(address, family);
}

export class WebhookError extends Error {
  constructor(message: string) { super(message); this.name = "WebhookError"; }
}

/** The URL's form: http or https, a host, nothing else. Throws WebhookError with what to fix. */
export function parseWebhookUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebhookError(`"${text}" is not a URL. Give an http:// or https:// URL.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new WebhookError(`The webhook must be an http:// or https:// URL, not ${url.protocol}//.`);
  if (!url.hostname) throw new WebhookError("The webhook URL has no host.");
  return url;
}

const bare = (hostname: string) => hostname.replace(/^\[(.*)\]$/, "$1");

type Lookup = (hostname: string) => Promise<Array<{ address: string; family: number }>>;
const systemLookup: Lookup = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/**
 * The address to connect to for `url`: its IP literal, or the first address its host resolves to; refused (every
 * address is checked, so a name with one private address among public ones is refused too) unless allowed.
 */
export async function resolveWebhookAddress(url: URL, opts: { allowPrivate: boolean; lookup?: Lookup }): Promise<{ address: string; family: 4 | 6 }> {
  const host = bare(url.hostname);
  let addresses: Array<{ address: string; family: number }>;
  if (net.isIP(host)) addresses = [{ address: host, family: net.isIP(host) }];
  else {
    try {
      addresses = await (opts.lookup ?? systemLookup)(host);
    } catch (err) {
      throw new WebhookError(`The webhook's host ${host} can't be resolved (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Check the URL.`);
    }
    if (addresses.length === 0) throw new WebhookError(`The webhook's host ${host} has no address.`);
  }
  if (!opts.allowPrivate) {
    const bad = addresses.find((a) => isRefusedAddress(a.address));
    if (bad) {
      throw new WebhookError(`The webhook's host ${host}${bad.address === host ? "" : ` resolves to ${bad.address}, which`} is a loopback, link-local, private ` +
        `or reserved address: alerts are not sent there unless "Allow private and loopback addresses" is ticked.`);
    }
  }
  const first = addresses[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** Checks a webhook before it is saved: form, and where its host resolves now. Throws WebhookError. */
export async function checkWebhook(text: string, opts: { allowPrivate: boolean; lookup?: Lookup }): Promise<string> {
  const url = parseWebhookUrl(text);
  await resolveWebhookAddress(url, opts);
  return url.toString();
}

/**
 * The webhook as the Settings page sends it with the other settings, checked before anything is saved: empty for
 * none, else an http(s) URL whose host may be reached (checkWebhook). Unchanged from `current`, it is not checked
 * again (a name server down must not block saving the backup settings). A problem is said in words, for the field.
 */
export async function webhookToSave(input: { url: string; allowPrivate: boolean }, current: WebhookSetting, opts: { lookup?: Lookup } = {}):
  Promise<{ setting: WebhookSetting; changed: boolean } | { problem: string }> {
  const text = input.url.trim();
  if (text === (current.url ?? "") && input.allowPrivate === current.allowPrivate) return { setting: current, changed: false };
  if (text === "") return { setting: { url: null, allowPrivate: input.allowPrivate }, changed: true };
  if (text.length > 2000) return { problem: "The webhook URL has at most 2000 characters." };
  try {
    return { setting: { url: await checkWebhook(text, { allowPrivate: input.allowPrivate, lookup: opts.lookup }), allowPrivate: input.allowPrivate }, changed: true };
  } catch (err) {
    if (err instanceof Error && err.name === "WebhookError") return { problem: err.message };
    throw err;
  }
}

const TIMEOUT_MS = 10_000;

/** POSTs the alert as JSON; a webhook that fails is reported, never retried in a loop. */
export async function sendWebhook(setting: { url: string; allowPrivate: boolean }, alert: Alert, extra: Record<string, unknown> = {},
  opts: { lookup?: Lookup } = {}): Promise<{ ok: boolean; error?: string }> {
  try {
    const url = parseWebhookUrl(setting.url);
    const { address, family } = await resolveWebhookAddress(url, { allowPrivate: setting.allowPrivate, lookup: opts.lookup });
    const body = JSON.stringify({ source: "strongbox", statusCode: alert.status, statusText: alert.text, database: alert.database,
      scheduledDate: alert.scheduledDate, raisedAt: alert.createdAt, ...extra });
    const status = await post(url, address, family, body);
    if (status >= 300 && status < 400) return { ok: false, error: `HTTP ${status}: the webhook answered with a redirect, which is not followed. Set the final URL.` };
    return status >= 200 && status < 300 ? { ok: true } : { ok: false, error: `HTTP ${status}` };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** One POST to the checked address (the Host header and TLS name stay the URL's host). Resolves with the status. */
function post(url: URL, address: string, family: 4 | 6, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === "https:" ? https : http;
    const req = client.request(url, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), "user-agent": "Strongbox" },
      // Connect to the address that was checked: no second lookup that could answer differently.
      lookup: (_host, options, callback) => {
        if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address, family }]);
        else callback(null, address, family);
      },
      timeout: TIMEOUT_MS,
    }, (res) => {
      res.resume(); // the answer's body is not needed
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    const fail = () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`));
    // Both: no data for that long, or no whole answer for that long (a receiver that answers a byte at a time).
    req.on("timeout", fail);
    const overall = setTimeout(fail, TIMEOUT_MS);
    req.on("close", () => clearTimeout(overall));
    req.on("error", reject);
    req.end(body);
  });
}
