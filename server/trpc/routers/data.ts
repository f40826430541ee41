// dataRouter: the data API (docs/log-file.md) for the console's Data page and for programs with an API token — tables and
// rows for viewers, row writes for operators, schema changes for admins. Writes wait while a backup holds the
// data write lock; a cancelled wait, or one the caller refused (wait: false), gets -9976 (CONFLICT).
import { z } from "zod";
import { TRPCError } from "@trpc/server";
import { hasRole } from "../../auth/roles";
import { isDomainError } from "../../errors";
import { FILTER_OPS, MAX_PAGE_ROWS, type WriteContext } from "../../data/data-store";
import { columnDefSchema, identifierSchema, isSchemaChange, MAX_VALUE_BYTES, writeOpSchema } from "../../data/write-ops";
import { adminProcedure, operatorProcedure, router, viewerProcedure, type Principal } from "../init";

/** What every write takes besides its content: an id to cancel it by while it waits, and whether to wait at all. */
const waitOptions = {
  requestId: z.string().min(1).max(200).optional(),
  /** false: refuse at once with -9976 rather than wait for a backup's data write lock. */
  wait: z.boolean().default(true),
};
/**
 * A value as a request gives it: a text of at most MAX_VALUE_BYTES characters (the store then counts its UTF-8
 * bytes, which also covers batches; the log's own schema has no such limit, so that an old log still replays).
 */
const valueSchema = z.union([
  z.string().max(MAX_VALUE_BYTES, `A value may have at most ${MAX_VALUE_BYTES} bytes (1 MB).`), z.number().finite(), z.boolean(), z.null(),
]);
const valuesSchema = z.record(identifierSchema, valueSchema);

/** DataErrors carry the transport code they mean; their text says what was wrong. */
async function dataErrors<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isDomainError(err)) throw new TRPCError({ code: err.code, message: err.message, cause: err });
    throw err;
  }
}

function writeContext(user: Principal, input: { requestId?: string; wait: boolean }, signal: AbortSignal | undefined): WriteContext {
  // The request's signal ends when the client goes away: its write, if still waiting, is then cancelled (-9976).
  return { user: user.username, requestId: input.requestId, noWait: !input.wait, signal };
}

export const dataRouter = router({
  tables: viewerProcedure.query(({ ctx }) => dataErrors(() => ({ tables: ctx.services.dataStore.listTables() }))),

  rows: viewerProcedure
    .input(z.object({
      table: identifierSchema,
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(MAX_PAGE_ROWS).default(50),
      filter: z.object({ column: identifierSchema, op: z.enum(FILTER_OPS), value: valueSchema }).optional(),
      orderBy: z.object({ column: identifierSchema, direction: z.enum(["asc", "desc"]) }).optional(),
    }))
    .query(({ ctx, input }) => dataErrors(() => {
      const { table, ...opts } = input;
      return ctx.services.dataStore.readRows(table, opts);
    })),

  /** One cell's whole value (a page of rows cuts long texts, see `truncated`). */
  cell: viewerProcedure
    .input(z.object({ table: identifierSchema, key: valueSchema, column: identifierSchema }))
    .query(({ ctx, input }) => dataErrors(() => ctx.services.dataStore.readCell(input.table, input.key, input.column))),

  insert: operatorProcedure
    .input(z.object({ table: identifierSchema, values: valuesSchema, ...waitOptions }))
    .mutation(({ ctx, input, signal }) => dataErrors(async () => {
      const { operation, applied } = await ctx.services.dataStore.write(
        { kind: "insert", table: input.table, values: input.values }, writeContext(ctx.user, input, signal));
      return { operation, key: applied.kind === "insert" ? (applied.key ?? null) : null };
    })),

  update: operatorProcedure
    .input(z.object({ table: identifierSchema, key: valueSchema, values: valuesSchema, ...waitOptions }))
    .mutation(({ ctx, input, signal }) => dataErrors(async () => {
      const { operation } = await ctx.services.dataStore.write(
        { kind: "update", table: input.table, key: input.key, values: input.values }, writeContext(ctx.user, input, signal));
      return { operation };
    })),

  delete: operatorProcedure
    .input(z.object({ table: identifierSchema, key: valueSchema, ...waitOptions }))
    .mutation(({ ctx, input, signal }) => dataErrors(async () => {
      const { operation } = await ctx.services.dataStore.write({ kind: "delete", table: input.table, key: input.key }, writeContext(ctx.user, input, signal));
      return { operation };
    })),

  /** All or nothing under one operation number; a batch holding a schema change needs the admin role. */
  batch: operatorProcedure
    .input(z.object({ ops: z.array(writeOpSchema).min(1).max(1000), ...waitOptions }))
    .mutation(({ ctx, input, signal }) => dataErrors(async () => {
      const write = { kind: "batch" as const, ops: input.ops };
      if (isSchemaChange(write) && !hasRole(ctx.user.role, "admin")) {
        const who = ctx.user.kind === "token" ? `this API token has the role ${ctx.user.role}` : `you are signed in as a ${ctx.user.role}`;
        throw new TRPCError({ code: "FORBIDDEN", message: `This batch changes the schema (create table or add column), which needs the admin role; ${who}.` });
      }
      return ctx.services.dataStore.write(write, writeContext(ctx.user, input, signal));
    })),

  createTable: adminProcedure
    .input(z.object({ table: identifierSchema, columns: z.array(columnDefSchema).min(1).max(200), ...waitOptions }))
    .mutation(({ ctx, input, signal }) => dataErrors(async () => {
      const { operation } = await ctx.services.dataStore.write(
        { kind: "createTable", table: input.table, columns: input.columns }, writeContext(ctx.user, input, signal));
      return { operation };
    })),

  addColumn: adminProcedure
    .input(z.object({ table: identifierSchema, column: columnDefSchema, ...waitOptions }))
    .mutation(({ ctx, input, signal }) => dataErrors(async () => {
      const { operation } = await ctx.services.dataStore.write(
        { kind: "addColumn", table: input.table, column: input.column }, writeContext(ctx.user, input, signal));
      return { operation };
    })),

  /** Cancels a write still waiting for the lock (it gets -9976); false when it already ran or is unknown. */
  cancel: operatorProcedure
    .input(z.object({ requestId: z.string().min(1).max(200) }))
    .mutation(({ ctx, input }) => ({ cancelled: ctx.services.db.locks.cancel(input.requestId) })),

  lockState: viewerProcedure.query(({ ctx }) => ctx.services.db.locks.state()),
});
