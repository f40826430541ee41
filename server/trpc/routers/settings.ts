// settingsRouter: Settings/Backup.4DSettings for the Settings page — input, role, one call into the settings
// service (server/settings/settings-service.ts), which reads, previews and saves.
import { z } from "zod";
import type { SettingsInput } from "../../settings/settings-input";
import type { OffsiteFormInput } from "../../offsite/offsite-form";
import { adminProcedure, router, viewerProcedure } from "../init";

export const settingsRouter = router({
  /** The cron field's preview: the expression in plain words and its next five runs, server time. */
  cronPreview: viewerProcedure.input(z.object({ expression: z.string().max(200) }))
    .query(({ ctx, input }) => ctx.services.settings.cronPreview(input.expression)),
  /** The Scheduler tab's preview of the schedule being edited (any frequency): its next five runs, server time. */
  schedulePreview: viewerProcedure.input(z.object({ scheduler: z.unknown() }))
    .query(({ ctx, input }) => ctx.services.settings.schedulePreview(input.scheduler)),
  get: viewerProcedure.query(({ ctx }) => ctx.services.settings.get()),
  update: adminProcedure
    // Typed for the client, checked by the service so every problem gets a plain-English message.
    .input(z.object({
      settings: z.custom<SettingsInput>((v) => typeof v === "object" && v !== null), revision: z.string().max(64).optional(), wait: z.boolean().optional(),
      // The alert webhook, saved with the settings by the page's one Save (a console setting, kept in console.sqlite).
      webhook: z.object({ url: z.string().max(4000), allowPrivate: z.boolean() }).optional(),
      // The Off-site tab, when the admin changed it (console settings in console.sqlite; checked in offsite-form.ts).
      offsite: z.custom<OffsiteFormInput>((v) => typeof v === "object" && v !== null).optional(),
    }))
.mutation(({ ctx, input, signal }) => ctx.services.settings.save({ ...input, by: ctx.user.username, signal })),
});
