// restoreRouter: the Restore page (admins) — archives and their contents, restore to a folder, restore in place,
// rollback to an operation, verification and its schedule. Long operations run in the engine's one slot and
// return their id at once; progress and the outcome come on the tab's event stream.
import fs from "node:fs/promises";
import path from "node:path";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { listArchives, listLogBackups } from "../../archive/names";
import { defaultLogSources } from "../../backup/log-integration";
import { scanLog } from "../../log/read-log";
import { readArchiveContents } from "../../archive/contents";
import { forbiddenPlaces, runRestoreInPlace, runRestoreToFolder, rollbackArchive, runVerification } from "../../restore/restore-operations";
import { checkRestoreTarget, defaultRestoreTarget } from "../../restore/restore-target";
import { VERIFICATION_FREQUENCIES, VerificationStore } from "../../restore/verification-store";
import type { Services } from "../../services";
import { isDomainError } from "../../errors";
import { adminProcedure, router, type Principal } from "../init";

const absolutePath = z.string().min(1).max(4096).refine((p) => path.isAbsolute(p), "Give an absolute path on the server.");
const manual = (user: Principal) => ({ kind: user.kind === "token" ? ("command" as const) : ("manual" as const), user: user.username });
const verifications = (s: Services) => new VerificationStore(s.consoleDb);

/** The restore folder against the rules (restore-target.ts), with this server's places that are never a target. */
async function targetCheck(services: Services, target: string, overwrite: boolean) {
  const { engine } = services;
  const destination = await engine.resolve().then((r) => r.destination, () => undefined);
  return checkRestoreTarget({ target, overwrite, forbidden: forbiddenPlaces(engine, destination) });
}

/** Reading an archive the user named: a plain bad request with the reader's own message. */
async function contentsOf(archivePath: string) {
  try {
    return await readArchiveContents(archivePath);
  } catch (err) {
    throw new TRPCError({ code: "BAD_REQUEST", message: isDomainError(err) ? err.message : `${archivePath} can't be read as an archive: ${(err as Error).message}` });
  }
}

