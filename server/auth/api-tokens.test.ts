// API tokens in a real console.sqlite: only a hash is stored, revoking refuses at once, last use is recorded.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openConsoleDb, type ConsoleDb } from "../console/console-db";
import { ApiTokens } from "./api-tokens";
import { isDomainError } from "../errors";

let dir: string;
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function setup(): { tokens: ApiTokens; db: ConsoleDb; clock: { t: number } } {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-tokens-"));
  const db = openConsoleDb(path.join(dir, "console.sqlite"));
  const clock = { t: Date.parse("2025-03-01T10:00:00Z") };
  return { tokens: new ApiTokens(db, () => new Date(clock.t)), db, clock };
}

describe("api tokens", () => {
  it("returns the secret once and stores only its hash", () => {
    const { tokens, db } = setup();
    const { token, secret } = tokens.create("ci", "operator", "admin");
    expect(secret).toMatch(/^sbx_[A-Za-z0-9_-]{43}$/);
    expect(token).toMatchObject({ name: "ci", role: "operator", createdBy: "admin", lastUsedAt: null });
    expect(JSON.stringify(tokens.list())).not.toContain(secret.slice(4));
    const rows = db.prepare("SELECT * FROM api_tokens").all();
    expect(JSON.stringify(rows)).not.toContain(secret.slice(4));
    expect(fs.readFileSync(path.join(dir, "console.sqlite")).includes(secret.slice(4))).toBe(false);
    // Two tokens never share a secret.
    expect(tokens.create("ci2", "viewer").secret).not.toBe(secret);
  });

  it("authenticates the secret, and only it, and records the last use", () => {
    const { tokens, clock } = setup();
    const { token, secret } = tokens.create("nightly", "viewer");
    clock.t += 60_000;
    expect(tokens.authenticate(secret)).toMatchObject({ id: token.id, name: "nightly", role: "viewer", lastUsedAt: "2025-03-01T10:01:00.000Z" });
    expect(tokens.get(token.id)?.lastUsedAt).toBe("2025-03-01T10:01:00.000Z");
    expect(tokens.authenticate(secret.slice(0, -1) + (secret.endsWith("A") ? "B" : "A"))).toBeNull();
    expect(tokens.authenticate(secret.slice(4))).toBeNull();
    expect(tokens.authenticate("")).toBeNull();
  });

  it("refuses a revoked token at once", () => {
    const { tokens } = setup();
    const { token, secret } = tokens.create("old", "admin");
    expect(tokens.authenticate(secret)).not.toBeNull();
    tokens.revoke(token.id);
    expect(tokens.authenticate(secret)).toBeNull();
    expect(tokens.get(token.id)).toBeNull();
    expect(tokens.list()).toEqual([]);
    expect(() => tokens.revoke(token.id)).toThrow(/no longer exists/);
  });

  it("refuses duplicate and malformed names with clear messages", () => {
    const { tokens } = setup();
    tokens.create("ci", "viewer");
    let err: unknown;
    try { tokens.create("CI", "viewer"); } catch (e) { err = e; }
    expect(isDomainError(err) && err.message).toBe('A token named "CI" already exists.');
    expect(() => tokens.create("has space", "viewer")).toThrow(/letters, digits/);
  });
});
