// usersRouter: console users and roles (spec §10, admin only), and "who am I" for everyone signed in.
import { z } from "zod";
import { TRPCError } from "@trpc/server";
import { passwordSchema, roleSchema, usernameSchema } from "../../auth/users";
import { isDomainError } from "../../errors";
import { adminProcedure, router, viewerProcedure } from "../init";

async function userErrors<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isDomainError(err)) throw new TRPCError({ code: "BAD_REQUEST", message: err.message });
    throw err;
  }
}

export const usersRouter = router({
  me: viewerProcedure.query(({ ctx }) => ({ kind: ctx.user.kind, id: ctx.user.id, username: ctx.user.username, role: ctx.user.role, createdAt: ctx.user.createdAt })),
  list: adminProcedure.query(({ ctx }) => ctx.services.users.list().map(({ sessionVersion: _, ...u }) => u)),
  create: adminProcedure
    .input(z.object({ username: usernameSchema, password: passwordSchema, role: roleSchema }))
    .mutation(({ ctx, input }) => userErrors(() => ctx.services.users.create(input.username, input.password, input.role))),
  setRole: adminProcedure
    .input(z.object({ id: z.number().int(), role: roleSchema }))
    .mutation(({ ctx, input }) => userErrors(() => ctx.services.users.setRole(input.id, input.role))),
  /** A new password for a user; every session that user has ends (they sign in again with it). */
  setPassword: adminProcedure
    .input(z.object({ id: z.number().int(), password: passwordSchema }))
    .mutation(async ({ ctx, input }) => {
      const user = await userErrors(() => ctx.services.users.setPassword(input.id, input.password));
      return { id: user.id, username: user.username };
    }),
  remove: adminProcedure
    .input(z.object({ id: z.number().int() }))
    .mutation(({ ctx, input }) => userErrors(() => ctx.services.users.remove(input.id))),
});
