// eventsRouter: the tab's one event stream (docs/console.md) over server-sent events. A client that (re)connects
// first gets the whole state, then changes; we start listening before reading the state so nothing falls in between.
// Each stream takes one of its caller's stream slots and re-checks the caller as it runs (../streams.ts).
import { on } from "node:events";
import type { ConsoleEvent as BusEvent } from "../../operations/bus";
import { consoleState, type ConsoleState } from "../console-state";
import { router, viewerProcedure } from "../init";
import { openStream } from "../streams";

export type ConsoleEvent = ({ type: "state" } & ConsoleState) | BusEvent;

export const eventsRouter = router({
  /** The same state as the stream's first event: what a console reads while its stream reconnects. */
  state: viewerProcedure.query(({ ctx }): ConsoleState => consoleState(ctx.services.runner, ctx.services.db)),
  onEvents: viewerProcedure.subscription(async function* ({ ctx, signal }): AsyncGenerator<ConsoleEvent> {
    const { db, runner } = ctx.services;
    const stream = openStream(ctx.services, ctx.user, "viewer", signal);
    try {
      const events = on(db.bus, "event", { signal: stream.signal });
      yield { type: "state", ...consoleState(runner, db) };
      for await (const [event] of events as AsyncIterable<[BusEvent]>) {
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
