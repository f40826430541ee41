// The Off-site tab end to end, on a real server and a real S3 server (Ceph's RADOS Gateway, started once for the
// run by global-setup.ts): an admin fills in the destination and Test connection says OK — or exactly what is
// wrong (the secret, a missing bucket, an unreachable endpoint); a wrong field is refused under it and nothing is
// saved; once saved, the secret (and the encryption passphrase) never comes back — not in the page, not in an API
// answer, not in the server's output; the stored secret is used when the field is left empty; a viewer neither
// sees nor changes any of it.
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { expect, test, type Page } from "@playwright/test";
import { makeS3Client, type S3Destination } from "../../server/offsite/s3-client";
import { login, startServer, type TestServer } from "./server";
import { e2eBucket } from "./s3";

let server: TestServer;
let dest: S3Destination;
const PASSPHRASE = "a long passphrase for the e2e bucket";

test.describe.configure({ mode: "serial" });
test.beforeAll(async () => {
  [server, dest] = await Promise.all([startServer(), e2eBucket("prod/strongbox")]);
});
test.afterAll(async () => { await server?.stop(); });

async function openOffsiteTab(page: Page) {
  await page.getByRole("link", { name: "Settings", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Settings", level: 1 })).toBeVisible();
  await page.getByRole("tab", { name: "Off-site" }).click();
}

const field = (page: Page, label: string) => page.getByLabel(label, { exact: true });
const testResult = (page: Page) => page.getByRole("status", { name: "Connection test" });

async function testConnection(page: Page) {
  await page.getByRole("button", { name: "Test connection" }).click();
  await expect(page.getByRole("button", { name: "Test connection" })).toBeEnabled();
  return testResult(page);
}

/** What an API answer or the page must never hold: the secret, or the passphrase. */
function expectNoSecrets(text: string) {
  expect(text).not.toContain(dest.secretAccessKey);
  expect(text).not.toContain(PASSPHRASE);
}

test("an admin fills the Off-site tab: Test connection says OK, or which step failed and why, on the values in the form", async ({ page }) => {
  await login(page, server);
  await openOffsiteTab(page);
  await field(page, "Endpoint URL").fill(dest.endpoint);
  await field(page, "Region").fill(dest.region);
  await field(page, "Bucket").fill(dest.bucket);
  await field(page, "Prefix").fill(dest.prefix);
  await expect(page.getByLabel(/Path-style addressing/)).toBeChecked();
  await field(page, "Access key id").fill(dest.accessKeyId);
  // Nothing stored yet: the test needs the secret.
  await expect(await testConnection(page)).toContainText("Not tested: Enter the secret access key: none is stored yet.");

  await field(page, "Secret access key").fill("not-the-secret");
  const wrongSecret = await testConnection(page);
  await expect(wrongSecret).toContainText("Wrong credentials — the test failed while listing the bucket");
  await expect(wrongSecret).toContainText("the secret access key is wrong");

  await field(page, "Secret access key").fill(dest.secretAccessKey);
  await field(page, "Bucket").fill("no-such-bucket-e2e");
  const missing = await testConnection(page);
  await expect(missing).toContainText("Bucket missing — the test failed while listing the bucket");
  await expect(missing).toContainText("the bucket does not exist");

  await field(page, "Bucket").fill(dest.bucket);
  await field(page, "Endpoint URL").fill("http://127.0.0.1:9");
  await expect(await testConnection(page)).toContainText("Can't connect — the test failed while listing the bucket");
  await expect(testResult(page)).toContainText("the connection was refused");

  await field(page, "Endpoint URL").fill(dest.endpoint);
  const ok = await testConnection(page);
  await expect(ok).toContainText("Connection OK");
  await expect(ok).toContainText("Listed the bucket, wrote a probe object, read it back and deleted it.");
  // Nothing was saved by testing.
  const view = await page.request.get(`${server.url}/api/trpc/offsite.get`);
  expect((await view.json()).result.data.destination).toBeNull();
});

test("a wrong value is refused under its field and nothing is saved; saved, the secret is never shown again and is used when the field is left empty", async ({ page }) => {
  await login(page, server);
  await openOffsiteTab(page);
  await field(page, "Endpoint URL").fill("s3.example.org");
  await field(page, "Region").fill(dest.region);
  await field(page, "Bucket").fill(dest.bucket);
  await field(page, "Prefix").fill(dest.prefix);
  await field(page, "Access key id").fill(dest.accessKeyId);
  await field(page, "Secret access key").fill(dest.secretAccessKey);
  await page.getByLabel("OffsiteLogInterval").fill("2");
  // The page's one Save. The problems show under their fields, on the Off-site tab, opened.
  await page.getByRole("tab", { name: "Scheduler" }).click();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("alert").filter({ hasText: "The settings were not saved" })).toBeVisible();
  await expect(page.getByRole("tab", { name: "Off-site" })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByRole("tab", { name: "Off-site" })).toContainText("has problems");
  await expect(field(page, "Endpoint URL")).toHaveAccessibleDescription(/Not saved: "s3.example.org" is not a URL: write it as http:\/\/host:port or https:\/\/host\./);
  await expect(page.getByLabel("OffsiteLogInterval")).toHaveAccessibleDescription(/Not saved: The log shipping interval is at least 5 seconds\./);
  expect((await (await page.request.get(`${server.url}/api/trpc/offsite.get`)).json()).result.data.destination).toBeNull();

  // What the admin typed stays; corrected, it is saved.
  await expect(field(page, "Bucket")).toHaveValue(dest.bucket);
  await field(page, "Endpoint URL").fill(dest.endpoint);
  await page.getByLabel("OffsiteLogInterval").fill("30");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Settings saved." })).toContainText(`Off-site destination: s3://${dest.bucket}/${dest.prefix}.`);
  await expect(field(page, "Secret access key")).toHaveValue("");
  await expect(field(page, "Secret access key")).toHaveAttribute("placeholder", "stored — type a new one to replace it");
  expectNoSecrets(await page.content());

  await page.reload();
  await openOffsiteTab(page);
  await expect(field(page, "Bucket")).toHaveValue(dest.bucket);
  await expect(page.getByLabel("OffsiteLogInterval")).toHaveValue("30");
  await expect(field(page, "Secret access key")).toHaveValue("");
  await expect(page.getByText("A secret is stored (encrypted, never shown again). Leave the field empty to keep it.")).toBeVisible();
  // The stored secret is what Test connection uses when the field is left empty.
  await expect(await testConnection(page)).toContainText("Connection OK");
  expectNoSecrets(await page.content());
  for (const proc of ["offsite.get", "settings.get"]) {
    const res = await page.request.get(`${server.url}/api/trpc/${proc}`);
    expect(res.ok()).toBe(true);
    expectNoSecrets(await res.text());
  }
  expect((await (await page.request.get(`${server.url}/api/trpc/offsite.get`)).json()).result.data.destination).toMatchObject({
    endpoint: dest.endpoint, bucket: dest.bucket, prefix: dest.prefix, forcePathStyle: true, accessKeyId: dest.accessKeyId, secretSet: true, updatedBy: "admin",
  });
});

test("client-side encryption: the passphrase is typed twice, set up in the bucket with its key check, and never shown again", async ({ page }) => {
  await login(page, server);
  await openOffsiteTab(page);
  await page.getByLabel(/Encrypt what goes to the bucket/).check();
  await expect(page.getByRole("note")).toContainText("A lost passphrase means lost off-site backups");
  await field(page, "Encryption passphrase").fill(PASSPHRASE);
  await field(page, "Passphrase again").fill(`${PASSPHRASE}!`);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(field(page, "Passphrase again")).toHaveAccessibleDescription(/Not saved: The two passphrases differ/);
  await field(page, "Passphrase again").fill(PASSPHRASE);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Settings saved." })).toBeVisible();
  await expect(field(page, "Encryption passphrase")).toHaveValue("");
  await expect(page.getByText(/Encryption is on; the passphrase is not kept/)).toBeVisible();
  expectNoSecrets(await page.content());
  expectNoSecrets(await (await page.request.get(`${server.url}/api/trpc/offsite.get`)).text());

  // The bucket holds the salt and the key check (never the key), so recovery can refuse a wrong passphrase.
  const client = makeS3Client(dest);
  try {
    const r = await client.send(new GetObjectCommand({ Bucket: dest.bucket, Key: `${dest.prefix}/strongbox.json` }));
    const manifest = JSON.parse(await r.Body!.transformToString());
    expect(manifest.encryption).toMatchObject({ algorithm: "AES-256-GCM-chunked", keyCheck: expect.stringMatching(/^[0-9a-f]{64}$/) });
  } finally {
    client.destroy();
  }
  expectNoSecrets(server.output());
});

test("a viewer neither sees nor changes the off-site destination", async ({ page, browser }) => {
  await login(page, server);
  const created = await page.request.post(`${server.url}/api/trpc/users.create`, { data: { username: "vic", password: "vic-password", role: "viewer" } });
  expect(created.ok()).toBe(true);
  const context = await browser.newContext();
  const viewer = await context.newPage();
  await login(viewer, server, "vic", "vic-password");
  await viewer.getByRole("link", { name: "Settings", exact: true }).click();
  await expect(viewer.getByRole("tab", { name: "Scheduler" })).toBeVisible();
  await expect(viewer.getByRole("tab", { name: "Off-site" })).toHaveCount(0);
  expect(await viewer.content()).not.toContain(dest.bucket);
  const read = await viewer.request.get(`${server.url}/api/trpc/offsite.get`);
  expect(read.status()).toBe(403);
  expect(await read.text()).not.toContain(dest.bucket);
  const probe = await viewer.request.post(`${server.url}/api/trpc/offsite.testConnection`, { data: { destination: { ...dest, secretAccessKey: null } } });
  expect(probe.status()).toBe(403);
  const change = await viewer.request.post(`${server.url}/api/trpc/settings.update`, { data: { settings: {}, offsite: { ...dest, bucket: "another-bucket" } } });
  expect(change.status()).toBe(403);
  await context.close();
  const after = await page.request.get(`${server.url}/api/trpc/offsite.get`);
  expect((await after.json()).result.data.destination.bucket).toBe(dest.bucket);
});
