// The Off-site tab of the Settings page as the server receives it: the destination, the off-site settings and
// client-side encryption, checked all together (every problem named by its field, `offsite.<field>`, so the page
// shows it under that field), then saved together with the page's one Save — or nothing is saved. The secret and
// the passphrase only ever come in: what goes back to the browser says whether they are set, never what they are.
import type { ConsoleDb } from "../console/console-db";
import { BucketLayout, prepareBucket } from "./bucket-layout";
import { keyCheckOf, passphraseProblem } from "./chunk-cipher";
import {
  clearEncryptionKey, destinationInputSchema, loadDestination, loadEncryptionKey, loadOffsiteSettings, offsiteSettingsSchema, saveDestination,
  saveOffsiteSettings, storeEncryptionKey, viewDestination, type DestinationView, type OffsiteSettings,
} from "./offsite-settings";
import { makeS3Client, type S3Destination } from "./s3-client";
import type { SecretBox } from "./secret-box";
import { TEST_TIMEOUTS } from "./test-connection";

/** What the Off-site tab sends. `secretAccessKey` / `passphrase` null or "": keep what is stored. */
export interface OffsiteFormInput extends Omit<S3Destination, "secretAccessKey"> {
  secretAccessKey: string | null;
  /** null: keep all off-site archives. */
  keepLast: number | null;
  lockDays: number;
  lockMode: "COMPLIANCE" | "GOVERNANCE";
  logIntervalSeconds: number;
  encrypt: boolean;
  passphrase: string | null;
  passphraseAgain: string | null;
}

/** What the Off-site tab shows: never the secret nor the key, only whether they are stored. */
export interface OffsiteFormView {
  destination: DestinationView | null;
  settings: Omit<OffsiteSettings, "encryption">;
  encryption: { enabled: boolean };
}

export interface OffsiteProblem { path: string; message: string }

export function viewOffsiteForm(db: ConsoleDb): OffsiteFormView {
  const { encryption, ...settings } = loadOffsiteSettings(db);
  return { destination: viewDestination(db), settings, encryption: { enabled: encryption.enabled } };
}

/** The field names people read, for messages about a value of the wrong type (an emptied number field). */
const LABELS: Record<string, string> = {
  endpoint: "endpoint URL", region: "region", bucket: "bucket", prefix: "prefix", forcePathStyle: "path-style setting", accessKeyId: "access key id",
  secretAccessKey: "secret access key", keepLast: "number of off-site archives to keep", lockDays: "Object Lock retain days",
  lockMode: "Object Lock mode", logIntervalSeconds: "log shipping interval",
};

function issuesOf(r: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; code: string; message: string }> } }): OffsiteProblem[] {
  if (r.success || !r.error) return [];
  const seen = new Set<string>();
  const out: OffsiteProblem[] = [];
  for (const issue of r.error.issues) {
    const field = String(issue.path[0] ?? "input");
    if (seen.has(field)) continue; // one sentence per field
    seen.add(field);
    const message = issue.code === "invalid_type" ? `Enter the ${LABELS[field] ?? field}${field === "keepLast" || field === "lockDays" || field === "logIntervalSeconds" ? " as a whole number" : ""}.` : issue.message;
    out.push({ path: `offsite.${field}`, message });
  }
  return out;
}

const blankToNull = (s: string | null | undefined) => (typeof s === "string" && s !== "" ? s : null);
const sameBucket = (a: S3Destination | null, b: S3Destination) =>
  !!a && a.endpoint === b.endpoint && a.bucket === b.bucket && a.prefix === b.prefix && a.region === b.region;

export interface CheckedOffsiteForm {
  problems: OffsiteProblem[];
  /**
   * Sets up encryption in the bucket when asked — the one step that needs the network: the bucket's
   * strongbox.json holds the salt and key check. A problem found there (a passphrase that doesn't match the
   * bucket's, a bucket that can't be reached) is returned and nothing is stored; otherwise `commit` stores
   * everything in one transaction.
   */
  prepare: (() => Promise<{ problems: OffsiteProblem[]; commit: ((by: string | null) => OffsiteFormView) | null }>) | null;
}

