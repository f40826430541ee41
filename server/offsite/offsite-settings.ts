// The off-site destination and settings as console.sqlite keeps them: the S3 endpoint, bucket, prefix and
// credentials (the secret sealed, never given back: callers outside the server learn only whether it is set), how
// many off-site archives to keep, Object Lock days, the log shipping interval, and client-side encryption. One
// destination per installation; the table has room for more.
import { z } from "zod";
import type { ConsoleDb } from "../console/console-db";
import type { S3Destination } from "./s3-client";
import type { SecretBox } from "./secret-box";

const DESTINATION_ID = 1;
const SECRET_LABEL = `offsite_destinations.${DESTINATION_ID}.secret`;
const ENCRYPTION_LABEL = "offsite_settings.encryption_key";

/** Bucket names as S3 allows them everywhere (AWS's rules, which the other implementations accept). */
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_PART_RE = /^[A-Za-z0-9._ -]+$/;

const endpointSchema = z.string().trim().superRefine((s, ctx) => {
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    ctx.addIssue({ code: "custom", message: `"${s}" is not a URL: write it as http://host:port or https://host.` });
    return;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") ctx.addIssue({ code: "custom", message: `The endpoint must start with http:// or https://, not ${url.protocol}//.` });
  else if (url.username || url.password) ctx.addIssue({ code: "custom", message: "Put the credentials in the access key fields, not in the endpoint URL." });
  else if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    ctx.addIssue({ code: "custom", message: "The endpoint is the server's address only (http(s)://host[:port]); the bucket and the prefix have their own fields." });
  }
}).transform((s) => s.replace(/\/+$/, ""));

const bucketSchema = z.string().trim().superRefine((s, ctx) => {
  if (!BUCKET_RE.test(s) || s.includes("..") || /^\d+\.\d+\.\d+\.\d+$/.test(s)) {
    ctx.addIssue({ code: "custom", message: `"${s}" is not a valid bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit.` });
  }
});

/** "backups/strongbox" — no leading or trailing slash, no empty, "." or ".." part; "" is the bucket's root. */
const prefixSchema = z.string().transform((s) => s.trim().replace(/^\/+|\/+$/g, "")).superRefine((s, ctx) => {
  if (s === "") return;
  if (s.length > 200) ctx.addIssue({ code: "custom", message: "The prefix is longer than 200 characters." });
  for (const part of s.split("/")) {
    if (part === "" || part === "." || part === ".." || !PREFIX_PART_RE.test(part)) {
      ctx.addIssue({ code: "custom", message: `The prefix "${s}" is not usable: folder names of letters, digits, spaces, ".", "_" and "-", separated by "/" (no empty, "." or ".." folder).` });
      return;
    }
  }
});

const printable = (what: string, max: number) => z.string().trim()
  .min(1, `The ${what} is empty.`)
  .max(max, `The ${what} is longer than ${max} characters.`)
  .regex(/^[\x21-\x7e]+$/, `The ${what} may only hold printable ASCII characters without spaces.`);

/** What an admin enters for the destination. `secretAccessKey` absent or null: keep the stored one. */
export const destinationInputSchema = z.object({
  endpoint: endpointSchema,
  region: z.string().trim().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "The region is a short name such as us-east-1 (lowercase letters, digits, - and _)."),
  bucket: bucketSchema,
  prefix: prefixSchema,
  forcePathStyle: z.boolean(),
  accessKeyId: printable("access key id", 128),
  secretAccessKey: printable("secret access key", 256).nullish(),
});
export type DestinationInput = z.input<typeof destinationInputSchema>;

/** The destination as the browser may see it: never the secret, only whether one is stored. */
export type DestinationView = Omit<S3Destination, "secretAccessKey"> & { secretSet: boolean; updatedAt: string; updatedBy: string | null };

