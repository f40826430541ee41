// What Strongbox keeps in a bucket, and under which keys — enough to bring a database back from the bucket alone,
// with no console.sqlite and no history:
//
//   <prefix>/strongbox.json                                       format, and the encryption's salt and key check
//   <prefix>/<Name>/archives/<Name>[NNNN].zip(.sbxenc)            each archive, as made (encrypted: + .sbxenc)
//   <prefix>/<Name>/archives/<Name>[NNNN].json                    its summary (ArchiveSummary), written after it
//   <prefix>/<Name>/log-backups/<Name>[K].4BL(.sbxenc)            the log backups
//   <prefix>/<Name>/log/<databaseId>/log[first-last].journal(.sbxenc)   log segments shipped as the log grows
//
// <Name> is the database's name (DatabaseName), as in the local file names. The summaries let recovery and the
// Restore page choose an archive without downloading any.
import { z } from "zod";
import { archiveName } from "../archive/names";
import { logBackupName } from "../log/log-backup";
import { segmentName } from "../log/log-file";
import { CipherError, deriveMasterKey, keyCheckOf, keyMatches, newKdfParams, passphraseProblem, DEFAULT_CHUNK_BYTES, type KdfParams } from "./chunk-cipher";
import { OffsiteError, s3Url } from "./s3-client";
import { getObjectBuffer, listFolders, listObjects, putObject, type Bucket, type ObjectLock } from "./s3-objects";

export const ENCRYPTED_SUFFIX = ".sbxenc";
export const BUCKET_FORMAT = 1;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Why a database name can't be a folder of the bucket, or null. */
export function databaseNameProblem(name: string): string | null {
  if (!name || name === "." || name === ".." || /[/\\\x00-\x1f\x7f]/.test(name)) return `The database name ${JSON.stringify(name)} can't name a folder in the bucket.`;
  return null;
}

export type BucketObject =
  | { kind: "archive"; databaseName: string; number: number; encrypted: boolean; key: string }
  | { kind: "archive-summary"; databaseName: string; number: number; key: string }
  | { kind: "log-backup"; databaseName: string; number: number; encrypted: boolean; key: string }
  | { kind: "segment"; databaseName: string; databaseId: string; firstOperation: number; lastOperation: number; encrypted: boolean; key: string };

/** The keys of one prefix of one bucket. */
export class BucketLayout {
  /** "" or "some/prefix/" */
  readonly root: string;

  constructor(prefix: string) {
    const p = prefix.replace(/^\/+|\/+$/g, "");
    this.root = p ? `${p}/` : "";
  }

  manifestKey(): string {
    return `${this.root}strongbox.json`;
  }

  databaseRoot(databaseName: string): string {
    const problem = databaseNameProblem(databaseName);
    if (problem) throw new OffsiteError("other", problem);
    return `${this.root}${databaseName}/`;
  }

  archivesPrefix(databaseName: string): string {
    return `${this.databaseRoot(databaseName)}archives/`;
  }

  archiveKey(databaseName: string, number: number, encrypted: boolean): string {
    return this.archivesPrefix(databaseName) + archiveName(databaseName, number) + (encrypted ? ENCRYPTED_SUFFIX : "");
  }

  summaryKey(databaseName: string, number: number): string {
    return this.archivesPrefix(databaseName) + archiveName(databaseName, number).replace(/\.zip$/, ".json");
  }

  logBackupsPrefix(databaseName: string): string {
    return `${this.databaseRoot(databaseName)}log-backups/`;
  }

  logBackupKey(databaseName: string, number: number, encrypted: boolean): string {
    return this.logBackupsPrefix(databaseName) + logBackupName(databaseName, number) + (encrypted ? ENCRYPTED_SUFFIX : "");
  }

  segmentsPrefix(databaseName: string, databaseId?: string): string {
    return `${this.databaseRoot(databaseName)}log/${databaseId ? `${databaseId}/` : ""}`;
  }

