// eventsRouter: the tab's one event stream (spec §10) over server-sent events. A client that (re)connects first
// gets the whole state, then changes; we start listening before reading the state so nothing falls in between.
// Each stream takes one of its caller's stream slots and re-checks the caller as it runs (../streams.ts).
import { on } from "node:events";
import type { LockState } from "../../locks/backup-locks";
import type { ConsoleEvent } from "../../operations/bus";
import type { OperationOutcome, OperationProgress } from "../../operations/progress";
import { router, viewerProcedure } from "../init";
import { openStream } from "../streams";

export type StreamEvent = { type: "state"; running: OperationProgress | null; last: OperationOutcome | null; locks: LockState } | ConsoleEvent;

export const eventsRouter = router({
  onEvents: viewerProcedure.subscription(async function* ({ ctx, signal }): AsyncGenerator<StreamEvent> {
    const { db, runner } = ctx.services;
    const stream = openStream(ctx.services, ctx.user, "viewer", signal);
    try {
      const events = on(db.bus, "event", { signal: stream.signal });
      yield { type: "state", running: runner.running, last: runner.lastResult, locks: db.locks.state() };
      for await (const [event] of events as AsyncIterable<[ConsoleEvent]>) {
        stream.recheck();
        yield event;
      }
    } catch (err) {
      stream.throwIfRefused();
      throw err;
    } finally {
      stream.release();
    }
  }),
});
