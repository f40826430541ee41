import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/trpc/root";
import { getServices } from "@/server/services";
import { currentUser } from "@/server/web/current-user";

export const dynamic = "force-dynamic";

function handler(req: Request) {
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: async () => ({ user: await currentUser(), services: await getServices() }),
  });
}

export { handler as GET, handler as POST };
