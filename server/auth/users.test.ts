// Users in a real console.sqlite: hashing, roles from the current record, the login throttle, the first admin.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import { FREE_FAILURES } from "./login-throttle";
import { Users } from "./users";

let dir: string;
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function setup(now?: () => number) {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-users-"));
  return new Users(openConsoleDb(path.join(dir, "console.sqlite")), { now });
}

describe("users", () => {
  it("creates the first admin once, with its password in a 0600 file", async () => {
    const users = setup();
    const file = path.join(dir, "initial-admin-password");
    expect(await users.ensureInitialAdmin(file)).toEqual({ passwordFrom: "file" });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const password = fs.readFileSync(file, "utf8").trim();
    expect((await users.authenticate("admin", password)).role).toBe("admin");
    expect(await users.ensureInitialAdmin(file)).toBeNull();
    expect(users.count()).toBe(1);
  });

  it("uses STRONGBOX_ADMIN_PASSWORD when given, and stores only a hash", async () => {
    const users = setup();
    await users.ensureInitialAdmin(path.join(dir, "pw"), "correct horse");
    expect(fs.existsSync(path.join(dir, "pw"))).toBe(false);
    const raw = fs.readFileSync(path.join(dir, "console.sqlite"));
    expect(raw.includes("correct horse")).toBe(false);
    await expect(users.authenticate("admin", "correct horse")).resolves.toMatchObject({ username: "admin" });
  });

  it("refuses a wrong password or an unknown name with the same message", async () => {
    const users = setup();
    await users.create("alice", "alice-password", "operator");
    await expect(users.authenticate("alice", "nope-nope")).rejects.toThrow("Wrong user name or password.");
    await expect(users.authenticate("bob", "nope-nope")).rejects.toThrow("Wrong user name or password.");
  });

  it("slows down repeated failures, and lets the right password through once the wait is over", async () => {
    let now = 1_000_000;
    const users = setup(() => now);
    await users.create("alice", "alice-password", "viewer");
    for (let i = 0; i < FREE_FAILURES; i++) await expect(users.authenticate("alice", "wrong-one")).rejects.toThrow("Wrong");
    // Inside the wait even the right password is refused, unchecked.
    await expect(users.authenticate("alice", "alice-password")).rejects.toThrow(/Too many failed sign-in attempts/);
    now += 60_000;
    await expect(users.authenticate("alice", "alice-password")).resolves.toMatchObject({ username: "alice" });
  });

  it("never gives a removed user's id to a new user (a session names its user by id)", async () => {
    const users = setup();
    await users.create("admin", "admin-password", "admin");
    const bob = await users.create("bob", "bob-password", "viewer");
    users.remove(bob.id);
    const carol = await users.create("carol", "carol-password", "admin");
    expect(carol.id).not.toBe(bob.id);
  });

  it("refuses duplicates and bad input, and keeps at least one admin", async () => {
    const users = setup();
    const admin = await users.create("admin", "admin-password", "admin");
    await expect(users.create("ADMIN", "another-password", "viewer")).rejects.toThrow(/already exists/);
    await expect(users.create("bad name", "another-password", "viewer")).rejects.toThrow();
    await expect(users.create("carol", "short", "viewer")).rejects.toThrow();
    expect(() => users.setRole(admin.id, "viewer")).toThrow(/at least one admin/);
    expect(() => users.remove(admin.id)).toThrow(/at least one admin/);
    const bob = await users.create("bob", "bob-password", "viewer");
    expect(users.setRole(bob.id, "operator").role).toBe("operator");
    users.remove(bob.id);
    expect(users.get(bob.id)).toBeNull();
  });
});