export const restoreRouter = router({
  archives: adminProcedure.query(async ({ ctx }) => {
    const { engine } = ctx.services;
    let resolved;
    try {
      resolved = await engine.resolve();
    } catch (err) {
      return { destination: null, problem: `The settings can't be read: ${(err as Error).message}`, archives: [], logBackups: [], verificationSchedule: verifications(ctx.services).schedule() };
    }
    const { entries } = await engine.history(resolved).read().catch(() => ({ entries: [] }));
    const store = verifications(ctx.services);
    const archives = (await listArchives(resolved.destination, resolved.databaseName)).reverse().map((a) => {
      const h = entries.filter((e) => e.operation === "backup" && e.backupNumber === a.number).at(-1);
      return {
        number: a.number, path: a.path, name: path.basename(a.path), size: a.size, mtime: a.mtime.toISOString(),
        history: h ? { status: h.status, statusText: h.statusText, startingDate: h.startingDate, partial: h.partial } : null,
        verification: store.get(a.path),
      };
    });
    const logBackups = (await listLogBackups(resolved.destination, resolved.databaseName)).map((l) => ({ number: l.number, path: l.path, size: l.size }));
    const { lastRun: _lastRun, ...schedule } = store.schedule();
    return { destination: resolved.destination, problem: null, archives, logBackups, verificationSchedule: schedule };
  }),

  contents: adminProcedure.input(z.object({ archivePath: absolutePath })).query(async ({ ctx, input }) => {
    const c = await contentsOf(input.archivePath);
    const m = c.manifest;
    const parts = [
      { id: "structure", kind: "structure" as const, label: "Structure (Project, Settings)", files: c.structure.files, bytes: c.structure.bytes, found: true },
      { id: "dataFile", kind: "dataFile" as const, label: "Data file", files: c.dataFile.files, bytes: c.dataFile.bytes, found: true },
      { id: "dataSettings", kind: "dataSettings" as const, label: "Data settings (Data/Settings)", files: c.dataSettings.files, bytes: c.dataSettings.bytes, found: true },
      ...c.attachments.map((a) => ({ id: `attachment:${a.path}`, kind: "attachment" as const, label: a.path, files: a.files, bytes: a.bytes, found: a.found })),
    ].filter((p) => p.kind === "attachment" || p.files > 0);
    // How far an integration after this snapshot could go, from the log files of the snapshot's database.
    let logAfter: { available: boolean; lastOperation: number | null; problem: string | null } = { available: false, lastOperation: null, problem: null };
    try {
      const resolved = await ctx.services.engine.resolve();
      if (m.databaseId && c.dataFile.files > 0) {
        const sources = await defaultLogSources(ctx.services.engine, resolved, { databaseId: m.databaseId });
        let last = m.log?.lastOperation ?? 0;
        for (const s of sources) await scanLog(s, { expectDatabaseId: m.databaseId, allowTornTail: true }, (r) => { last = Math.max(last, r.op); });
        logAfter = { available: last > (m.log?.lastOperation ?? 0), lastOperation: last, problem: null };
      }
    } catch (err) {
      logAfter = { available: false, lastOperation: null, problem: (err as Error).message };
    }
    return {
      archivePath: c.archivePath, archiveSize: c.archiveSize, backupNumber: m.backupNumber, databaseName: m.databaseName,
      startingDate: m.startingDate, trigger: `${m.trigger.kind}${m.trigger.user ? ` (${m.trigger.user})` : ""}`,
      parts, log: { firstOperation: m.log?.firstOperation ?? null, lastOperation: m.log?.lastOperation ?? null }, logAfter,
      defaultTarget: await defaultRestoreTarget(c.archivePath),
    };
  }),

  checkTarget: adminProcedure.input(z.object({ target: absolutePath, overwrite: z.boolean() })).query(async ({ ctx, input }) => {
    const r = await targetCheck(ctx.services, input.target, input.overwrite);
    return r.ok ? { ok: true, problem: null, exists: r.exists, replaces: r.replaces } : { ok: false, problem: r.reason, exists: false, replaces: false };
  }),

  start: adminProcedure
    .input(z.object({ archivePath: absolutePath, target: absolutePath, parts: z.array(z.string().max(4200)).min(1, "Tick at least one part to restore.").max(10_000),
      overwrite: z.boolean(), integrateLog: z.boolean(), includeCurrentLog: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      // Bad input is refused here, before an operation starts and is recorded: the engine checks again as it runs.
      await contentsOf(input.archivePath);
      const target = await targetCheck(ctx.services, input.target, input.overwrite);
      if (!target.ok) throw new TRPCError({ code: "BAD_REQUEST", message: target.reason });
      const attachments = input.parts.filter((p) => p.startsWith("attachment:")).map((p) => p.slice("attachment:".length));
      const parts = { structure: input.parts.includes("structure"), dataFile: input.parts.includes("dataFile"),
        dataSettings: input.parts.includes("dataSettings"), attachments };
      const { engine } = ctx.services;
      const req = { archivePath: input.archivePath, target: input.target, parts, overwrite: input.overwrite, integrateLog: input.integrateLog,
        includeCurrentLog: input.includeCurrentLog, trigger: manual(ctx.user) };
      return { operationId: engine.runOperation("restore", req.trigger, (id, c) => runRestoreToFolder(engine, req, id, c)).operationId };
    }),

  inPlace: adminProcedure
    .input(z.object({ archivePath: absolutePath, integrateLog: z.boolean(), confirm: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await contentsOf(input.archivePath);
      const { engine, dataStore, currentLog } = ctx.services;
      const req = { archivePath: input.archivePath, integrateLog: input.integrateLog, trigger: manual(ctx.user) };
      return { operationId: engine.runOperation("restoreInPlace", req.trigger, (id, c) => runRestoreInPlace(engine, req, { store: dataStore, log: currentLog }, id, c)).operationId };
    }),

  logOperations: adminProcedure
    .input(z.object({ offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(200).default(50), search: z.string().max(200).optional() }))
    .query(async ({ ctx, input }) => {
      const { engine } = ctx.services;
      const resolved = await engine.resolve();
      const databaseId = await ctx.services.dataStore.databaseId();
      const sources = await defaultLogSources(engine, resolved, { databaseId });
      const byOp = new Map<number, { op: number; time: string; user: string | null; kind: string; table: string | null; key: string | number | null }>();
      const words = (input.search ?? "").toLowerCase().split(/\s+/).filter(Boolean);
      for (const s of sources) {
        await scanLog(s, { expectDatabaseId: databaseId, allowTornTail: true }, (r, line) => {
          if (words.length && !words.every((w) => line.toLowerCase().includes(w))) return;
          const w = r as unknown as { table?: string; key?: string | number | boolean | null };
          byOp.set(r.op, { op: r.op, time: r.time, user: r.user, kind: r.kind, table: w.table ?? null,
            key: typeof w.key === "boolean" ? Number(w.key) : (w.key ?? null) });
        });
      }
      const all = [...byOp.values()].sort((a, b) => b.op - a.op);
      return { total: all.length, operations: all.slice(input.offset, input.offset + input.limit) };
    }),

  rollback: adminProcedure
    .input(z.object({ operation: z.number().int().min(0), confirm: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      const { engine, dataStore, currentLog } = ctx.services;
      const archivePath = await rollbackArchive(engine, input.operation).catch((err: Error) => {
        throw new TRPCError({ code: "BAD_REQUEST", message: err.message });
      });
      const req = { archivePath, integrateLog: true, upToOperation: input.operation, trigger: manual(ctx.user) };
      return { operationId: engine.runOperation("restoreInPlace", req.trigger, (id, c) => runRestoreInPlace(engine, req, { store: dataStore, log: currentLog }, id, c)).operationId };
    }),

  verify: adminProcedure.input(z.object({ archivePath: absolutePath })).mutation(async ({ ctx, input }) => {
    // A damaged archive is what Verify is for (its result is recorded); a path that names no file is a bad request.
    await fs.access(input.archivePath).catch(() => {
      throw new TRPCError({ code: "NOT_FOUND", message: `There is no archive at ${input.archivePath}.` });
    });
    const { engine } = ctx.services;
    const trigger = manual(ctx.user);
    return { operationId: engine.runOperation("verify", trigger, (id, c) => runVerification(engine, [input.archivePath], verifications(ctx.services), trigger, id, c)).operationId };
  }),

  verificationSchedule: adminProcedure.query(({ ctx }) => {
    const { lastRun: _lastRun, ...schedule } = verifications(ctx.services).schedule();
    return schedule;
  }),

  setVerificationSchedule: adminProcedure
    .input(z.object({ frequency: z.enum(VERIFICATION_FREQUENCIES), hour: z.number().int().min(0).max(23), weekday: z.number().int().min(0).max(6) }))
    .mutation(({ ctx, input }) => {
      verifications(ctx.services).setSchedule(input, new Date());
      return { saved: true as const };
    }),
});
