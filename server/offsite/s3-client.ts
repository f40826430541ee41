// The S3 client for an off-site destination, and what its failures mean in plain words. One place decides how
// Strongbox talks to object storage (checksums, timeouts, retries) and how an error is told to a person.
import { S3Client } from "@aws-sdk/client-s3";

/** Where off-site copies go: an S3-compatible endpoint, a bucket and a prefix inside it, and the credentials. */
export interface S3Destination {
  /** http(s)://host[:port] of the S3 API (for AWS itself: https://s3.<region>.amazonaws.com). */
  endpoint: string;
  region: string;
  bucket: string;
  /** Folder inside the bucket, without leading or trailing slash; "" for the bucket's root. */
  prefix: string;
  /** Path-style addressing (http://host/bucket/key): what most self-hosted servers (Ceph, MinIO) need. */
  forcePathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface S3Timeouts {
  /** To open the TCP (and TLS) connection. */
  connectMs: number;
  /** Without a byte in either direction: a server that stopped answering mid-request. */
  idleMs: number;
  /** From sending the request to the response's headers (a part upload included). */
  requestMs: number;
}

export const DEFAULT_TIMEOUTS: S3Timeouts = { connectMs: 10_000, idleMs: 30_000, requestMs: 120_000 };

export interface S3ClientOptions {
  timeouts?: Partial<S3Timeouts>;
  /** Attempts per request, the SDK's own retries of throttling and 5xx answers included (default 3). */
  maxAttempts?: number;
}

/**
 * An S3Client for the destination.
 * - Checksums only WHEN_REQUIRED: by default the SDK adds a CRC32 trailer to every upload (aws-chunked
 *   encoding), which Ceph's radosgw 16.2 refuses with 411 MissingContentLength. Integrity is ensured by our own
 *   Content-MD5 on every upload instead (the one checksum radosgw verifies), with SHA-256 checksums sent beside it
 *   for the servers that verify those.
 * - Timeouts that end in an error: without throwOnRequestTimeout the SDK only logs a warning and a server that
 *   accepts the connection but never answers hangs the request for ever.
 */
export function makeS3Client(dest: S3Destination, opts: S3ClientOptions = {}): S3Client {
  const t = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const client = new S3Client({
    endpoint: dest.endpoint,
    region: dest.region,
    forcePathStyle: dest.forcePathStyle,
    credentials: { accessKeyId: dest.accessKeyId, secretAccessKey: dest.secretAccessKey },
    maxAttempts: opts.maxAttempts ?? 3,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: { connectionTimeout: t.connectMs, socketTimeout: t.idleMs, requestTimeout: t.requestMs, throwOnRequestTimeout: true },
  });
  // A body sent with our SHA-256 (ChecksumSHA256) is signed with it as its payload hash (x-amz-content-sha256),
  // instead of the signer hashing the body a second time. The server checks that hash against the body — radosgw
  // 16.2 does (XAmzContentSHA256Mismatch), although it ignores the checksum headers themselves.
  client.middlewareStack.add((next) => async (args) => {
    const sha = (args.input as { ChecksumSHA256?: string }).ChecksumSHA256;
    const req = args.request as { headers?: Record<string, string> } | undefined;
    if (sha && req?.headers && !Object.keys(req.headers).some((h) => h.toLowerCase() === "x-amz-content-sha256")) {
      req.headers["x-amz-content-sha256"] = Buffer.from(sha, "base64").toString("hex");
    }
    return next(args);
  }, { step: "build", name: "strongboxPayloadHash" });
  return client;
}

/** What went wrong, in the terms a person can act on. */
export type S3ErrorKind =
  | "connection" // DNS, refused, reset, TLS: the endpoint can't be reached
  | "timeout" // reached, but no answer in time
  | "credentials" // unknown access key, wrong secret, clock skew
  | "bucket-missing"
  | "permission" // credentials valid, action not allowed (policy, another's bucket, Object Lock)
  | "not-found" // the object (or the multipart upload) isn't there
  | "stopped" // our own AbortSignal
  | "other";

/** An off-site failure: a sentence saying what happened, to what, and what to do; `kind` for the caller's logic. */
export class OffsiteError extends Error {
  readonly kind: S3ErrorKind;
  /** The S3 error code or system error code behind it, when there is one. */
  readonly code: string | null;
  constructor(kind: S3ErrorKind, message: string, options?: { cause?: unknown; code?: string | null }) {
    super(message, options);
    this.name = "OffsiteError";
    this.kind = kind;
    this.code = options?.code ?? null;
  }
}

export function isOffsiteError(err: unknown): err is OffsiteError {
  return err instanceof Error && err.name === "OffsiteError" && typeof (err as OffsiteError).kind === "string";
}

interface SdkLikeError {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

const NETWORK_CODES: Record<string, string> = {
  ENOTFOUND: "the host name is unknown (DNS)",
  EAI_AGAIN: "the host name could not be resolved (DNS not answering)",
  ECONNREFUSED: "the connection was refused (nothing listens on that port)",
  ECONNRESET: "the connection was reset",
  EHOSTUNREACH: "the host is unreachable",
  ENETUNREACH: "the network is unreachable",
  EPIPE: "the connection was closed while sending",
  EPROTO: "the TLS handshake failed (https to a plain-http port?)",
  ERR_SSL_WRONG_VERSION_NUMBER: "the TLS handshake failed (https to a plain-http port?)",
  CERT_HAS_EXPIRED: "the server's TLS certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's TLS certificate is self-signed",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's TLS certificate can't be verified",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's TLS certificate is for another host name",
};

/** The S3 or system error code of an SDK error (radosgw sends an empty <Message>, so the name/code is what counts). */
export function s3ErrorCode(err: unknown): string | null {
  const e = err as SdkLikeError | null;
  if (!e || typeof e !== "object") return null;
  const code = e.Code ?? e.code ?? e.name;
  if (code && code !== "Error" && code !== "UnknownError" && code !== "Unknown") return code;
  const cause = e.cause as SdkLikeError | undefined;
  return cause?.code ?? cause?.name ?? (code ?? null);
}

export function httpStatusOf(err: unknown): number | null {
  return (err as SdkLikeError | null)?.$metadata?.httpStatusCode ?? null;
}

/** The kind of an SDK failure, and a few words on what it means. */
export function classifyS3Error(err: unknown, signal?: AbortSignal): { kind: S3ErrorKind; code: string | null; why: string } {
  const code = s3ErrorCode(err);
  const status = httpStatusOf(err);
  if (signal?.aborted || code === "AbortError") return { kind: "stopped", code, why: "stopped" };
  if (code && NETWORK_CODES[code]) return { kind: "connection", code, why: NETWORK_CODES[code] };
  if (code === "TimeoutError" || code === "ETIMEDOUT" || code === "RequestTimeout" || code === "RequestTimeoutException") {
    return { kind: "timeout", code, why: "the server did not answer in time" };
  }
  switch (code) {
    case "InvalidAccessKeyId":
      return { kind: "credentials", code, why: "the access key id is unknown to the server" };
    case "SignatureDoesNotMatch":
      return { kind: "credentials", code, why: "the secret access key is wrong (the request's signature does not match)" };
    case "RequestTimeTooSkewed":
      return { kind: "credentials", code, why: "this machine's clock differs too much from the server's" };
    case "ExpiredToken":
    case "InvalidToken":
      return { kind: "credentials", code, why: "the credentials have expired" };
    case "NoSuchBucket":
      return { kind: "bucket-missing", code, why: "the bucket does not exist" };
    case "AccessDenied":
    case "AllAccessDisabled":
    case "Forbidden":
      return { kind: "permission", code, why: "the credentials are valid but not allowed to do this" };
    case "NoSuchKey":
    case "NotFound":
    case "NoSuchUpload":
      return { kind: "not-found", code, why: code === "NoSuchUpload" ? "the multipart upload no longer exists" : "the object does not exist" };
  }
  if (status === 403) return { kind: "permission", code, why: "access denied (403)" };
  if (status === 404) return { kind: "not-found", code, why: "not found (404)" };
  const msg = (err as Error | null)?.message;
  return { kind: "other", code, why: code && msg && msg !== code && msg !== "UnknownError" ? `${code}: ${msg}` : code ?? msg ?? String(err) };
}

/** `s3://bucket/key` for messages. */
export const s3Url = (bucket: string, key = "") => `s3://${bucket}/${key}`;

/**
 * Wraps an SDK failure into an OffsiteError whose message says what failed (`what`, e.g. "Uploading X to s3://b/k"),
 * why, and what to do. An OffsiteError passes through unchanged.
 */
export function offsiteError(err: unknown, what: string, dest: Pick<S3Destination, "endpoint" | "bucket">, signal?: AbortSignal): OffsiteError {
  if (isOffsiteError(err)) return err;
  const { kind, code, why } = classifyS3Error(err, signal);
  const advice: Record<S3ErrorKind, string> = {
    connection: `Check the endpoint URL (${dest.endpoint}) and that the object storage is running and reachable from this machine.`,
    timeout: `Check that ${dest.endpoint} is the object storage's S3 address and that it is not overloaded; it is tried again later.`,
    credentials: "Check the access key id and the secret access key on the Settings page (Off-site).",
    "bucket-missing": `Create the bucket ${dest.bucket}, or correct its name on the Settings page (Off-site).`,
    permission: `Give these credentials the right to read, write, list and delete objects in the bucket ${dest.bucket}.`,
    "not-found": "",
    stopped: "",
    other: "",
  };
  const text = kind === "stopped" ? `${what} was stopped.` : `${what} failed: ${why}.${advice[kind] ? " " + advice[kind] : ""}`;
  return new OffsiteError(kind, text, { cause: err, code });
}
