// offsiteRouter: the Off-site tab of the Settings page (admins only: the destination names the storage and its
// credentials). What it shows never holds the secret; Test connection runs on the form's values, saved or not,
// with the stored secret when the field was left empty. Saving goes with the page's one Save (settings.update).
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { viewOffsiteForm } from "../../offsite/offsite-form";
import { resolveDestinationInput } from "../../offsite/offsite-settings";
import { SecretBox } from "../../offsite/secret-box";
import { testConnection } from "../../offsite/test-connection";
import type { Services } from "../../services";
import { adminProcedure, router } from "../init";

/** The key that seals stored secrets (STRONGBOX_HOME/offsite.key); a key file others can read is refused with its reason. */
export function secretBoxOf(services: Services): SecretBox {
  try {
    return SecretBox.load(services.paths.home);
  } catch (err) {
    throw new TRPCError({ code: "PRECONDITION_FAILED", message: (err as Error).message, cause: err });
  }
}

export const offsiteRouter = router({
  get: adminProcedure.query(({ ctx }) => viewOffsiteForm(ctx.services.consoleDb)),
  testConnection: adminProcedure.input(z.object({ destination: z.unknown() })).mutation(async ({ ctx, input, signal }) => {
    let dest;
    try {
      dest = resolveDestinationInput(ctx.services.consoleDb, secretBoxOf(ctx.services), input.destination);
    } catch (err) {
      // A field the test can't run with; a stored secret that no longer opens is one to enter again.
      if (err instanceof Error && (err.name === "OffsiteSettingsError" || err.name === "SecretBoxError")) {
        const field = err.name === "OffsiteSettingsError" ? (err as Error & { field: string }).field : "secretAccessKey";
        return { inputProblem: { path: `offsite.${field}`, message: err.message }, result: null };
      }
      throw err;
    }
    return { inputProblem: null, result: await testConnection(dest, { signal }) };
  }),
});
