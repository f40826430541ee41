// historyRouter: the History page (docs/backup-history.md, docs/console.md) — summary with chart series, the operations list, one operation's
// details — read from this database's entries of backupHistory.json. Every role sees it.
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { chartSeries, historySummary, listOperations, loadHistory, operationDetails } from "../../history/history-view";
import { router, viewerProcedure } from "../init";

/** A page of operations; the table shows 20, the cap keeps one answer small even with retention off. */
export const listInput = z.object({
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(200).default(20),
});

/** One operation and a page of its saved files (a backup may hold tens of thousands). */
export const detailsInput = z.object({
  id: z.string().min(1).max(1000),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(500).default(100),
  filter: z.string().max(500).default(""),
});

export const historyRouter = router({
  /** Success rate, last success and its age, the schedule's promise, and the chart's series. */
  summary: viewerProcedure.query(async ({ ctx }) => {
    const loaded = await loadHistory(ctx.services.db);
    if (!loaded.ok) return { problem: loaded.problem, historyPath: loaded.historyPath, damaged: null, summary: null, chart: null };
    const { settings, entries } = loaded;
    return {
      problem: null,
      historyPath: loaded.historyPath,
      damaged: loaded.damaged,
      summary: historySummary(entries, { scheduler: settings.scheduler, backupIfDataChange: settings.advanced.backupIfDataChange, now: new Date() }),
      chart: chartSeries(entries),
    };
  }),
  /** The kept operations, newest first, one page. */
  list: viewerProcedure.input(listInput).query(async ({ ctx, input }) => {
    const loaded = await loadHistory(ctx.services.db);
    if (!loaded.ok) return { problem: loaded.problem, total: 0, offset: input.offset, limit: input.limit, operations: [] };
    return { problem: null, ...listOperations(loaded.entries, input) };
  }),
  /** One operation by the id the list gave. */
  details: viewerProcedure.input(detailsInput).query(async ({ ctx, input }) => {
    const loaded = await loadHistory(ctx.services.db);
    if (!loaded.ok) return { problem: loaded.problem, details: null };
    const details = operationDetails(loaded.entries, input.id, input);
    if (!details) {
      throw new TRPCError({
        code: "NOT_FOUND",
        message: "This operation is no longer in backupHistory.json (retention drops what is older than the oldest kept backup). Refresh the list.",
      });
    }
    return { problem: null, details };
  }),
});
