import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/trpc/root";
import { contextFor } from "@/server/trpc/init";
import { getServices } from "@/server/services";
import { currentUser } from "@/server/web/current-user";

export const dynamic = "force-dynamic";

function handler(req: Request) {
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    // A Bearer token (programs, the CLI) or else the console session; see contextFor.
    createContext: async () => contextFor(req, await getServices(), currentUser),
  });
}

export { handler as GET, handler as POST };
