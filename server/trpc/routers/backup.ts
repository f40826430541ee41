// backupRouter: the BACKUP command (docs/roles-and-api.md) for the console and programs — start, stop, info, overview, and a
// progress stream for one operation.
import { on } from "node:events";
import { z } from "zod";
import { TRPCError } from "@trpc/server";
import { backupOverview } from "../../backup/overview";
import { describeLogProblem } from "../../log/log-problem";
import type { ConsoleEvent } from "../../operations/bus";
import { consoleState } from "../console-state";
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
  /** The log file the server could not take at start (1416, 1403), with what to do; null when it is fine. */
  logProblem: viewerProcedure.query(({ ctx }) => describeLogProblem(ctx.services.currentLog.error, ctx.services.db.layout.logFile)),
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
      /** The archive the last backup committed (null: it made none), and whether it is still on disk. */
      lastBackupArchivePath: last?.archivePath ?? null,
      lastBackupArchiveExists: last?.archiveExists ?? false,
      /** The history the last backup is in: another destination's when the destination changed since. */
      lastBackupHistoryPath: last?.historyPath ?? null,
      /** The last backup that committed an archive, when the last attempt did not. */
      lastSuccessfulBackup: o.lastCommitted && { date: o.lastCommitted.startingDate, number: o.lastCommitted.backupNumber,
        status: o.lastCommitted.status, archivePath: o.lastCommitted.archivePath, archiveExists: o.lastCommitted.archiveExists, historyPath: o.lastCommitted.historyPath },
      nextBackupDate: o.nextBackup,
      automaticBackupsOff: o.automaticBackupsOff,
      backupHistoryPath: o.historyPath,
      running: consoleState(ctx.services.runner, ctx.services.db).running,
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
        // The outcome first: an operation told finished a moment ago may not have freed its slot yet.
        const { running, last } = consoleState(runner, db);
        if (last?.operationId === input.operationId) {
          yield { type: "finished", outcome: last };
          return;
        } else if (running?.operationId === input.operationId) yield { type: "progress", progress: running };
        else throw new TRPCError({ code: "NOT_FOUND", message: "This operation is neither running nor the last one." });
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
