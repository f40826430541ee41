// tRPC setup: the context carries the current user (from its record, per request) and the services; procedures
// check the role on the server; domain errors become transport errors here, at the edge.
import { initTRPC, TRPCError } from "@trpc/server";
import { hasRole, type Role } from "../auth/roles";
import type { User } from "../auth/users";
import type { Services } from "../services";
import { isBackupError, STATUS } from "../status";

export interface Context {
  user: User | null;
  services: Services;
}

const t = initTRPC.context<Context>().create({
  // SSE keep-alive so that proxies and the browser don't drop an idle progress stream.
  sse: { ping: { enabled: true, intervalMs: 10_000 }, client: { reconnectAfterInactivityMs: 25_000 } },
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    return { ...shape, data: { ...shape.data, backupStatus: isBackupError(cause) ? cause.status : null } };
  },
});

export const router = t.router;

/** Domain errors to transport errors: -9976 is a conflict; other BackupErrors are bad requests with their text. */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && isBackupError(result.error.cause)) {
    const cause = result.error.cause;
    throw new TRPCError({ code: cause.status === STATUS.BACKUP_IN_PROGRESS ? "CONFLICT" : "BAD_REQUEST", message: cause.message, cause });
  }
  return result;
});

export function procedureFor(role: Role) {
  return t.procedure.use(mapErrors).use(({ ctx, next }) => {
    if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to use the console." });
    if (!hasRole(ctx.user.role, role)) {
      throw new TRPCError({ code: "FORBIDDEN", message: `This needs the ${role} role; you are signed in as a ${ctx.user.role}.` });
    }
    return next({ ctx: { ...ctx, user: ctx.user } });
  });
}

export const viewerProcedure = procedureFor("viewer");
export const operatorProcedure = procedureFor("operator");
export const adminProcedure = procedureFor("admin");
