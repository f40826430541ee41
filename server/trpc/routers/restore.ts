// restoreRouter: the Restore page (admins) — archives and their contents, restore to a folder, restore in place,
// rollback to an operation, verification and its schedule. Long operations run in the one operation slot and return
// their id at once; progress and the outcome come on the tab's event stream. The domain is server/restore.
import path from "node:path";
import { z } from "zod";
import { VERIFICATION_FREQUENCIES } from "../../restore/verification-store";
import { adminProcedure, router, triggerOf } from "../init";

const absolutePath = z.string().min(1).max(4096).refine((p) => path.isAbsolute(p), "Give an absolute path on the server.");

/** The Restore page's check boxes; attachments by their original path. */
const partsSchema = z.object({
  structure: z.boolean(),
  dataFile: z.boolean(),
  dataSettings: z.boolean(),
  attachments: z.array(absolutePath).max(10_000),
}).refine((p) => p.structure || p.dataFile || p.dataSettings || p.attachments.length > 0, "Tick at least one part to restore.");

export const restoreRouter = router({
  archives: adminProcedure.query(({ ctx }) => ctx.services.restores.archives()),

  contents: adminProcedure.input(z.object({ archivePath: absolutePath })).query(({ ctx, input }) => ctx.services.restores.contents(input.archivePath)),

  checkTarget: adminProcedure.input(z.object({ target: absolutePath, overwrite: z.boolean() }))
    .query(({ ctx, input }) => ctx.services.restores.checkTarget(input.target, input.overwrite)),

  start: adminProcedure
    .input(z.object({ archivePath: absolutePath, target: absolutePath, parts: partsSchema, overwrite: z.boolean(), integrateLog: z.boolean(), includeCurrentLog: z.boolean() }))
    .mutation(async ({ ctx, input }) => ({ operationId: (await ctx.services.restores.startToFolder(input, triggerOf(ctx.user))).operationId })),

  inPlace: adminProcedure
    .input(z.object({ archivePath: absolutePath, integrateLog: z.boolean(), confirm: z.literal(true) }))
    .mutation(async ({ ctx, input }) => ({ operationId: (await ctx.services.restores.startInPlace(input, triggerOf(ctx.user))).operationId })),

  logOperations: adminProcedure
    .input(z.object({ offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(200).default(50), search: z.string().max(200).optional() }))
    .query(({ ctx, input }) => ctx.services.restores.logOperations(input)),

  rollback: adminProcedure
    .input(z.object({ operation: z.number().int().min(0), confirm: z.literal(true) }))
    .mutation(async ({ ctx, input }) => ({ operationId: (await ctx.services.restores.rollback(input.operation, triggerOf(ctx.user))).operationId })),

  verify: adminProcedure.input(z.object({ archivePath: absolutePath }))
    .mutation(async ({ ctx, input }) => ({ operationId: (await ctx.services.restores.verify(input.archivePath, triggerOf(ctx.user))).operationId })),

  verificationSchedule: adminProcedure.query(({ ctx }) => ctx.services.restores.verificationSchedule()),

  setVerificationSchedule: adminProcedure
    .input(z.object({ frequency: z.enum(VERIFICATION_FREQUENCIES), hour: z.number().int().min(0).max(23), weekday: z.number().int().min(0).max(6) }))
    .mutation(({ ctx, input }) => {
      ctx.services.restores.setVerificationSchedule(input);
      return { saved: true as const };
    }),
});