  segmentKey(databaseName: string, databaseId: string, first: number, last: number, encrypted: boolean): string {
    if (!/^[A-Za-z0-9-]+$/.test(databaseId)) throw new OffsiteError("other", `The database id ${JSON.stringify(databaseId)} can't name a folder in the bucket.`);
    return this.segmentsPrefix(databaseName, databaseId) + segmentName(first, last) + (encrypted ? ENCRYPTED_SUFFIX : "");
  }

  /** What a key under `databaseName` is, or null for anything Strongbox did not put there. */
  parse(databaseName: string, key: string): BucketObject | null {
    const root = this.databaseRoot(databaseName);
    if (!key.startsWith(root)) return null;
    const rest = key.slice(root.length);
    const n = escape(databaseName);
    let m = new RegExp(`^archives/${n}\\[(\\d{4,})\\]\\.zip(${escape(ENCRYPTED_SUFFIX)})?$`).exec(rest);
    if (m) return { kind: "archive", databaseName, number: Number(m[1]), encrypted: !!m[2], key };
    m = new RegExp(`^archives/${n}\\[(\\d{4,})\\]\\.json$`).exec(rest);
    if (m) return { kind: "archive-summary", databaseName, number: Number(m[1]), key };
    m = new RegExp(`^log-backups/${n}\\[(\\d{4,})\\]\\.4BL(${escape(ENCRYPTED_SUFFIX)})?$`).exec(rest);
    if (m) return { kind: "log-backup", databaseName, number: Number(m[1]), encrypted: !!m[2], key };
    m = new RegExp(`^log/([A-Za-z0-9-]+)/log\\[(\\d+)-(\\d+)\\]\\.journal(${escape(ENCRYPTED_SUFFIX)})?$`).exec(rest);
    if (m) return { kind: "segment", databaseName, databaseId: m[1]!, firstOperation: Number(m[2]), lastOperation: Number(m[3]), encrypted: !!m[4], key };
    return null;
  }
}

// ---------------------------------------------------------------------------------------------- strongbox.json

const kdfSchema = z.object({ name: z.literal("scrypt"), salt: z.string().min(16), N: z.number().int(), r: z.number().int(), p: z.number().int() });
const bucketManifestSchema = z.object({
  format: z.number().int(),
  generator: z.literal("strongbox"),
  createdAt: z.string(),
  encryption: z.object({
    algorithm: z.literal("AES-256-GCM-chunked"),
    chunkBytes: z.number().int().min(1024),
    kdf: kdfSchema,
    keyCheck: z.string().regex(/^[0-9a-f]{64}$/),
  }).nullable(),
});
export type BucketManifest = z.infer<typeof bucketManifestSchema>;

/** The bucket's strongbox.json, or null when the prefix holds none yet. A damaged or newer one is refused. */
export async function readBucketManifest(b: Bucket, layout: BucketLayout, signal?: AbortSignal): Promise<BucketManifest | null> {
  const key = layout.manifestKey();
  const buf = await getObjectBuffer(b, key, { signal, maxBytes: 64 << 10 });
  if (!buf) return null;
  let json: unknown;
  try {
    json = JSON.parse(buf.toString("utf8"));
  } catch {
    throw new OffsiteError("other", `${s3Url(b.dest.bucket, key)} is not valid JSON: it is damaged. It holds the encryption's salt; restore it from a copy.`);
  }
  const format = (json as { format?: unknown } | null)?.format;
  if (typeof format === "number" && format > BUCKET_FORMAT) {
    throw new OffsiteError("other", `${s3Url(b.dest.bucket, key)} is format ${format}, written by a newer Strongbox; this one reads format ${BUCKET_FORMAT}. Upgrade Strongbox.`);
  }
  const parsed = bucketManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new OffsiteError("other", `${s3Url(b.dest.bucket, key)} is not a Strongbox bucket description (${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}).`);
  }
  return parsed.data;
}

