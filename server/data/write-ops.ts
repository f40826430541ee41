// The writes of the data API (docs/log-file.md) as values: what a client asks for, what the data file applies, and what the
// log file records. One shape for all three, so that a logged write replays exactly as it was applied.
import { z } from "zod";

/** A table or column name: plain identifiers only; SQL is built from validated names and bound values, never text. */
export const IDENTIFIER_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
export const identifierSchema = z
  .string()
  .regex(IDENTIFIER_RE, "Names use letters, digits and _ only, start with a letter or _, and have at most 63 characters.")
  .refine((s) => !/^sqlite_/i.test(s) && !/^strongbox_/i.test(s), "Names starting with sqlite_ or strongbox_ are reserved.");

/** Cell values the data API reads and writes (no BLOBs through the API). */
export const valueSchema = z.union([z.string(), z.number().finite(), z.boolean(), z.null()]);
export type Value = z.infer<typeof valueSchema>;

/**
 * The largest text value (UTF-8 bytes) the data API writes. Not part of the schema above: a log written before the
 * limit must still replay; the data API checks new writes with `oversizedValue`.
 */
export const MAX_VALUE_BYTES = 1_000_000;

/** The first value of a write over MAX_VALUE_BYTES (where it goes and its size), or null. */
export function oversizedValue(write: Write): { table: string; column: string; bytes: number } | null {
  const ops = write.kind === "batch" ? write.ops : [write];
  for (const op of ops) {
    const cells: Array<[string, Value | undefined]> = [];
    if (op.kind === "insert" || op.kind === "update") cells.push(...Object.entries(op.values));
    if (op.kind === "update" || op.kind === "delete" || op.kind === "insert") cells.push(["(key)", op.key]);
    for (const [column, v] of cells) {
      // A character takes at most 3 bytes in UTF-8 (4 for a pair of UTF-16 units): only long texts are measured.
      if (typeof v === "string" && v.length * 3 > MAX_VALUE_BYTES) {
        const bytes = Buffer.byteLength(v, "utf8");
        if (bytes > MAX_VALUE_BYTES) return { table: op.table, column, bytes };
      }
    }
  }
  return null;
}

export const COLUMN_TYPES = ["INTEGER", "REAL", "TEXT", "NUMERIC", "BLOB"] as const;
export const columnDefSchema = z.object({
  name: identifierSchema,
  type: z.enum(COLUMN_TYPES),
  primaryKey: z.boolean().optional(),
  notNull: z.boolean().optional(),
});
export type ColumnDef = z.infer<typeof columnDefSchema>;

const valuesSchema = z.record(identifierSchema, valueSchema);

/** One elementary write. An insert's `key` is absent in a request and filled in once applied (so a replay is exact). */
export const writeOpSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("insert"), table: identifierSchema, values: valuesSchema, key: valueSchema.optional() }),
  z.object({ kind: z.literal("update"), table: identifierSchema, key: valueSchema, values: valuesSchema }),
  z.object({ kind: z.literal("delete"), table: identifierSchema, key: valueSchema }),
  z.object({ kind: z.literal("createTable"), table: identifierSchema, columns: z.array(columnDefSchema).min(1).max(200) }),
  z.object({ kind: z.literal("addColumn"), table: identifierSchema, column: columnDefSchema }),
]);
export type WriteOp = z.infer<typeof writeOpSchema>;

/** What one log operation number stands for: one write, or a batch applied all or nothing. */
export const writeSchema = z.union([writeOpSchema, z.object({ kind: z.literal("batch"), ops: z.array(writeOpSchema).min(1).max(1000) })]);
export type Write = z.infer<typeof writeSchema>;

/** Schema changes also wait for the data write lock (they change the data file) and need the admin role. */
export const isSchemaChange = (w: Write): boolean =>
  w.kind === "createTable" || w.kind === "addColumn" || (w.kind === "batch" && w.ops.some(isSchemaChange));

/**
 * One line of the log file after the header (docs/log-file.md): operation number (strictly increasing, no gaps), time
 * (UTC ISO), user, then the write's own fields as applied (kind, table, key, values…; inserts carry their key),
 * and last a checksum of everything before it: `{"op":7,"time":"…","user":"admin","kind":"update","table":"t",
 * "key":3,"values":{…},"checksum":"…"}`.
 */
export type LogRecord = { op: number; time: string; user: string | null } & Write & { checksum: string };

/** A record before its checksum is computed (what the data API hands the log). Not Omit<LogRecord>: Omit doesn't distribute over the union. */
export type UnsignedLogRecord = { op: number; time: string; user: string | null } & Write;

/** The log file's first line. */
export interface LogHeader {
  type: "header";
  format: 1;
  databaseId: string;
  /** The number the first record after this header has (last operation before it + 1). */
  firstOperation: number;
  createdAt: string;
}
