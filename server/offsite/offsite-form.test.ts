// The Off-site tab's input as the server checks it, on a real console.sqlite: every wrong field named with its
// sentence (all at once, under `offsite.<field>`), nothing stored until all is right, the stored secret kept when
// the field is left empty, and the passphrase rules that need no network (typed twice, long enough, required to
// turn encryption on). Setting encryption up in a bucket is covered by the e2e spec against a real S3 server.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openConsoleDb, type ConsoleDb } from "../console/console-db";
import { checkOffsiteForm, viewOffsiteForm, type OffsiteFormInput } from "./offsite-form";
import { loadDestination } from "./offsite-settings";
import { SecretBox } from "./secret-box";

let dir: string;
let db: ConsoleDb;
let box: SecretBox;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-offsite-form-"));
  db = openConsoleDb(path.join(dir, "console.sqlite"));
  box = SecretBox.load(dir);
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const form: OffsiteFormInput = {
  endpoint: "http://127.0.0.1:7480", region: "us-east-1", bucket: "my-backups", prefix: "prod", forcePathStyle: true, accessKeyId: "AKIAEXAMPLE",
  secretAccessKey: "the-secret-access-key", keepLast: 5, lockDays: 0, lockMode: "COMPLIANCE", logIntervalSeconds: 60,
  encrypt: false, passphrase: null, passphraseAgain: null,
};

async function save(input: OffsiteFormInput) {
  const checked = checkOffsiteForm(db, box, input);
  expect(checked.problems).toEqual([]);
  const ready = await checked.prepare!();
  expect(ready.problems).toEqual([]);
  return ready.commit!("admin");
}

describe("checkOffsiteForm", () => {
  it("names every wrong field with its sentence, and stores nothing", () => {
    const r = checkOffsiteForm(db, box, { ...form, endpoint: "s3.example.org", bucket: "My_Bucket", keepLast: NaN, logIntervalSeconds: 2, secretAccessKey: null });
    expect(r.prepare).toBeNull();
    expect(r.problems).toEqual([
      { path: "offsite.endpoint", message: '"s3.example.org" is not a URL: write it as http://host:port or https://host.' },
      { path: "offsite.bucket", message: '"My_Bucket" is not a valid bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit.' },
      { path: "offsite.keepLast", message: "Enter the number of off-site archives to keep as a whole number." },
      { path: "offsite.logIntervalSeconds", message: "The log shipping interval is at least 5 seconds." },
    ]);
    expect(viewOffsiteForm(db).destination).toBeNull();
  });

  it("asks for the secret while none is stored; keeps the stored one when the field is left empty; never shows it", async () => {
    expect(checkOffsiteForm(db, box, { ...form, secretAccessKey: "" }).problems)
      .toEqual([{ path: "offsite.secretAccessKey", message: "Enter the secret access key: none is stored yet." }]);
    const view = await save(form);
    expect(view).toMatchObject({ destination: { bucket: "my-backups", secretSet: true }, settings: { keepLast: 5, logIntervalSeconds: 60 }, encryption: { enabled: false } });
    expect(JSON.stringify(view)).not.toContain(form.secretAccessKey);
    await save({ ...form, secretAccessKey: null, bucket: "other-bucket", keepLast: null, logIntervalSeconds: 30 });
    expect(loadDestination(db, box)).toMatchObject({ bucket: "other-bucket", secretAccessKey: form.secretAccessKey });
    expect(viewOffsiteForm(db).settings).toMatchObject({ keepLast: null, logIntervalSeconds: 30 });
  });

  it("encryption: a passphrase is needed to turn it on, must be long enough and typed twice the same", () => {
    expect(checkOffsiteForm(db, box, { ...form, encrypt: true }).problems)
      .toEqual([{ path: "offsite.passphrase", message: "Enter a passphrase to encrypt what goes to the bucket (or turn encryption off)." }]);
    expect(checkOffsiteForm(db, box, { ...form, encrypt: true, passphrase: "short", passphraseAgain: "short" }).problems)
      .toEqual([{ path: "offsite.passphrase", message: "The passphrase must have at least 8 characters." }]);
    expect(checkOffsiteForm(db, box, { ...form, encrypt: true, passphrase: "a long passphrase", passphraseAgain: "a long passphrase!" }).problems)
      .toEqual([{ path: "offsite.passphraseAgain", message: "The two passphrases differ: type the same passphrase in both fields." }]);
    // Not encrypting: whatever is typed in the passphrase fields is not used.
    expect(checkOffsiteForm(db, box, { ...form, encrypt: false, passphrase: "x", passphraseAgain: "y" }).problems).toEqual([]);
  });
});
