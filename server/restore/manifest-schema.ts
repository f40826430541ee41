// manifest.json read back for a restore or a verification: validated with zod, because an archive on disk is
// input like any other (it may be damaged, hand-made, or from a newer Strongbox), and every field we rely on is checked.
import { z } from "zod";
import { MANIFEST_FORMAT, MANIFEST_NAME, type Manifest, type ManifestEntry } from "../engine/manifest";
import type { BackupSettings } from "../settings/model";

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "not a date");
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "not a SHA-256 digest");
const count = z.number().int().nonnegative().refine(Number.isSafeInteger, "too large");

export const manifestEntrySchema = z.object({
  path: z.string().min(1),
  originalPath: z.string(),
  kind: z.enum(["file", "symlink", "directory"]),
  size: count,
  mtime: isoDate,
  sha256,
}) satisfies z.ZodType<ManifestEntry>;

export const manifestSchema = z.object({
  format: z.number().int().positive().max(MANIFEST_FORMAT, `made by a newer Strongbox (this one reads format ${MANIFEST_FORMAT})`),
  generator: z.literal("strongbox"),
  databaseId: z.string().nullable(),
  databaseName: z.string(),
  backupNumber: z.number().int().nonnegative(),
  trigger: z.object({ kind: z.enum(["manual", "scheduler", "command", "retry"]), user: z.string().nullable() }),
  scheduledDate: isoDate.nullable(),
  startingDate: isoDate,
  endingDate: isoDate,
  structurePath: z.string(),
  dataPath: z.string(),
  // The settings in force are informative here (the restore never applies them): any object is accepted.
  settings: z.custom<BackupSettings>((v) => typeof v === "object" && v !== null && !Array.isArray(v), "not an object"),
  log: z.object({ firstOperation: z.number().int().nullable(), lastOperation: z.number().int().nullable() }),
  attachments: z.array(z.object({ attachmentPath: z.string(), found: z.boolean() })),
  entries: z.array(manifestEntrySchema),
}) satisfies z.ZodType<Manifest>;

/**
 * manifest.json larger than this is refused rather than read into memory: about 190,000 entries at ~350 bytes each.
 * The engine refuses to write a larger one, so every archive it makes can be read back; a crafted archive costs the
 * reader at most this much (it once took start-up to 1.5 GB).
 */
export const MAX_MANIFEST_BYTES = 64 << 20;

/** Parses manifest.json's bytes; throws an Error saying what is wrong (the caller names the archive). */
export function parseArchiveManifest(buf: Buffer): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(buf.toString("utf8"));
  } catch (err) {
    throw new Error(`${MANIFEST_NAME} is not valid JSON (${(err as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
    throw new Error(`${MANIFEST_NAME} is not a valid Strongbox manifest (${issues.join("; ")}${parsed.error.issues.length > 3 ? "; …" : ""})`);
  }
  return parsed.data;
}