export async function writeBucketManifest(b: Bucket, layout: BucketLayout, m: BucketManifest, signal?: AbortSignal): Promise<void> {
  await putObject(b, layout.manifestKey(), Buffer.from(JSON.stringify(m, null, 2) + "\n"), { contentType: "application/json", signal });
}

/** How the bucket is to be used: with a passphrase (encrypted uploads), a key already derived, or in plain. */
export type EncryptionChoice = { passphrase: string } | { masterKey: Buffer } | null;

/**
 * Makes sure the prefix has its strongbox.json and returns it with the encryption key to use (null: plain uploads).
 * - No strongbox.json: one is written (with a new salt and the key check when encrypting).
 * - Encryption asked and the bucket already encrypts: the passphrase (or key) must pass the bucket's key check,
 *   so that every object of the prefix can be read with one passphrase; a wrong one is refused (CipherError).
 * - Encryption asked on a prefix that had none: its salt and key check are added.
 * - Plain uploads asked: strongbox.json is left as it is (earlier encrypted objects stay readable with their key).
 */
export async function prepareBucket(b: Bucket, layout: BucketLayout, choice: EncryptionChoice, opts: { now?: Date; signal?: AbortSignal } = {}): Promise<{ manifest: BucketManifest; masterKey: Buffer | null }> {
  const now = opts.now ?? new Date();
  let manifest = await readBucketManifest(b, layout, opts.signal);
  if (choice && "passphrase" in choice) {
    const problem = passphraseProblem(choice.passphrase);
    if (problem) throw new CipherError(problem);
  }
  if (!choice) {
    if (!manifest) {
      manifest = { format: BUCKET_FORMAT, generator: "strongbox", createdAt: now.toISOString(), encryption: null };
      await writeBucketManifest(b, layout, manifest, opts.signal);
    }
    return { manifest, masterKey: null };
  }
  if (manifest?.encryption) {
    const key = "passphrase" in choice ? await deriveMasterKey(choice.passphrase, manifest.encryption.kdf) : choice.masterKey;
    if (!keyMatches(key, manifest.encryption.keyCheck)) {
      throw new CipherError(`The ${"passphrase" in choice ? "passphrase" : "stored encryption key"} does not match the one the objects under ` +
        `${s3Url(b.dest.bucket, layout.root)} are encrypted with (key check in ${layout.manifestKey()}). Enter that passphrase, or use another prefix.`);
    }
    return { manifest, masterKey: key };
  }
  if (!("passphrase" in choice)) {
    throw new CipherError(`${s3Url(b.dest.bucket, layout.manifestKey())} has no encryption set up: enter the passphrase again to set it up there.`);
  }
  const kdf: KdfParams = newKdfParams();
  const masterKey = await deriveMasterKey(choice.passphrase, kdf);
  manifest = {
    format: BUCKET_FORMAT, generator: "strongbox", createdAt: manifest?.createdAt ?? now.toISOString(),
    encryption: { algorithm: "AES-256-GCM-chunked", chunkBytes: DEFAULT_CHUNK_BYTES, kdf, keyCheck: keyCheckOf(masterKey) },
  };
  await writeBucketManifest(b, layout, manifest, opts.signal);
  return { manifest, masterKey };
}

/**
 * The key to read the prefix's encrypted objects with, from a passphrase — for recovery, where only the bucket is
 * known. Null when the prefix has no encryption. A missing or wrong passphrase is refused before anything is read.
 */
export async function unlockBucket(manifest: BucketManifest, passphrase: string | null | undefined, where: string): Promise<Buffer | null> {
  if (!manifest.encryption) return null;
  if (!passphrase) throw new CipherError(`The objects under ${where} are encrypted: give the passphrase (STRONGBOX_OFFSITE_PASSPHRASE).`);
  const key = await deriveMasterKey(passphrase, manifest.encryption.kdf);
  if (!keyMatches(key, manifest.encryption.keyCheck)) {
    throw new CipherError(`The passphrase is wrong: it does not match the key check of ${where}strongbox.json. Nothing was downloaded.`);
  }
  return key;
}

