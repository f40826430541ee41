import NextAuth from "next-auth";
import { getAuthOptions } from "@/server/web/auth-options";

export const dynamic = "force-dynamic";

async function handler(req: Request, ctx: { params: Promise<{ nextauth: string[] }> }) {
  // next-auth 4 reads params synchronously; Next 16 hands them over as a promise.
  const params = await ctx.params;
  return NextAuth(req as never, { params } as never, await getAuthOptions());
}

export { handler as GET, handler as POST };
