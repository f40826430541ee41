// `strongbox recover --from s3://bucket/prefix --to DIR [--time T]`: recovery from the bucket alone on a machine
// that has nothing else — no console, no server, no console.sqlite. The endpoint and credentials come from the
// environment as the AWS CLI reads them (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL), the passphrase of an encrypted bucket from STRONGBOX_OFFSITE_PASSPHRASE: never from the command
// line, which every user sees in process lists. Prints what it does and what it did; exit codes as the other
// commands: 0 done, 1 the recovery failed or was refused, 2 usage error, 3 the storage can't be reached or refuses
// the credentials.
import path from "node:path";
import { destinationInputSchema } from "./offsite-settings";
import { recoverFromBucket, type RecoverReport, type RecoverStep } from "./recover";
import { isOffsiteError, makeS3Client, type S3Destination } from "./s3-client";
import type { TransferProgress } from "./transfer-progress";

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, UNREACHABLE: 3, INTERRUPTED: 130 } as const;

export const RECOVER_USAGE = `strongbox recover --from s3://BUCKET/PREFIX --to DIR [--time T] [--database NAME]
                  [--endpoint URL] [--region REGION] [--path-style | --no-path-style]

  Rebuilds a database folder in DIR (absent or empty) from the bucket alone: the newest off-site archive
  completed at or before T (default: the newest), then the shipped log up to T (default: all of it).
  Runs on this machine; needs neither the console nor a server.

  --time T        ISO 8601 date and time: 2026-12-04T18:30:00Z, or 2026-12-04 18:30 (this machine's time zone)
  --database NAME the database, when the prefix holds copies of several
  --endpoint URL  the S3 endpoint (default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, else AWS S3 in the region)
  --region REGION default: $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1
  --path-style    http://host/bucket/key addressing; the default for any endpoint but AWS's own

  Environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (required); STRONGBOX_OFFSITE_PASSPHRASE for an
  encrypted bucket. Secrets are never taken from the command line (process lists show it to every user).`;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface RecoverArgs {
  dest: S3Destination;
  to: string;
  time: Date | null;
  database: string | null;
  passphrase: string | null;
}

/** "2026-12-04T18:30:00Z", "2026-12-04T18:30:00+01:00", "2026-12-04 18:30" (local time), seconds and fractions optional. */
const TIME_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

export function parseTime(text: string): Date {
  const t = text.trim();
  const d = TIME_RE.test(t) ? new Date(t.replace(" ", "T")) : null;
  if (!d || Number.isNaN(d.getTime())) {
    throw new UsageError(`--time "${text}" is not a date and time: write it as 2026-12-04T18:30:00Z (UTC), 2026-12-04T18:30:00+01:00, or 2026-12-04 18:30 (this machine's time zone).`);
  }
  return d;
}

/** The options and the environment to what recovery needs; every problem is a UsageError saying what to fix. */
export function parseRecoverArgs(argv: string[], env: NodeJS.ProcessEnv): RecoverArgs {
  const o: { from?: string; to?: string; time?: string; database?: string; endpoint?: string; region?: string; pathStyle?: boolean } = {};
  const valued = { "--from": "from", "--to": "to", "--time": "time", "--database": "database", "--endpoint": "endpoint", "--region": "region" } as const;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const name = (eq > 0 ? arg.slice(0, eq) : arg) as keyof typeof valued;
    if (name in valued) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === "") throw new UsageError(`${name} needs a value.`);
      o[valued[name]] = value;
    } else if (arg === "--path-style") o.pathStyle = true;
    else if (arg === "--no-path-style") o.pathStyle = false;
    else if (/^--(passphrase|secret|access-key|key)/.test(arg)) {
      throw new UsageError(`There is no ${arg.split("=")[0]} option (it would show in process lists): set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and STRONGBOX_OFFSITE_PASSPHRASE instead.`);
    } else if (arg.startsWith("-")) throw new UsageError(`Unknown option: ${arg}`);
    else throw new UsageError(`Unexpected argument: ${arg}`);
  }
  if (!o.from) throw new UsageError("Say which bucket to recover from: --from s3://BUCKET/PREFIX.");
  if (!o.to) throw new UsageError("Say where to put the database: --to DIR (a folder that does not exist yet, or an empty one).");
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/i.exec(o.from.trim());
  if (!m) throw new UsageError(`--from "${o.from}" is not an s3:// address: write it as s3://BUCKET/PREFIX (the destination's bucket and prefix).`);
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  if (!accessKeyId || !secretAccessKey) {
    const missing = [!accessKeyId && "AWS_ACCESS_KEY_ID", !secretAccessKey && "AWS_SECRET_ACCESS_KEY"].filter(Boolean).join(" and ");
    throw new UsageError(`No credentials: set ${missing} in the environment (the bucket's access key id and secret).`);
  }
  const region = o.region ?? env.AWS_REGION?.trim() ?? env.AWS_DEFAULT_REGION?.trim() ?? "us-east-1";
  const endpointFrom = o.endpoint ? "--endpoint" : env.AWS_ENDPOINT_URL_S3 ? "AWS_ENDPOINT_URL_S3" : env.AWS_ENDPOINT_URL ? "AWS_ENDPOINT_URL" : null;
  const endpoint = o.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? `https://s3.${region}.amazonaws.com`;
  const awsItself = /(^|\.)amazonaws\.com(\.cn)?$/i.test(safeHost(endpoint));
  const parsed = destinationInputSchema.safeParse({
    endpoint, region, bucket: m[1], prefix: m[2] ?? "", forcePathStyle: o.pathStyle ?? !awsItself, accessKeyId, secretAccessKey,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0]);
    const where: Record<string, string> = {
      endpoint: endpointFrom ?? "the endpoint", region: o.region ? "--region" : "AWS_REGION", bucket: "--from", prefix: "--from",
      accessKeyId: "AWS_ACCESS_KEY_ID", secretAccessKey: "AWS_SECRET_ACCESS_KEY",
    };
    throw new UsageError(`${where[field] ?? field}: ${issue.message}`);
  }
  const d = parsed.data;
  return {
    dest: { ...d, secretAccessKey: d.secretAccessKey ?? secretAccessKey },
    to: path.resolve(o.to),
    time: o.time ? parseTime(o.time) : null,
    database: o.database ?? null,
    passphrase: env.STRONGBOX_OFFSITE_PASSPHRASE || null,
  };
}

function safeHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

function transferLine(key: string, p: TransferProgress): string {
  const pct = p.bytesTotal > 0 ? Math.floor((p.bytesDone / p.bytesTotal) * 100) : 100;
  const speed = p.bytesPerSecond ? `  ${mb(p.bytesPerSecond)}/s` : "";
  const eta = p.etaSeconds !== null && p.bytesDone < p.bytesTotal ? `  ${Math.ceil(p.etaSeconds)} s left` : "";
  return `  ${String(pct).padStart(3)}%  ${mb(p.bytesDone)} / ${mb(p.bytesTotal)}${speed}${eta}  ${path.basename(key)}`;
}

export function describeReport(r: RecoverReport): string[] {
  const lines = [
    `Recovered the database ${r.databaseName} into ${r.target}`,
    `  Archive:         #${r.archive.number} (s3://${r.bucket}/${r.archive.key}), completed ${r.archive.endingDate}`,
    `  Shipped log:     ${r.logSources.length === 0 ? "none after the archive" : `${r.logSources.length} object(s): ${r.logSources.map((k) => path.basename(k)).join(", ")}`}`,
    `  Operations:      ${r.operationsIntegrated} integrated after the archive's snapshot${r.archive.snapshotLastOperation !== null ? ` (operation ${r.archive.snapshotLastOperation})` : ""}`,
    `  Recovery point:  ${r.lastOperation === null ? "the archive's snapshot" : `operation ${r.lastOperation}`}, made at ${r.lastOperationTime ?? r.archive.endingDate}` +
      (r.requestedTime ? ` (asked for: ${r.requestedTime})` : " (as late as the bucket allows)"),
    `  Report:          ${r.reportFile}`,
  ];
  return lines;
}

export interface CommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  signal?: AbortSignal;
}

/** Runs the command; resolves with its exit code. */
export async function runRecoverCommand(argv: string[], env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  let args: RecoverArgs;
  try {
    args = parseRecoverArgs(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`strongbox recover: ${err.message}\n\n${RECOVER_USAGE}`);
    return EXIT.USAGE;
  }
  const where = `s3://${args.dest.bucket}/${args.dest.prefix}`;
  io.out(`Recovering from ${where} at ${args.dest.endpoint} into ${args.to}${args.time ? `, as it was at ${args.time.toISOString()}` : ""}`);
  const client = makeS3Client(args.dest);
  let lastStep: RecoverStep | null = null;
  let lastKey = "";
  let lastPrint = 0;
  try {
    const report = await recoverFromBucket({
      bucket: { client, dest: args.dest }, prefix: args.dest.prefix, to: args.to, time: args.time ?? undefined, databaseName: args.database ?? undefined,
      passphrase: args.passphrase, signal: io.signal,
      onProgress: (step, detail, transfer) => {
        if (step === "done") return;
        const isNew = step !== lastStep || (transfer ? detail !== lastKey : true);
        if (isNew && !transfer) io.out(`[${step}] ${detail}`);
        if (transfer) {
          if (detail !== lastKey || step !== lastStep) io.out(`[${step}] ${detail}`);
          const now = Date.now();
          if (now - lastPrint >= 1000 || transfer.bytesDone >= transfer.bytesTotal) {
            io.out(transferLine(detail, transfer));
            lastPrint = now;
          }
        }
        lastStep = step;
        lastKey = detail;
      },
    });
    for (const line of describeReport(report)) io.out(line);
    for (const w of report.warnings) io.err(`Warning: ${w}`);
    return EXIT.OK;
  } catch (err) {
    const e = err as Error;
    if (io.signal?.aborted) {
      io.err(`strongbox recover: stopped; ${args.to} was left as it was.`);
      return EXIT.INTERRUPTED;
    }
    if (isOffsiteError(e) && ["connection", "timeout", "credentials", "permission"].includes(e.kind)) {
      io.err(`strongbox recover: ${e.message}`);
      return EXIT.UNREACHABLE;
    }
    // Refused or failed (no archive, wrong passphrase, a folder that isn't empty, a damaged object…): the folder
    // appears only when complete, so nothing is left behind.
    io.err(`strongbox recover: ${e.message ?? String(err)} Nothing was written to ${args.to}.`);
    return EXIT.FAILED;
  } finally {
    client.destroy();
  }
}
