// eventsRouter: the tab's one event stream (spec §10) over server-sent events. A client that (re)connects first
// gets the whole state, then changes; we start listening before reading the state so nothing falls in between.
import { on } from "node:events";
import { TRPCError } from "@trpc/server";
import { hasRole } from "../../auth/roles";
import type { EngineEvent, OperationOutcome, OperationProgress } from "../../engine/progress";
import { router, viewerProcedure } from "../init";

export type ConsoleEvent = { type: "state"; running: OperationProgress | null; last: OperationOutcome | null } | EngineEvent;

export const eventsRouter = router({
  onEvents: viewerProcedure.subscription(async function* ({ ctx, signal }): AsyncGenerator<ConsoleEvent> {
    const { engine, users } = ctx.services;
    const events = on(engine, "event", { signal });
    yield { type: "state", running: engine.running, last: engine.lastResult };
    for await (const [event] of events as AsyncIterable<[EngineEvent]>) {
      // The role is checked on every event from the current record: a removed user's stream ends at once.
      const user = users.get(ctx.user.id);
      if (!user || !hasRole(user.role, "viewer")) throw new TRPCError({ code: "UNAUTHORIZED", message: "Your session is no longer valid." });
      yield event;
    }
  }),
});