export const offsiteSettingsSchema = z.object({
  /** Off-site archives kept (with their log chain); null = all. */
  keepLast: z.number().int().min(1, "Keep at least 1 off-site archive (or choose to keep all).").max(10_000).nullable(),
  /** Object Lock retain-until, in days after the upload; 0 = no lock asked. */
  lockDays: z.number().int().min(0).max(36_500, "Object Lock can't be asked for more than 100 years."),
  lockMode: z.enum(["COMPLIANCE", "GOVERNANCE"]),
  /** OffsiteLogInterval: the open log is cut and shipped at least this often while writes happen. */
  logIntervalSeconds: z.number().int().min(5, "The log shipping interval is at least 5 seconds.").max(86_400, "The log shipping interval is at most one day."),
});
export type OffsiteSettings = z.infer<typeof offsiteSettingsSchema> & {
  /** Client-side encryption: on when a key is stored; its check (the bucket's strongbox.json holds the same). */
  encryption: { enabled: boolean; keyCheck: string | null };
};

export const DEFAULT_OFFSITE_SETTINGS: OffsiteSettings = {
  keepLast: null, lockDays: 0, lockMode: "COMPLIANCE", logIntervalSeconds: 60, encryption: { enabled: false, keyCheck: null },
};

/** A refused input: which field, and a sentence saying what is wrong and what is expected. Nothing was changed. */
export class OffsiteSettingsError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
    this.name = "OffsiteSettingsError";
  }
}

function parseOrRefuse<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.join(".") || "input";
  throw new OffsiteSettingsError(field, issue.code === "invalid_type" ? `The field "${field}" is missing or of the wrong type.` : issue.message);
}

interface DestinationRow {
  endpoint: string; region: string; bucket: string; prefix: string; force_path_style: number;
  access_key_id: string; secret_sealed: string; updated_at: string; updated_by: string | null;
}

function destinationRow(db: ConsoleDb): DestinationRow | null {
  return (db.prepare("SELECT * FROM offsite_destinations WHERE id = ?").get(DESTINATION_ID) as DestinationRow | undefined) ?? null;
}

/** The destination with its secret, for the server's own use (the S3 client); null when none is set. */
export function loadDestination(db: ConsoleDb, box: SecretBox): S3Destination | null {
  const row = destinationRow(db);
  if (!row) return null;
  return {
    endpoint: row.endpoint, region: row.region, bucket: row.bucket, prefix: row.prefix, forcePathStyle: row.force_path_style === 1,
    accessKeyId: row.access_key_id, secretAccessKey: box.openString(row.secret_sealed, SECRET_LABEL),
  };
}

/** The destination as the Settings page shows it. */
export function viewDestination(db: ConsoleDb): DestinationView | null {
  const row = destinationRow(db);
  if (!row) return null;
  return {
    endpoint: row.endpoint, region: row.region, bucket: row.bucket, prefix: row.prefix, forcePathStyle: row.force_path_style === 1,
    accessKeyId: row.access_key_id, secretSet: row.secret_sealed !== "", updatedAt: row.updated_at, updatedBy: row.updated_by,
  };
}

/**
 * Checks the input and turns it into a full destination (the stored secret when none is given), without saving:
 * what Test connection uses before Save.
 */
export function resolveDestinationInput(db: ConsoleDb, box: SecretBox, input: unknown): S3Destination {
  const d = parseOrRefuse(destinationInputSchema, input);
  let secret = d.secretAccessKey ?? null;
  if (secret === null) {
    const row = destinationRow(db);
    if (!row) throw new OffsiteSettingsError("secretAccessKey", "Enter the secret access key: none is stored yet.");
    secret = box.openString(row.secret_sealed, SECRET_LABEL);
  }
  return { endpoint: d.endpoint, region: d.region, bucket: d.bucket, prefix: d.prefix, forcePathStyle: d.forcePathStyle, accessKeyId: d.accessKeyId, secretAccessKey: secret };
}

/** Saves the destination (the secret sealed); an input without a secret keeps the stored one. */
export function saveDestination(db: ConsoleDb, box: SecretBox, input: unknown, by: string | null, now = new Date()): DestinationView {
  const d = resolveDestinationInput(db, box, input);
  db.prepare(`INSERT INTO offsite_destinations (id, endpoint, region, bucket, prefix, force_path_style, access_key_id, secret_sealed, updated_at, updated_by)
    VALUES (@id, @endpoint, @region, @bucket, @prefix, @fps, @akid, @secret, @at, @by)
    ON CONFLICT(id) DO UPDATE SET endpoint = excluded.endpoint, region = excluded.region, bucket = excluded.bucket, prefix = excluded.prefix,
      force_path_style = excluded.force_path_style, access_key_id = excluded.access_key_id, secret_sealed = excluded.secret_sealed,
      updated_at = excluded.updated_at, updated_by = excluded.updated_by`)
    .run({ id: DESTINATION_ID, endpoint: d.endpoint, region: d.region, bucket: d.bucket, prefix: d.prefix, fps: d.forcePathStyle ? 1 : 0,
      akid: d.accessKeyId, secret: box.seal(d.secretAccessKey, SECRET_LABEL), at: now.toISOString(), by });
  return viewDestination(db)!;
}

