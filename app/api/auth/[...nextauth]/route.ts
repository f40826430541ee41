import NextAuth from "next-auth";
import { NextRequest } from "next/server";
import { getAuthOptions } from "@/server/web/auth-options";
import { guardRouteRequest } from "@/server/web/request-guard";

export const dynamic = "force-dynamic";

async function handler(original: NextRequest, ctx: { params: Promise<{ nextauth: string[] }> }) {
  // next-auth's own CSRF token protects its forms; the origin check and a body limit come on top (request-guard.ts).
  const guarded = await guardRouteRequest(original);
  if ("refused" in guarded) return guarded.refused;
  // next-auth 4 reads params synchronously; Next 16 hands them over as a promise.
  const params = await ctx.params;
  return NextAuth(new NextRequest(guarded.req) as never, { params } as never, await getAuthOptions());
}

export { handler as GET, handler as POST };
