// usersRouter: console users and roles (docs/console.md, admin only), and "who am I" for everyone signed in.
import { z } from "zod";
import { TRPCError } from "@trpc/server";
import { passwordSchema, roleSchema, usernameSchema } from "../../auth/users";
import { isDomainError } from "../../errors";
import { adminProcedure, ownPasswordProcedure, router, viewerProcedure } from "../init";

async function userErrors<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isDomainError(err)) throw new TRPCError({ code: "BAD_REQUEST", message: err.message });
    throw err;
  }
}

export const usersRouter = router({
  me: ownPasswordProcedure.query(({ ctx }) => ({ kind: ctx.user.kind, id: ctx.user.id, username: ctx.user.username, role: ctx.user.role, createdAt: ctx.user.createdAt,
    mustChangePassword: ctx.user.mustChangePassword })),
  list: adminProcedure.query(({ ctx }) => ctx.services.users.list().map(({ sessionVersion: _, ...u }) => u)),
  /**
   * A signed-in user changes their own password, giving the current one. Every session of the user ends, this one
   * included (the page signs in again with the new password). API tokens have no password to change.
   */
  changeOwnPassword: ownPasswordProcedure
    .input(z.object({ current: z.string().min(1, "Enter your current password.").max(200), password: passwordSchema }))
    .mutation(async ({ ctx, input }) => {
      if (ctx.user.kind !== "user") throw new TRPCError({ code: "BAD_REQUEST", message: "An API token has no password: only a user signed in to the console changes their password." });
      const user = await userErrors(() => ctx.services.users.changeOwnPassword(ctx.user.id, input.current, input.password, "signed-in session"));
      return { username: user.username };
    }),
  create: adminProcedure
    .input(z.object({ username: usernameSchema, password: passwordSchema, role: roleSchema }))
    .mutation(({ ctx, input }) => userErrors(() => ctx.services.users.create(input.username, input.password, input.role))),
  setRole: adminProcedure
    .input(z.object({ id: z.number().int(), role: roleSchema }))
    .mutation(({ ctx, input }) => userErrors(() => ctx.services.users.setRole(input.id, input.role))),
  /**
   * A new password for a user; every session that user has ends (they sign in again with it). With
   * `mustChange`, they must choose their own at that sign-in before anything else.
   */
  setPassword: adminProcedure
    .input(z.object({ id: z.number().int(), password: passwordSchema, mustChange: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      const user = await userErrors(() => ctx.services.users.setPassword(input.id, input.password, { mustChange: input.mustChange }));
      return { id: user.id, username: user.username, mustChangePassword: user.mustChangePassword };
    }),
  remove: adminProcedure
    .input(z.object({ id: z.number().int() }))
    .mutation(({ ctx, input }) => userErrors(() => ctx.services.users.remove(input.id))),
});
