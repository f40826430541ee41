// backupRouter: the BACKUP command (spec §11) for the console and programs — start, stop, info, overview, and a
// progress stream for one operation.
import { on } from "node:events";
import { z } from "zod";
import { TRPCError } from "@trpc/server";
import { backupOverview } from "../../backup/overview";
import type { ConsoleEvent } from "../../operations/bus";
import { operatorProcedure, router, triggerOf, viewerProcedure } from "../init";
import { openStream } from "../streams";

/** What `onProgress` yields: progress of the operation, then its outcome, after which the stream ends. */
export type ProgressEvent = Extract<ConsoleEvent, { type: "progress" | "finished" }>;

export const backupRouter = router({
  start: operatorProcedure.mutation(({ ctx }) => {
    // A program's call (API token) is the BACKUP command: trigger "command" with the token's name.
    const { operationId } = ctx.services.backups.start({ trigger: triggerOf(ctx.user) });
    return { operationId };
  }),
  stop: operatorProcedure.mutation(({ ctx }) => ({ stopped: ctx.services.runner.stop() })),
  overview: viewerProcedure.query(({ ctx }) => backupOverview(ctx.services.db, ctx.services.runner.lastAttempts, ctx.services.scheduler.nextDue(),
    { startupRestore: ctx.services.startupRestore, automaticOff: ctx.services.automation.automaticOff() })),
  info: viewerProcedure.query(async ({ ctx }) => {
    const o = await backupOverview(ctx.services.db, ctx.services.runner.lastAttempts, ctx.services.scheduler.nextDue(),
      { content: false, automaticOff: ctx.services.automation.automaticOff() });
    const last = o.lastBackup;
    return {
      lastBackupDate: last?.startingDate ?? null,
      lastBackupStatus: last?.status ?? null,
      lastBackupStatusText: last?.statusText ?? null,
      lastBackupNumber: last?.backupNumber ?? null,
      lastBackupDuration: last?.duration ?? null,
      nextBackupDate: o.nextBackup,
      automaticBackupsOff: o.automaticBackupsOff,
      backupHistoryPath: o.historyPath,
      running: ctx.services.runner.running,
    };
  }),
  /**
   * One operation's progress for programs (the CLI): its current progress (or its outcome if it already ended),
   * then progress events, then `finished`, and the stream ends. Listening starts before the state is read, so a
   * backup that ends in between is not missed.
   */
  onProgress: viewerProcedure
    .input(z.object({ operationId: z.string().min(1).max(200) }))
    .subscription(async function* ({ ctx, input, signal }): AsyncGenerator<ProgressEvent> {
      const { db, runner } = ctx.services;
      const stream = openStream(ctx.services, ctx.user, "viewer", signal);
      try {
        const events = on(db.bus, "event", { signal: stream.signal });
        const running = runner.running;
        const last = runner.lastResult;
        if (running?.operationId === input.operationId) yield { type: "progress", progress: running };
        else if (last?.operationId === input.operationId) {
          yield { type: "finished", outcome: last };
          return;
        } else throw new TRPCError({ code: "NOT_FOUND", message: "This operation is neither running nor the last one." });
        for await (const [event] of events as AsyncIterable<[ConsoleEvent]>) {
          stream.recheck();
          if (event.type === "progress" && event.progress.operationId === input.operationId) yield event;
          if (event.type === "finished" && event.outcome.operationId === input.operationId) {
            yield event;
            return;
          }
        }
      } catch (err) {
        stream.throwIfRefused();
        throw err;
      } finally {
        stream.release();
      }
    }),
});
