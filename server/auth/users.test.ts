// Users in a real console.sqlite: hashing, roles from the current record, the login throttle, the first admin.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import Database from "better-sqlite3";
import { FREE_FAILURES, GLOBAL_FREE_FAILURES } from "./login-throttle";
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

  it("never writes the first password through a link planted at its name, and creates no user then", async () => {
    const users = setup();
    const target = path.join(dir, "elsewhere");
    fs.writeFileSync(target, "untouched\n");
    const file = path.join(dir, "initial-admin-password");
    fs.symlinkSync(target, file);
    await expect(users.ensureInitialAdmin(file)).rejects.toThrow(/link/i);
    expect(fs.readFileSync(target, "utf8")).toBe("untouched\n");
    expect(users.count()).toBe(0);
  });

  it("says where the first password is while its file exists and that admin's password was never changed", async () => {
    const users = setup();
    const file = path.join(dir, "initial-admin-password");
    await users.ensureInitialAdmin(file);
    expect(await users.initialPasswordHint(file)).toBe(file);
    const admin = users.list()[0]!;
    await users.changeOwnPassword(admin.id, fs.readFileSync(file, "utf8").trim(), "a-password-of-my-own");
    expect(await users.initialPasswordHint(file)).toBeNull();
    // Another home where the file went away: no hint either; nor with the password from the environment.
    const other = setup();
    await other.ensureInitialAdmin(path.join(dir, "pw"));
    fs.rmSync(path.join(dir, "pw"));
    expect(await other.initialPasswordHint(path.join(dir, "pw"))).toBeNull();
    const env = setup();
    await env.ensureInitialAdmin(path.join(dir, "pw2"), "from-the-environment");
    expect(await env.initialPasswordHint(path.join(dir, "pw2"))).toBeNull();
  });

  it("lets a user change their own password with the current one; an admin's reset may require a change at next sign-in", async () => {
    const users = setup();
    const alice = await users.create("alice", "alice-password", "operator");
    await expect(users.changeOwnPassword(alice.id, "not-it-at-all", "new-alice-password")).rejects.toThrow("The current password is wrong");
    await expect(users.changeOwnPassword(alice.id, "alice-password", "alice-password")).rejects.toThrow("The new password is the current one");
    await expect(users.changeOwnPassword(alice.id, "alice-password", "short")).rejects.toThrow("at least 8 characters");
    const changed = await users.changeOwnPassword(alice.id, "alice-password", "new-alice-password");
    expect(changed.sessionVersion).toBe(alice.sessionVersion + 1); // every session of hers ends
    await expect(users.authenticate("alice", "new-alice-password")).resolves.toMatchObject({ username: "alice", mustChangePassword: false });

    const reset = await users.setPassword(alice.id, "temporary-password", { mustChange: true });
    expect(reset.mustChangePassword).toBe(true);
    await expect(users.authenticate("alice", "temporary-password")).resolves.toMatchObject({ mustChangePassword: true });
    expect((await users.changeOwnPassword(alice.id, "temporary-password", "alice-chose-this")).mustChangePassword).toBe(false);
    expect((await users.setPassword(alice.id, "set-by-an-admin")).mustChangePassword).toBe(false);
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

  it("counts an attempt before its hash: of 50 concurrent wrong guesses only the free ones are checked, and the right password after them is refused", async () => {
    const users = setup(() => 1_000_000);
    await users.create("admin", "admin-password", "admin");
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => users.authenticate("admin", `guess-${i}-wrong`, "10.0.0.66")));
    const messages = results.map((r) => (r.status === "rejected" ? (r.reason as Error).message : "signed in"));
    expect(messages.filter((m) => m === "Wrong user name or password.")).toHaveLength(FREE_FAILURES);
    expect(messages.filter((m) => /Too many failed sign-in attempts/.test(m))).toHaveLength(50 - FREE_FAILURES);
    await expect(users.authenticate("admin", "admin-password", "10.0.0.66")).rejects.toThrow(/Too many failed sign-in attempts/);
  });

  it("keys the throttle by name and address: a stranger's failures elsewhere don't lock the user out", async () => {
    const users = setup(() => 1_000_000);
    await users.create("admin", "admin-password", "admin");
    for (let i = 0; i < FREE_FAILURES + 2; i++) await expect(users.authenticate("admin", "wrong-one", "203.0.113.9")).rejects.toThrow();
    await expect(users.authenticate("admin", "admin-password", "203.0.113.9")).rejects.toThrow(/Too many/);
    await expect(users.authenticate("admin", "admin-password", "192.168.1.20")).resolves.toMatchObject({ username: "admin" });
  });

  it("caps guesses per name over all addresses, but not from an address the user signed in from", async () => {
    let now = 1_000_000;
    const users = setup(() => now);
    await users.create("admin", "admin-password", "admin");
    await users.authenticate("admin", "admin-password", "192.168.1.20");
    // Guesses spread over many addresses, each below its own limit.
    for (let i = 0; i < GLOBAL_FREE_FAILURES; i++) {
      await expect(users.authenticate("admin", "wrong-one", `198.51.100.${i}`)).rejects.toThrow("Wrong user name or password.");
      now += 10;
    }
    await expect(users.authenticate("admin", "admin-password", "198.51.100.250")).rejects.toThrow(/Too many/);
    await expect(users.authenticate("admin", "admin-password", "192.168.1.20")).resolves.toMatchObject({ username: "admin" });
    now += 60 * 60_000;
    await expect(users.authenticate("admin", "admin-password", "198.51.100.250")).resolves.toMatchObject({ username: "admin" });
  });

  it("bumps the session version on sign-out, password change and a lower role, not on a higher one", async () => {
    const users = setup();
    await users.create("admin", "admin-password", "admin");
    const bob = await users.create("bob", "bob-password", "operator");
    const version = () => users.get(bob.id)!.sessionVersion;
    expect(version()).toBe(0);
    users.endSessions(bob.id);
    expect(version()).toBe(1);
    await users.setPassword(bob.id, "bob-new-password");
    expect(version()).toBe(2);
    await expect(users.authenticate("bob", "bob-password")).rejects.toThrow("Wrong");
    expect((await users.authenticate("bob", "bob-new-password")).sessionVersion).toBe(2);
    users.setRole(bob.id, "admin");
    expect(version()).toBe(2);
    users.setRole(bob.id, "viewer");
    expect(version()).toBe(3);
  });

  it("adds the session version to a console.sqlite made before it existed", () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-users-"));
    const file = path.join(dir, "console.sqlite");
    const old = new Database(file);
    old.exec(`CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL UNIQUE COLLATE NOCASE,
      password_hash TEXT NOT NULL, role TEXT NOT NULL, created_at TEXT NOT NULL);
      INSERT INTO users (username, password_hash, role, created_at) VALUES ('admin', 'x', 'admin', '2026-01-01')`);
    old.close();
    const users = new Users(openConsoleDb(file));
    expect(users.list()).toMatchObject([{ username: "admin", sessionVersion: 0 }]);
    users.endSessions(users.list()[0]!.id);
    expect(users.list()[0]!.sessionVersion).toBe(1);
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
