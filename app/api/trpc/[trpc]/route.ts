import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/trpc/root";
import { contextFor } from "@/server/trpc/init";
import { getServices } from "@/server/services";
import { currentUser } from "@/server/web/current-user";
import { guardApiRequest, MAX_BATCH_CALLS } from "@/server/web/request-guard";

export const dynamic = "force-dynamic";

async function handler(original: Request) {
  // Refused before tRPC sees it: a request from another origin's page (CSRF), a mutation that isn't JSON, a body
  // over the size limit. See server/web/request-guard.ts.
  const guarded = await guardApiRequest(original);
  if ("refused" in guarded) return guarded.refused;
  const { req } = guarded;
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    maxBatchSize: MAX_BATCH_CALLS,
    // A Bearer token (programs, the CLI) or else the console session; see contextFor.
    createContext: async () => contextFor(req, await getServices(), currentUser),
  });
}

export { handler as GET, handler as POST };
