// The off-site destination and settings in a real console.sqlite: inputs checked field by field with a sentence,
// the secret stored sealed and never shown, kept when the form leaves it empty, and the settings' defaults.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openConsoleDb, type ConsoleDb } from "../console/console-db";
import {
  DEFAULT_OFFSITE_SETTINGS, loadDestination, loadEncryptionKey, loadOffsiteSettings, OffsiteSettingsError, saveDestination, saveOffsiteSettings,
  storeEncryptionKey, viewDestination, clearEncryptionKey,
} from "./offsite-settings";
import { SecretBox } from "./secret-box";

let dir: string;
let db: ConsoleDb;
let box: SecretBox;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-offsite-settings-"));
  db = openConsoleDb(path.join(dir, "console.sqlite"));
  box = SecretBox.load(dir);
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const input = {
  endpoint: "http://127.0.0.1:7480/", region: "us-east-1", bucket: "my-backups", prefix: "/strongbox/prod/", forcePathStyle: true,
  accessKeyId: "AKIAEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

describe("off-site destination", () => {
  it("stores the secret sealed, shows only that one is set, and keeps it when the form leaves it empty", () => {
    const view = saveDestination(db, box, input, "admin");
    expect(view).toEqual({ endpoint: "http://127.0.0.1:7480", region: "us-east-1", bucket: "my-backups", prefix: "strongbox/prod", forcePathStyle: true,
      accessKeyId: "AKIAEXAMPLE", secretSet: true, updatedAt: expect.any(String), updatedBy: "admin" });
    expect(JSON.stringify(view)).not.toContain(input.secretAccessKey);
    const raw = JSON.stringify(db.prepare("SELECT * FROM offsite_destinations").all());
    expect(raw).not.toContain(input.secretAccessKey);
    expect(fs.readFileSync(path.join(dir, "console.sqlite")).includes(Buffer.from(input.secretAccessKey))).toBe(false);
    expect(loadDestination(db, box)?.secretAccessKey).toBe(input.secretAccessKey);
    saveDestination(db, box, { ...input, bucket: "other-bucket", secretAccessKey: null }, "admin");
    expect(loadDestination(db, box)).toMatchObject({ bucket: "other-bucket", secretAccessKey: input.secretAccessKey });
  });

  const refused: Array<[string, Record<string, unknown>, RegExp]> = [
    ["endpoint", { endpoint: "ftp://host" }, /must start with http:\/\/ or https:\/\//],
    ["endpoint", { endpoint: "not a url" }, /is not a URL/],
    ["endpoint", { endpoint: "http://key:secret@host" }, /credentials in the access key fields/],
    ["endpoint", { endpoint: "http://host/bucket" }, /the bucket and the prefix have their own fields/],
    ["bucket", { bucket: "My_Bucket" }, /not a valid bucket name/],
    ["bucket", { bucket: "ab" }, /not a valid bucket name/],
    ["prefix", { prefix: "a/../b" }, /is not usable/],
    ["prefix", { prefix: "a//b" }, /is not usable/],
    ["region", { region: "US East" }, /short name such as us-east-1/],
    ["accessKeyId", { accessKeyId: "" }, /access key id is empty/],
    ["secretAccessKey", { secretAccessKey: "has space" }, /printable ASCII characters without spaces/],
  ];
  for (const [field, change, message] of refused) {
    it(`refuses ${field} ${JSON.stringify(Object.values(change)[0])}, naming the field, and changes nothing`, () => {
      saveDestination(db, box, input, "admin");
      const before = viewDestination(db);
      let err: unknown;
      try {
        saveDestination(db, box, { ...input, ...change }, "admin");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OffsiteSettingsError);
      expect(err).toMatchObject({ field, message: expect.stringMatching(message) });
      expect(viewDestination(db)).toEqual(before);
    });
  }

  it("a first save needs the secret", () => {
    expect(() => saveDestination(db, box, { ...input, secretAccessKey: undefined }, "admin")).toThrow(/Enter the secret access key: none is stored yet/);
    expect(viewDestination(db)).toBeNull();
  });
});

describe("off-site settings", () => {
  it("defaults, saves, and keeps the encryption key sealed", () => {
    expect(loadOffsiteSettings(db)).toEqual(DEFAULT_OFFSITE_SETTINGS);
    expect(loadOffsiteSettings(db).logIntervalSeconds).toBe(60);
    saveOffsiteSettings(db, { keepLast: 5, lockDays: 30, lockMode: "GOVERNANCE", logIntervalSeconds: 30 });
    expect(loadOffsiteSettings(db)).toEqual({ keepLast: 5, lockDays: 30, lockMode: "GOVERNANCE", logIntervalSeconds: 30, encryption: { enabled: false, keyCheck: null } });
    expect(() => saveOffsiteSettings(db, { keepLast: 0, lockDays: 0, lockMode: "COMPLIANCE", logIntervalSeconds: 60 })).toThrow(/Keep at least 1/);
    expect(() => saveOffsiteSettings(db, { keepLast: null, lockDays: 0, lockMode: "COMPLIANCE", logIntervalSeconds: 1 })).toThrow(/at least 5 seconds/);
    const key = Buffer.alloc(32, 7);
    storeEncryptionKey(db, box, key, "ab".repeat(32));
    expect(loadOffsiteSettings(db)).toMatchObject({ keepLast: 5, encryption: { enabled: true, keyCheck: "ab".repeat(32) } });
    expect(loadEncryptionKey(db, box)).toEqual(key);
    clearEncryptionKey(db);
    expect(loadOffsiteSettings(db).encryption).toEqual({ enabled: false, keyCheck: null });
    expect(loadEncryptionKey(db, box)).toBeNull();
  });
});
