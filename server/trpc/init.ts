// tRPC setup: the context carries the current principal (a console user or an API token, from its record, per
// request) and the services; procedures check the role on the server; domain errors become transport errors here.
import { initTRPC, TRPCError } from "@trpc/server";
import { ApiTokens } from "../auth/api-tokens";
import type { Role } from "../auth/roles";
import type { User } from "../auth/users";
import type { Trigger } from "../isomorphic/operation-kinds";
import type { Services } from "../services";
import { SHUTTING_DOWN_MESSAGE, SHUTTING_DOWN_STREAM_MESSAGE } from "../shutdown";
import { isSettingsInputError } from "../settings/settings-input";
import { isDomainError } from "../errors";
import { refusalFor, resolvePrincipal, type Principal } from "../web/principal";
import { testStreamMaxMsFromEnv } from "../config";

export type { Principal } from "../web/principal";
export { currentPrincipal } from "../web/principal";

export interface Context {
  user: Principal | null;
  /** Why a request that tried to authenticate was refused (a wrong or revoked token), for the 401 message. */
  authError?: string;
  services: Services;
}

/** The token store over the console database (stateless, so one per call is fine; no change to the services). */
export const apiTokens = (services: Services) => new ApiTokens(services.consoleDb);

/** The context for one request: its principal (server/web/principal.ts) and the services. */
export async function contextFor(req: Request, services: Services, sessionUser: () => Promise<User | null>): Promise<Context> {
  const { principal, authError } = await resolvePrincipal(req, services, sessionUser);
  return authError ? { user: principal, services, authError } : { user: principal, services };
}

const t = initTRPC.context<Context>().create({
  // SSE keep-alive so that proxies and the browser don't drop an idle progress stream.
  sse: { ping: { enabled: true, intervalMs: 10_000 }, client: { reconnectAfterInactivityMs: 25_000 },
    maxDurationMs: testStreamMaxMsFromEnv(process.env.STRONGBOX_E2E_BUILD === "1") },
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    // Refused settings carry their problems with the field each is about, for the Settings page.
    return { ...shape, data: { ...shape.data, backupStatus: isDomainError(cause) ? cause.status : null, problems: isSettingsInputError(cause) ? cause.problems : null } };
  },
});

export const router = t.router;

/** Domain errors to transport errors: each DomainError carries the code it means (-9976 is a conflict). */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && isDomainError(result.error.cause)) {
    const cause = result.error.cause;
    throw new TRPCError({ code: cause.code, message: cause.message, cause });
  }
  return result;
});

/**
 * While the server stops, changes and new streams are refused (503) so that nothing starts that the stop would
 * cut; calls under way are counted, and the stop lets them finish before it closes the data file.
 */
const duringShutdown = t.middleware(async ({ ctx, type, next }) => {
  const { shutdown } = ctx.services;
  if (shutdown.stopping && type !== "query") {
    throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: type === "subscription" ? SHUTTING_DOWN_STREAM_MESSAGE : SHUTTING_DOWN_MESSAGE });
  }
  if (type === "subscription") return next();
  const leave = shutdown.enter();
  try {
    return await next();
  } finally {
    leave();
  }
});

/** `passwordChange`: the one procedure a user who must change their password may call (their own password change). */
export function procedureFor(role: Role, opts: { passwordChange?: boolean } = {}) {
  return t.procedure.use(mapErrors).use(duringShutdown).use(({ ctx, next }) => {
    const refusal = refusalFor(ctx.user, role, { authError: ctx.authError, passwordChange: opts.passwordChange });
    if (refusal || !ctx.user) throw new TRPCError({ code: refusal?.status === 403 ? "FORBIDDEN" : "UNAUTHORIZED", message: refusal?.message ?? "Sign in to use the console." });
    return next({ ctx: { ...ctx, user: ctx.user } });
  });
}

/** How a caller's operation is recorded: an API token's is the BACKUP command (`command`), a user's is `manual`. */
export const triggerOf = (user: Principal): Trigger => ({ kind: user.kind === "token" ? "command" : "manual", user: user.username });

export const viewerProcedure = procedureFor("viewer");
export const operatorProcedure = procedureFor("operator");
export const adminProcedure = procedureFor("admin");
/** Any signed-in user, also one who must change their password first: for changing it. */
export const ownPasswordProcedure = procedureFor("viewer", { passwordChange: true });
