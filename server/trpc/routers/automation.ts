// automationRouter: what the Backup page shows of automatic backups (pending retry, 1401, alerts) and the
// console-level notification webhook (kept in console.sqlite, docs/settings.md).
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { checkWebhook, REFUSED_RANGES_TEXT } from "../../automation/webhook";
import { adminProcedure, operatorProcedure, router, viewerProcedure } from "../init";

const webhookSchema = z
  .string()
  .trim()
  .max(2000, "The webhook URL has at most 2000 characters.")
  .refine((u) => u === "" || /^https?:\/\/[^\s]+$/i.test(u), "The webhook must be an http:// or https:// URL, or empty to send none.");

export const automationRouter = router({
  state: viewerProcedure.query(({ ctx }) => ctx.services.automation.state()),
  cancelRetry: operatorProcedure.mutation(({ ctx }) => ({ canceled: ctx.services.automation.cancelRetry() })),
  /** One alert (`id`) or a group of them (`ids`, as the Backup page shows them grouped). */
  acknowledge: operatorProcedure
    .input(z.union([z.object({ id: z.number().int() }), z.object({ ids: z.array(z.number().int()).min(1).max(100_000) })]))
    .mutation(({ ctx, input }) => ({ acknowledged: ctx.services.automation.acknowledgeMany("ids" in input ? input.ids : [input.id], ctx.user.username) > 0 })),
  acknowledgeAll: operatorProcedure.mutation(({ ctx }) => ({ acknowledged: ctx.services.automation.acknowledgeAll(ctx.user.username) })),
  webhook: adminProcedure.query(({ ctx }) => ({ ...ctx.services.alerts.webhook(), refusedUnlessAllowed: REFUSED_RANGES_TEXT })),
  /** Checked before it is saved: the URL's form, and (unless allowed) that its host doesn't resolve to a private address. */
  setWebhook: adminProcedure
    .input(z.object({ url: webhookSchema, allowPrivate: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      let url: string | null = null;
      if (input.url) {
        url = await checkWebhook(input.url, { allowPrivate: input.allowPrivate }).catch((err: Error) => {
          throw new TRPCError({ code: "BAD_REQUEST", message: `The webhook was not saved: ${err.message}` });
        });
      }
      ctx.services.alerts.setWebhook({ url, allowPrivate: input.allowPrivate });
      return ctx.services.alerts.webhook();
    }),
});
