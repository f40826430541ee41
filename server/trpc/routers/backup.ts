// backupRouter: the BACKUP command (spec §11) for the console and programs — start, stop, info, overview.
import { backupOverview } from "../../engine/overview";
import { operatorProcedure, router, viewerProcedure } from "../init";

export const backupRouter = router({
  start: operatorProcedure.mutation(({ ctx }) => {
    const { operationId } = ctx.services.engine.start({ trigger: { kind: "manual", user: ctx.user.username } });
    return { operationId };
  }),
  stop: operatorProcedure.mutation(({ ctx }) => ({ stopped: ctx.services.engine.stop() })),
  overview: viewerProcedure.query(({ ctx }) => backupOverview(ctx.services.engine, null)),
  info: viewerProcedure.query(async ({ ctx }) => {
    const o = await backupOverview(ctx.services.engine, null);
    const last = o.lastBackup;
    return {
      lastBackupDate: last?.startingDate ?? null,
      lastBackupStatus: last?.status ?? null,
      lastBackupStatusText: last?.statusText ?? null,
      lastBackupNumber: last?.backupNumber ?? null,
      lastBackupDuration: last?.duration ?? null,
      nextBackupDate: o.nextBackup,
      backupHistoryPath: o.historyPath,
      running: ctx.services.engine.running,
    };
  }),
});