// ------------------------------------------------------------------------------------------ archive summaries

export const archiveSummarySchema = z.object({
  format: z.literal(1),
  databaseName: z.string(),
  databaseId: z.string().nullable(),
  number: z.number().int().min(1),
  startingDate: z.string(),
  /** When the archive's content was complete: its snapshot was taken before this. */
  endingDate: z.string(),
  /** Whether the archive holds the data file (Data/data.sqlite): only such an archive can start a recovery. */
  dataFile: z.boolean(),
  /** The last operation in the archive's data file (manifest.log.lastOperation); the log goes on after it. */
  snapshotLastOperation: z.number().int().min(0).nullable(),
  /** SHA-256 and size of the archive as made (the plain ZIP). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().min(0),
  object: z.object({ key: z.string(), size: z.number().int().min(0), encrypted: z.boolean() }),
  lock: z.object({ mode: z.enum(["COMPLIANCE", "GOVERNANCE"]), retainUntil: z.string() }).nullable(),
  uploadedAt: z.string(),
});
export type ArchiveSummary = z.infer<typeof archiveSummarySchema>;

export async function writeArchiveSummary(b: Bucket, layout: BucketLayout, s: ArchiveSummary, lock: ObjectLock | null, signal?: AbortSignal): Promise<void> {
  await putObject(b, layout.summaryKey(s.databaseName, s.number), Buffer.from(JSON.stringify(s, null, 2) + "\n"), { contentType: "application/json", lock, signal });
}

export interface ListedArchive {
  number: number;
  /** null when the archive has no (readable) summary yet: an upload that has not finished, or a damaged one. */
  summary: ArchiveSummary | null;
  /** Why the summary can't be used, when there is one that can't. */
  summaryProblem: string | null;
  /** The archive object itself, when it is there. */
  object: { key: string; size: number; encrypted: boolean } | null;
  summaryKey: string | null;
}

/** The archives of a database in the bucket, by number, with their summaries (read, and checked). */
export async function listArchives(b: Bucket, layout: BucketLayout, databaseName: string, signal?: AbortSignal): Promise<ListedArchive[]> {
  const byNumber = new Map<number, ListedArchive>();
  const entry = (n: number) => {
    let e = byNumber.get(n);
    if (!e) byNumber.set(n, (e = { number: n, summary: null, summaryProblem: null, object: null, summaryKey: null }));
    return e;
  };
  for (const o of await listObjects(b, layout.archivesPrefix(databaseName), signal)) {
    const p = layout.parse(databaseName, o.key);
    if (p?.kind === "archive") entry(p.number).object = { key: o.key, size: o.size, encrypted: p.encrypted };
    else if (p?.kind === "archive-summary") entry(p.number).summaryKey = o.key;
  }
  for (const e of byNumber.values()) {
    if (!e.summaryKey) continue;
    const buf = await getObjectBuffer(b, e.summaryKey, { signal, maxBytes: 1 << 20 });
    if (!buf) continue;
    try {
      const s = archiveSummarySchema.parse(JSON.parse(buf.toString("utf8")));
      if (s.number !== e.number || s.databaseName !== databaseName) throw new Error(`it describes ${s.databaseName} number ${s.number}`);
      e.summary = s;
    } catch (err) {
      e.summaryProblem = `${s3Url(b.dest.bucket, e.summaryKey)} can't be used: ${(err as Error).message.split("\n")[0]}`;
    }
  }
  return [...byNumber.values()].sort((x, y) => x.number - y.number);
}

/** The databases that have a folder under the prefix. */
export async function listDatabases(b: Bucket, layout: BucketLayout, signal?: AbortSignal): Promise<string[]> {
  return (await listFolders(b, layout.root, signal)).filter((n) => databaseNameProblem(n) === null);
}
