// usersRouter: console users and roles (spec §10, admin only), and "who am I" for everyone signed in.
import { z } from "zod";
import { TRPCError } from "@trpc/server";
import { passwordSchema, roleSchema, usernameSchema, UserError } from "../../auth/users";
import { adminProcedure, router, viewerProcedure } from "../init";

function userErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UserError) throw new TRPCError({ code: "BAD_REQUEST", message: err.message });
    throw err;
  }
}

export const usersRouter = router({
  me: viewerProcedure.query(({ ctx }) => ctx.user),
  list: adminProcedure.query(({ ctx }) => ctx.services.users.list()),
  create: adminProcedure
    .input(z.object({ username: usernameSchema, password: passwordSchema, role: roleSchema }))
    .mutation(async ({ ctx, input }) => {
      try {
        return await ctx.services.users.create(input.username, input.password, input.role);
      } catch (err) {
        return userErrors(() => { throw err; });
      }
    }),
  setRole: adminProcedure
    .input(z.object({ id: z.number().int(), role: roleSchema }))
    .mutation(({ ctx, input }) => userErrors(() => ctx.services.users.setRole(input.id, input.role))),
  remove: adminProcedure
    .input(z.object({ id: z.number().int() }))
    .mutation(({ ctx, input }) => userErrors(() => ctx.services.users.remove(input.id))),
});