export function removeDestination(db: ConsoleDb): boolean {
  return db.prepare("DELETE FROM offsite_destinations WHERE id = ?").run(DESTINATION_ID).changes > 0;
}

interface SettingsRow {
  keep_last: number | null; lock_days: number; lock_mode: "COMPLIANCE" | "GOVERNANCE"; log_interval_seconds: number;
  encryption_key_sealed: string | null; encryption_key_check: string | null;
}

function settingsRow(db: ConsoleDb): SettingsRow | null {
  return (db.prepare("SELECT * FROM offsite_settings WHERE id = 1").get() as SettingsRow | undefined) ?? null;
}

export function loadOffsiteSettings(db: ConsoleDb): OffsiteSettings {
  const row = settingsRow(db);
  if (!row) return structuredClone(DEFAULT_OFFSITE_SETTINGS);
  return {
    keepLast: row.keep_last, lockDays: row.lock_days, lockMode: row.lock_mode, logIntervalSeconds: row.log_interval_seconds,
    encryption: { enabled: row.encryption_key_sealed !== null, keyCheck: row.encryption_key_check },
  };
}

/** Saves the retention, Object Lock and log settings (encryption has its own calls: it needs the passphrase). */
export function saveOffsiteSettings(db: ConsoleDb, input: unknown, now = new Date()): OffsiteSettings {
  const s = parseOrRefuse(offsiteSettingsSchema, input);
  db.prepare(`INSERT INTO offsite_settings (id, keep_last, lock_days, lock_mode, log_interval_seconds, updated_at)
    VALUES (1, @keep, @days, @mode, @interval, @at)
    ON CONFLICT(id) DO UPDATE SET keep_last = excluded.keep_last, lock_days = excluded.lock_days, lock_mode = excluded.lock_mode,
      log_interval_seconds = excluded.log_interval_seconds, updated_at = excluded.updated_at`)
    .run({ keep: s.keepLast, days: s.lockDays, mode: s.lockMode, interval: s.logIntervalSeconds, at: now.toISOString() });
  return loadOffsiteSettings(db);
}

/**
 * Turns client-side encryption on with a key derived from the passphrase (chunk-cipher.ts deriveKey) and its check;
 * the key is sealed, the passphrase is not kept.
 */
export function storeEncryptionKey(db: ConsoleDb, box: SecretBox, key: Buffer, keyCheck: string, now = new Date()): void {
  const defaults = DEFAULT_OFFSITE_SETTINGS;
  db.prepare(`INSERT INTO offsite_settings (id, lock_days, lock_mode, log_interval_seconds, encryption_key_sealed, encryption_key_check, updated_at)
    VALUES (1, @days, @mode, @interval, @sealed, @check, @at)
    ON CONFLICT(id) DO UPDATE SET encryption_key_sealed = excluded.encryption_key_sealed, encryption_key_check = excluded.encryption_key_check,
      updated_at = excluded.updated_at`)
    .run({ days: defaults.lockDays, mode: defaults.lockMode, interval: defaults.logIntervalSeconds, sealed: box.seal(key, ENCRYPTION_LABEL), check: keyCheck, at: now.toISOString() });
}

/** Turns client-side encryption off for what is uploaded from now on (what is in the bucket stays as it is). */
export function clearEncryptionKey(db: ConsoleDb, now = new Date()): void {
  db.prepare("UPDATE offsite_settings SET encryption_key_sealed = NULL, encryption_key_check = NULL, updated_at = ? WHERE id = 1").run(now.toISOString());
}

/** The stored encryption key, or null when encryption is off. */
export function loadEncryptionKey(db: ConsoleDb, box: SecretBox): Buffer | null {
  const row = settingsRow(db);
  return row?.encryption_key_sealed ? box.open(row.encryption_key_sealed, ENCRYPTION_LABEL) : null;
}
