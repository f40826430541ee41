// The key that seals stored secrets: created once (0600, never through a link), refused when it could have been
// read by others or is damaged, and a value sealed under another key or for another place does not open.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KEY_FILE_NAME, SecretBox, SecretBoxError } from "./secret-box";

let home: string;
beforeEach(() => { home = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-secret-")); });
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

describe("SecretBox", () => {
  it("creates its key file once, 0600, and seals values that only it opens, for the place they were sealed for", () => {
    const box = SecretBox.load(home);
    const keyFile = path.join(home, KEY_FILE_NAME);
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(keyFile).size).toBe(32);
    expect(fs.readdirSync(home)).toEqual([KEY_FILE_NAME]);
    const sealed = box.seal("s3cr3t/with+chars", "dest.secret");
    expect(sealed).not.toContain("s3cr3t");
    expect(box.seal("s3cr3t/with+chars", "dest.secret")).not.toBe(sealed); // a fresh nonce each time
    expect(SecretBox.load(home).openString(sealed, "dest.secret")).toBe("s3cr3t/with+chars");
    expect(() => box.open(sealed, "other.place")).toThrow(SecretBoxError);
  });

  it("a value sealed under a lost key is refused with what to do", () => {
    const sealed = SecretBox.load(home).seal("secret", "dest.secret");
    fs.rmSync(path.join(home, KEY_FILE_NAME));
    expect(() => SecretBox.load(home).open(sealed, "dest.secret")).toThrow(/replaced or lost.*Enter the secret again/);
  });

  it("refuses a key file others can read, a damaged one, and a symbolic link", () => {
    SecretBox.load(home);
    const keyFile = path.join(home, KEY_FILE_NAME);
    fs.chmodSync(keyFile, 0o644);
    expect(() => SecretBox.load(home)).toThrow(/can be read by other users \(mode 644\).*chmod 600/);
    fs.chmodSync(keyFile, 0o600);
    fs.appendFileSync(keyFile, "x");
    expect(() => SecretBox.load(home)).toThrow(/holds 33 bytes instead of 32: it is damaged/);
    fs.rmSync(keyFile);
    const elsewhere = path.join(home, "elsewhere.key");
    fs.writeFileSync(elsewhere, Buffer.alloc(32), { mode: 0o600 });
    fs.symlinkSync(elsewhere, keyFile);
    expect(() => SecretBox.load(home)).toThrow(/is a symbolic link/);
  });
});
