// Who may download the backup journal: viewers and up (docs/console.md), read from the user's or the API token's current
// record on every request, exactly as the tRPC procedures do (server/web/principal.ts: a Bearer token, else the session).
import { getServices, type Services } from "@/server/services";
import { currentUser } from "@/server/web/current-user";
import { refusalFor, resolvePrincipal } from "@/server/web/principal";
import { guardRouteRequest } from "@/server/web/request-guard";

/** The services when the caller may download, else the 401/403 response to send. */
export async function authorizeDownload(req: Request): Promise<{ services: Services } | { refused: Response }> {
  // A page of another origin can't make the signed-in browser fetch the journal (a link opened from elsewhere can).
  const guarded = await guardRouteRequest(req);
  if ("refused" in guarded) return guarded;
  const services = await getServices();
  const { principal, authError } = await resolvePrincipal(req, services, currentUser);
  const refusal = refusalFor(principal, "viewer",
    { authError, signInText: "Sign in to download the backup journal.", roleText: "Your role does not allow downloading the backup journal." });
  if (!refusal) return { services };
  return { refused: new Response(refusal.message + "\n", { status: refusal.status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } }) };
}
