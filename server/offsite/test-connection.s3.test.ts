// Test connection against a real S3 server (Ceph's RADOS Gateway): it passes on a good destination, and names the
// step and the cause when the secret is wrong, the key unknown, the bucket missing, the port closed, the host
// unknown, or the server never answers.
import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { destinationFor, freshBucket } from "../../test/s3/s3-server";
import { testConnection } from "./test-connection";

const servers: net.Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

/** A port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe("testConnection", () => {
  it("writes, reads back and deletes a probe on a good destination, leaving nothing behind", async () => {
    const b = await freshBucket();
    const r = await testConnection(b.dest);
    expect(r.failure).toBeNull();
    expect(r).toMatchObject({ ok: true, passed: ["list", "write", "read", "delete"], objectLock: { enabled: false } });
    const { ListObjectsV2Command } = await import("@aws-sdk/client-s3");
    const left = await b.client.send(new ListObjectsV2Command({ Bucket: b.dest.bucket }));
    expect(left.Contents ?? []).toEqual([]);
  });

  it("reports Object Lock on a lock-enabled bucket, and still removes the probe's version", async () => {
    const b = await freshBucket({ objectLock: true });
    const r = await testConnection(b.dest);
    expect(r).toMatchObject({ ok: true, objectLock: { enabled: true } });
    const { ListObjectVersionsCommand } = await import("@aws-sdk/client-s3");
    const v = await b.client.send(new ListObjectVersionsCommand({ Bucket: b.dest.bucket }));
    expect([...(v.Versions ?? []), ...(v.DeleteMarkers ?? [])]).toEqual([]);
  });

  it("a wrong secret: the credentials, at the first step", async () => {
    const b = await freshBucket();
    const r = await testConnection({ ...b.dest, secretAccessKey: "not-the-secret" });
    expect(r.ok).toBe(false);
    expect(r.failure).toMatchObject({ step: "list", kind: "credentials" });
    expect(r.failure!.message).toContain("the secret access key is wrong");
    expect(r.failure!.message).not.toContain("not-the-secret");
  });

  it("an unknown access key id", async () => {
    const b = await freshBucket();
    const r = await testConnection({ ...b.dest, accessKeyId: "NOSUCHKEY0000000000" });
    expect(r.failure).toMatchObject({ step: "list", kind: "credentials" });
    expect(r.failure!.message).toContain("the access key id is unknown");
  });

  it("a bucket that does not exist", async () => {
    const r = await testConnection(destinationFor("sbx-no-such-bucket-here"));
    expect(r.failure).toMatchObject({ step: "list", kind: "bucket-missing" });
    expect(r.failure!.message).toMatch(/bucket does not exist.*Create the bucket sbx-no-such-bucket-here/);
  });

  it("a closed port: connection refused", async () => {
    const port = await closedPort();
    const r = await testConnection({ ...destinationFor("any-bucket"), endpoint: `http://127.0.0.1:${port}` });
    expect(r.failure).toMatchObject({ step: "list", kind: "connection" });
    expect(r.failure!.message).toContain("connection was refused");
    expect(r.failure!.message).toContain(`http://127.0.0.1:${port}`);
  });

  it("an unknown host name", async () => {
    const r = await testConnection({ ...destinationFor("any-bucket"), endpoint: "http://strongbox-test.invalid:7480" });
    expect(r.failure).toMatchObject({ step: "list", kind: "connection" });
    expect(r.failure!.message).toMatch(/host name (is unknown|could not be resolved)/);
  });

  it("a server that accepts the connection but never answers: a timeout, not a hang", async () => {
    const silent = net.createServer(() => undefined);
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const { port } = silent.address() as net.AddressInfo;
    const r = await testConnection({ ...destinationFor("any-bucket"), endpoint: `http://127.0.0.1:${port}` }, { timeouts: { idleMs: 1500, requestMs: 2000 } });
    expect(r.failure).toMatchObject({ step: "list", kind: "timeout" });
    expect(r.failure!.message).toContain("did not answer in time");
  });
});
