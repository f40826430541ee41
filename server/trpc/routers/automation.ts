// automationRouter: what the Backup page shows of automatic backups (pending retry, 1401, alerts) and the
// console-level notification webhook (kept in console.sqlite, spec §6).
import { z } from "zod";
import { adminProcedure, operatorProcedure, router, viewerProcedure } from "../init";

const webhookSchema = z
  .string()
  .trim()
  .max(2000)
  .refine((u) => u === "" || /^https?:\/\/[^\s]+$/i.test(u), "The webhook must be an http:// or https:// URL, or empty to send none.");

export const automationRouter = router({
  state: viewerProcedure.query(({ ctx }) => ctx.services.automation.state()),
  cancelRetry: operatorProcedure.mutation(({ ctx }) => ({ canceled: ctx.services.automation.cancelRetry() })),
  acknowledge: operatorProcedure
    .input(z.object({ id: z.number().int() }))
    .mutation(({ ctx, input }) => ({ acknowledged: ctx.services.automation.acknowledge(input.id, ctx.user.username) })),
  webhook: adminProcedure.query(({ ctx }) => ({ url: ctx.services.alerts.webhookUrl() })),
  setWebhook: adminProcedure
    .input(z.object({ url: webhookSchema }))
    .mutation(({ ctx, input }) => {
      ctx.services.alerts.setWebhookUrl(input.url || null);
      return { url: ctx.services.alerts.webhookUrl() };
    }),
});
