// `strongbox recover` as a user runs it on an empty machine: the real command (bin/strongbox, through its shebang)
// against a real S3 server, with only the environment the AWS CLI reads — into an empty folder, to a chosen time
// and as late as shipped, equal table by table to the live data then; and the bad inputs, each with its sentence
// and exit code, leaving the folder as it was.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshBucket, s3Server } from "../../test/s3/s3-server";
import { liveDatabase, tables, type LiveDatabase } from "../../test/s3/live-database";
import { LogShipper } from "./log-shipping";
import { copyBackupOffsite } from "./offsite-copy";
import type { OffsiteTarget } from "./offsite-target";

const CLI = path.resolve(import.meta.dirname, "../../bin/strongbox");
const PASSPHRASE = "correct horse battery staple";

interface Run { code: number | null; stdout: string; stderr: string }

/** The command with a clean environment: only what is given here (no AWS_* of the machine running the tests). */
function recover(args: string[], env: Record<string, string | undefined>): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
  for (const k of Object.keys(childEnv)) if ((k.startsWith("AWS_") && k !== "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED") || k === "STRONGBOX_OFFSITE_PASSPHRASE") delete childEnv[k];
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k]; else childEnv[k] = v;
  const child = spawn(CLI, ["recover", ...args], { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

let live: LiveDatabase;
let target: OffsiteTarget;
let scratch: string;
let env: Record<string, string>;
let from: string;
let timeB: string;
let atB: Record<string, unknown[]>;
let atD: Record<string, unknown[]>;

beforeAll(async () => {
  const b = await freshBucket({ prefix: "prod/strongbox" });
  live = await liveDatabase(b.dest, { passphrase: PASSPHRASE });
  target = await live.target();
  const shipper = new LogShipper({ log: live.shippable, bucket: target.bucket, layout: target.layout, db: target.db, databaseName: "TestDb",
    masterKey: target.masterKey, intervalMs: 60_000 });
  await live.write("A", 10);
  await copyBackupOffsite(target, await live.backup());
  await live.write("B", 12);
  await shipper.tick();
  atB = tables(live.t.dataFile);
  timeB = (await shipper.status()).shipped!.time;
  while (Date.now() <= Date.parse(timeB)) await new Promise((r) => setTimeout(r, 1)); // the next write strictly after B
  await live.write("C", 8);
  await shipper.tick();
  await copyBackupOffsite(target, await live.backup());
  await live.write("D", 7);
  await shipper.tick();
  atD = tables(live.t.dataFile);
  const s = s3Server();
  env = { AWS_ACCESS_KEY_ID: s.accessKeyId, AWS_SECRET_ACCESS_KEY: s.secretAccessKey, AWS_REGION: s.region, AWS_ENDPOINT_URL_S3: s.endpoint,
    STRONGBOX_OFFSITE_PASSPHRASE: PASSPHRASE };
  from = `s3://${b.dest.bucket}/prod/strongbox`;
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-recover-cli-"));
});
afterAll(async () => {
  await live?.close();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

describe("strongbox recover", () => {
  it("rebuilds the database into an empty folder as it was at --time, equal table by table to the live data then, and says what it did", async () => {
    const to = path.join(scratch, "at-B");
    fs.mkdirSync(to); // an empty folder is accepted as well as a new one
    const r = await recover(["--from", from, "--to", to, "--time", timeB], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Recovering from ${from} at ${env.AWS_ENDPOINT_URL_S3} into ${to}, as it was at ${timeB}`);
    expect(r.stdout).toMatch(/\[download-archive\] prod\/strongbox\/TestDb\/archives\/TestDb\[0001\]\.zip\.sbxenc/);
    expect(r.stdout).toMatch(/^ +100% +[\d.]+ MB \/ [\d.]+ MB/m);
    expect(r.stdout).toContain(`Recovered the database TestDb into ${to}`);
    expect(r.stdout).toMatch(/Archive: +#1 \(s3:\/\/sbx-[0-9a-f]+\/prod\/strongbox\/TestDb\/archives\/TestDb\[0001\]\.zip\.sbxenc\)/);
    expect(r.stdout).toMatch(/Operations: +\d+ integrated after the archive's snapshot \(operation \d+\)/);
    expect(r.stdout).toContain(`made at ${timeB} (asked for: ${timeB})`);
    expect(tables(path.join(to, "Data/data.sqlite"))).toEqual(atB);
  });

  it("without --time brings back everything shipped, from the newest archive", async () => {
    const to = path.join(scratch, "latest");
    const r = await recover(["--from", from, "--to", to], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Archive: +#2 /);
    expect(r.stdout).toContain(`Recovery point:  operation ${live.store.lastOperation()}`);
    expect(r.stdout).toContain("(as late as the bucket allows)");
    expect(tables(path.join(to, "Data/data.sqlite"))).toEqual(atD);
  });

  it("refuses bad input with a sentence and an exit code, and leaves the folder as it was", async () => {
    const to = path.join(scratch, "refused");
    const noCredentials = await recover(["--from", from, "--to", to], { ...env, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    expect(noCredentials.code).toBe(2);
    expect(noCredentials.stderr).toContain("No credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");

    const badUrl = await recover(["--from", "https://bucket/prefix", "--to", to], env);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('--from "https://bucket/prefix" is not an s3:// address');
    const badBucket = await recover(["--from", "s3://Not_A_Bucket/x", "--to", to], env);
    expect(badBucket.code).toBe(2);
    expect(badBucket.stderr).toContain('--from: "Not_A_Bucket" is not a valid bucket name');
    const badTime = await recover(["--from", from, "--to", to, "--time", "yesterday"], env);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('--time "yesterday" is not a date and time');
    const secretFlag = await recover(["--from", from, "--to", to, "--passphrase=x"], env);
    expect(secretFlag.code).toBe(2);
    expect(secretFlag.stderr).toContain("There is no --passphrase option");

    const wrongPassphrase = await recover(["--from", from, "--to", to], { ...env, STRONGBOX_OFFSITE_PASSPHRASE: "not the passphrase at all" });
    expect(wrongPassphrase.code).toBe(1);
    expect(wrongPassphrase.stderr).toContain("The passphrase is wrong");
    const noPassphrase = await recover(["--from", from, "--to", to], { ...env, STRONGBOX_OFFSITE_PASSPHRASE: undefined });
    expect(noPassphrase.code).toBe(1);
    expect(noPassphrase.stderr).toContain("are encrypted: give the passphrase (STRONGBOX_OFFSITE_PASSPHRASE)");

    const wrongSecret = await recover(["--from", from, "--to", to], { ...env, AWS_SECRET_ACCESS_KEY: "not-the-secret" });
    expect(wrongSecret.code).toBe(3);
    expect(wrongSecret.stderr).toContain("the secret access key is wrong");
    const missingBucket = await recover(["--from", "s3://no-such-bucket-here/prod", "--to", to], env);
    expect(missingBucket.code).toBe(1);
    expect(missingBucket.stderr).toContain("the bucket does not exist");
    const refused = await recover(["--from", from, "--to", to], { ...env, AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9" });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("the connection was refused");
    expect(fs.existsSync(to)).toBe(false);

    fs.mkdirSync(to);
    fs.writeFileSync(path.join(to, "mine.txt"), "keep me");
    const notEmpty = await recover(["--from", from, "--to", to], env);
    expect(notEmpty.code).toBe(1);
    expect(notEmpty.stderr).toMatch(/Recovery refused: .*not empty/);
    expect(fs.readdirSync(to)).toEqual(["mine.txt"]);
    expect(fs.readdirSync(scratch).sort()).toEqual(["at-B", "latest", "refused"]);
  });
});
