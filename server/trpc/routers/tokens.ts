// tokensRouter: API tokens (docs/roles-and-api.md, admin only) — list, create (the secret is returned this once), revoke.
import { z } from "zod";
import { TRPCError } from "@trpc/server";
import { tokenNameSchema, tokenRoleSchema } from "../../auth/api-tokens";
import { isDomainError } from "../../errors";
import { adminProcedure, apiTokens, router } from "../init";

function tokenErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isDomainError(err)) throw new TRPCError({ code: "BAD_REQUEST", message: err.message });
    throw err;
  }
}

export const tokensRouter = router({
  list: adminProcedure.query(({ ctx }) => apiTokens(ctx.services).list()),
  create: adminProcedure
    .input(z.object({ name: tokenNameSchema, role: tokenRoleSchema }))
    .mutation(({ ctx, input }) => tokenErrors(() => apiTokens(ctx.services).create(input.name, input.role, ctx.user.username))),
  revoke: adminProcedure
    .input(z.object({ id: z.number().int() }))
    .mutation(({ ctx, input }) => tokenErrors(() => apiTokens(ctx.services).revoke(input.id))),
});
