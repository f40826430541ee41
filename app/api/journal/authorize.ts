// Who may download the backup journal: viewers and up (spec §10), read from the user's or the API token's current
// record on every request, exactly as the tRPC procedures do (contextFor: a Bearer token, else the session).
import { hasRole } from "@/server/auth/roles";
import { getServices, type Services } from "@/server/services";
import { contextFor, MUST_CHANGE_PASSWORD_MESSAGE } from "@/server/trpc/init";
import { currentUser } from "@/server/web/current-user";
import { guardRouteRequest } from "@/server/web/request-guard";

/** The services when the caller may download, else the 401/403 response to send. */
export async function authorizeDownload(req: Request): Promise<{ services: Services } | { refused: Response }> {
  // A page of another origin can't make the signed-in browser fetch the journal (a link opened from elsewhere can).
  const guarded = await guardRouteRequest(req);
  if ("refused" in guarded) return guarded;
  const services = await getServices();
  const { user, authError } = await contextFor(req, services, currentUser);
  const refuse = (status: number, text: string) =>
    ({ refused: new Response(text + "\n", { status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } }) });
  if (!user) return refuse(401, authError ?? "Sign in to download the backup journal.");
  if (user.mustChangePassword) return refuse(403, MUST_CHANGE_PASSWORD_MESSAGE);
  if (!hasRole(user.role, "viewer")) return refuse(403, "Your role does not allow downloading the backup journal.");
  return { services };
}
