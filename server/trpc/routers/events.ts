// eventsRouter: the tab's one event stream (spec §10) over server-sent events. A client that (re)connects first
// gets the whole state, then changes; we start listening before reading the state so nothing falls in between.
import { on } from "node:events";
import { TRPCError } from "@trpc/server";
import { hasRole, type Role } from "../../auth/roles";
import type { LockState } from "../../locks/backup-locks";
import type { EngineEvent, OperationOutcome, OperationProgress } from "../../engine/progress";
import type { Services } from "../../services";
import { currentPrincipal, router, viewerProcedure, type Principal } from "../init";

export type ConsoleEvent = { type: "state"; running: OperationProgress | null; last: OperationOutcome | null; locks: LockState } | EngineEvent;

/**
 * Streams outlive the request that checked the role, so they re-check the caller's current record (user or API
 * token) on every event: a removed user's or a revoked token's stream ends at once.
 */
export function recheck(services: Services, principal: Principal, role: Role): void {
  const current = currentPrincipal(services, principal);
  if (!current || !hasRole(current.role, role)) {
    const message = principal.kind === "token" ? "This API token was revoked or lost its role." : "Your session is no longer valid.";
    throw new TRPCError({ code: "UNAUTHORIZED", message });
  }
}

/** A stream ends when its client goes, or when the server shuts down (so that a graceful stop doesn't wait on it). */
export function streamSignal(services: Services, signal: AbortSignal | undefined): AbortSignal {
  return signal ? AbortSignal.any([signal, services.shutdown.signal]) : services.shutdown.signal;
}

export const eventsRouter = router({
  onEvents: viewerProcedure.subscription(async function* ({ ctx, signal }): AsyncGenerator<ConsoleEvent> {
    const { engine } = ctx.services;
    const events = on(engine, "event", { signal: streamSignal(ctx.services, signal) });
    yield { type: "state", running: engine.running, last: engine.lastResult, locks: engine.locks.state() };
    for await (const [event] of events as AsyncIterable<[EngineEvent]>) {
      recheck(ctx.services, ctx.user, "viewer");
      yield event;
    }
  }),
});
