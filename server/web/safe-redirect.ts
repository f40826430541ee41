// Where the browser may be sent after signing in or out: a path on this console, never another site. "//host",
// "/\host", "/.//host" (which a URL parser turns into "//host") and their percent-encoded forms would all leave
// the site, so anything that isn't plainly a local path becomes "/".
const BASE = "http://strongbox.invalid";

/** `target` as a local path ("/journal?x=1"), or "/" when it could lead anywhere else. */
export function safeLocalPath(target: string | null | undefined): string {
  if (typeof target !== "string" || !target.startsWith("/") || target.length > 2000) return "/";
  let decoded = target;
  try {
    // Decoded (repeatedly, a few times) only to look for a way off-site; what is returned is the parsed original.
    for (let i = 0; i < 3 && /%[0-9a-f]{2}/i.test(decoded); i++) decoded = decodeURIComponent(decoded);
  } catch {
    return "/";
  }
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(decoded) || decoded.startsWith("//")) return "/";
  let url: URL;
  try {
    url = new URL(target, BASE);
  } catch {
    return "/";
  }
  const path = url.pathname + url.search + url.hash;
  if (url.origin !== BASE || !path.startsWith("/") || path.startsWith("//")) return "/";
  return path;
}

/**
 * next-auth's redirect callback: a URL on the console's own origin (`baseUrl`) or a local path, else the console's
 * home page.
 */
export function safeRedirect({ url, baseUrl }: { url: string; baseUrl: string }): string {
  const base = new URL(baseUrl);
  let local: string | null = null;
  if (url.startsWith("/")) local = url;
  else {
    try {
      const parsed = new URL(url);
      if (parsed.origin === base.origin) local = parsed.pathname + parsed.search + parsed.hash;
    } catch {
      local = null;
    }
  }
  return base.origin + safeLocalPath(local);
}
