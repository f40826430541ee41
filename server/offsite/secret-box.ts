// Secrets at rest in console.sqlite (the off-site secret access key, the encryption key): sealed with AES-256-GCM
// under a key kept in its own file, STRONGBOX_HOME/offsite.key (32 random bytes, mode 0600). A copy of
// console.sqlite alone (a backup of the home folder, a support bundle) then reveals no secret.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export const KEY_FILE_NAME = "offsite.key";
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Format marker of a sealed value: a later format can be told apart. */
const PREFIX = "sbx1.";

export class SecretBoxError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SecretBoxError";
  }
}

export class SecretBox {
  private constructor(private readonly key: Buffer, readonly keyFile: string) {}

  /**
   * Loads the key from `<home>/offsite.key`, creating it on first use. The file is opened without following a
   * symbolic link and must be a regular file of exactly 32 bytes that only its owner can read; anything else is
   * refused with what to do (a key others could read would no longer protect anything).
   */
  static load(home: string): SecretBox {
    const keyFile = path.join(home, KEY_FILE_NAME);
    let key = readKeyFile(keyFile);
    if (!key) key = createKeyFile(keyFile);
    return new SecretBox(key, keyFile);
  }

  /**
   * Seals `value` for the place named `label` (e.g. "offsite_destinations.1.secret"): the label is authenticated,
   * so a sealed value copied into another column does not open there.
   */
  seal(value: string | Buffer, label: string): string {
    const nonce = crypto.randomBytes(NONCE_BYTES);
    const cipher = crypto.createCipheriv("aes-256-gcm", this.key, nonce);
    cipher.setAAD(Buffer.from(label, "utf8"));
    const body = Buffer.concat([cipher.update(typeof value === "string" ? Buffer.from(value, "utf8") : value), cipher.final()]);
    return PREFIX + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64url");
  }

  /** Opens a value sealed for `label`; refuses (SecretBoxError) a damaged value or one sealed under another key. */
  open(sealed: string, label: string): Buffer {
    const raw = sealed.startsWith(PREFIX) ? Buffer.from(sealed.slice(PREFIX.length), "base64url") : null;
    if (!raw || raw.length < NONCE_BYTES + TAG_BYTES) throw new SecretBoxError(`The stored secret (${label}) is not a sealed value; enter it again.`);
    try {
      const decipher = crypto.createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(label, "utf8"));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
    } catch (err) {
      throw new SecretBoxError(`The stored secret (${label}) can't be decrypted with ${this.keyFile}: the key file was replaced or lost since ` +
        "the secret was saved, or console.sqlite comes from another installation. Enter the secret again on the Settings page.", { cause: err });
    }
  }

  openString(sealed: string, label: string): string {
    return this.open(sealed, label).toString("utf8");
  }
}

function readKeyFile(keyFile: string): Buffer | null {
  let fd: number;
  try {
    fd = fs.openSync(keyFile, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    if (code === "ELOOP") throw new SecretBoxError(`${keyFile} is a symbolic link; Strongbox only uses its own key file there. Remove the link.`);
    throw new SecretBoxError(`The key file ${keyFile} can't be opened (${code}).`, { cause: err });
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new SecretBoxError(`${keyFile} is not a regular file; remove it (a new key is then made, and stored secrets must be entered again).`);
    if (typeof process.getuid === "function" && st.uid !== process.getuid()) {
      throw new SecretBoxError(`The key file ${keyFile} belongs to another user (uid ${st.uid}); it must belong to the user the server runs as.`);
    }
    if (st.mode & 0o077) {
      throw new SecretBoxError(`The key file ${keyFile} can be read by other users (mode ${(st.mode & 0o777).toString(8)}): the secrets it protects ` +
        "may be known. Run `chmod 600` on it, and change the off-site credentials if others may have read it.");
    }
    const key = Buffer.alloc(KEY_BYTES + 1);
    const n = fs.readSync(fd, key, 0, key.length, 0);
    if (n !== KEY_BYTES) {
      throw new SecretBoxError(`The key file ${keyFile} holds ${n} bytes instead of ${KEY_BYTES}: it is damaged. Remove it (a new key is then made, ` +
        "and stored secrets must be entered again).");
    }
    return key.subarray(0, KEY_BYTES);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A new key appears whole or not at all: written to a temporary file (created exclusively, 0600, no link
 * followed), flushed, then linked to its name — link() never replaces, so two processes starting together end up
 * with the same key (the loser reads the winner's).
 */
function createKeyFile(keyFile: string): Buffer {
  const dir = path.dirname(keyFile);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${KEY_FILE_NAME}.${process.pid}.${crypto.randomBytes(6).toString("hex")}.tmp`);
  const key = crypto.randomBytes(KEY_BYTES);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    try {
      fs.writeSync(fd, key, 0, key.length, 0);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.linkSync(tmp, keyFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const theirs = readKeyFile(keyFile);
      if (!theirs) throw err;
      return theirs;
    }
    syncDir(dir);
    return key;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function syncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // a platform that can't fsync a folder: the link is as durable as it makes it
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