/** Checks the tab's values without the network and without changing anything. */
export function checkOffsiteForm(db: ConsoleDb, box: SecretBox, raw: unknown): CheckedOffsiteForm {
  const input = (raw && typeof raw === "object" ? raw : {}) as Partial<OffsiteFormInput>;
  const destInput = {
    endpoint: input.endpoint, region: input.region, bucket: input.bucket, prefix: input.prefix, forcePathStyle: input.forcePathStyle,
    accessKeyId: input.accessKeyId, secretAccessKey: blankToNull(input.secretAccessKey),
  };
  const settingsInput = {
    keepLast: input.keepLast === null || (typeof input.keepLast === "number" && !Number.isNaN(input.keepLast)) ? input.keepLast : undefined,
    lockDays: input.lockDays, lockMode: input.lockMode, logIntervalSeconds: input.logIntervalSeconds,
  };
  const d = destinationInputSchema.safeParse(destInput);
  const s = offsiteSettingsSchema.safeParse(settingsInput);
  const problems = [...issuesOf(d), ...issuesOf(s)];
  const stored = loadDestination(db, box);
  if (d.success && !d.data.secretAccessKey && !stored) {
    problems.push({ path: "offsite.secretAccessKey", message: "Enter the secret access key: none is stored yet." });
  }
  const encrypt = input.encrypt === true;
  const passphrase = blankToNull(input.passphrase);
  const encryptionOn = loadOffsiteSettings(db).encryption.enabled;
  if (encrypt && passphrase !== null) {
    const p = passphraseProblem(passphrase);
    if (p) problems.push({ path: "offsite.passphrase", message: p });
    else if (passphrase !== blankToNull(input.passphraseAgain)) {
      problems.push({ path: "offsite.passphraseAgain", message: "The two passphrases differ: type the same passphrase in both fields." });
    }
  } else if (encrypt && !encryptionOn) {
    problems.push({ path: "offsite.passphrase", message: "Enter a passphrase to encrypt what goes to the bucket (or turn encryption off)." });
  }
  if (problems.length > 0 || !d.success || !s.success) return { problems, prepare: null };

  const dest: S3Destination = { ...d.data, secretAccessKey: d.data.secretAccessKey ?? stored!.secretAccessKey };
  const settings = s.data;
  return {
    problems: [],
    prepare: async () => {
      let key: Buffer | null | "clear" | "keep" = encrypt ? "keep" : encryptionOn ? "clear" : "keep";
      if (encrypt && (passphrase !== null || !sameBucket(stored, dest))) {
        // A new passphrase is set up in the bucket (or checked against the one its objects use); a key kept for
        // another bucket or prefix must match that bucket's key check, or the passphrase must be entered again.
        const current = passphrase === null ? loadEncryptionKey(db, box) : null;
        const client = makeS3Client(dest, { timeouts: TEST_TIMEOUTS, maxAttempts: 1 });
        try {
          const r = await prepareBucket({ client, dest }, new BucketLayout(dest.prefix), passphrase !== null ? { passphrase } : { masterKey: current! });
          key = r.masterKey;
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          const message = err instanceof Error && err.name === "CipherError"
            ? why
            : `Encryption could not be set up in the bucket ${dest.bucket}: ${why}`;
          return { problems: [{ path: "offsite.passphrase", message }], commit: null };
        } finally {
          client.destroy();
        }
      }
      const chosen = key;
      const commit = (by: string | null) => {
        db.transaction(() => {
          saveDestination(db, box, { ...dest }, by);
          saveOffsiteSettings(db, settings);
          if (chosen === "clear") clearEncryptionKey(db);
          else if (Buffer.isBuffer(chosen)) storeEncryptionKey(db, box, chosen, keyCheckOf(chosen));
        })();
        return viewOffsiteForm(db);
      };
      return { problems: [], commit };
    },
  };
}
