// Console users in console.sqlite. Roles are read from the current record on every request (docs/console.md), so a
// role change or a removed user takes effect at once. Each user has a session version: a session carries the
// version it was signed in with and is valid only while it is still the user's current one, so bumping it (sign
// out, password change, a lower role) ends every session of that user at once.
import { lstat } from "node:fs/promises";
import { z } from "zod";
import { DomainError } from "../errors";
import type { ConsoleDb } from "../console/console-db";
import { openNoFollow } from "../fs/safe-open";
import { hashPassword, randomPassword, verifyPassword } from "./passwords";
import { LoginThrottle } from "./login-throttle";
import { nameSchema, ROLES, type Role } from "./roles";
import { plural } from "../isomorphic/plural";

export interface User {
  id: number;
  username: string;
  role: Role;
  createdAt: string;
  /** Sessions signed in with another version are no longer valid. */
  sessionVersion: number;
  /** An admin set this password: until the user chooses their own, the console offers nothing else. */
  mustChangePassword: boolean;
}

export const usernameSchema = nameSchema("user");
export const passwordSchema = z.string().min(8, "A password has at least 8 characters.").max(200);
export const roleSchema = z.enum(ROLES);

/** A user or token that can't be created or changed as asked (a taken name, the last admin…): a bad request. */
export class UserError extends DomainError {
  constructor(message: string) {
    super(null, message, { code: "BAD_REQUEST" });
    this.name = "UserError";
  }
}

interface Row {
  id: number; username: string; role: Role; created_at: string; password_hash: string; session_version: number;
  must_change_password: number; password_changed_at: string | null;
}
const toUser = (r: Row): User => ({
  id: r.id, username: r.username, role: r.role, createdAt: r.created_at, sessionVersion: r.session_version, mustChangePassword: r.must_change_password === 1,
});

export class Users {
  readonly throttle: LoginThrottle;
  constructor(private readonly db: ConsoleDb, opts: { now?: () => number } = {}) {
    this.throttle = new LoginThrottle(opts.now);
  }

  list(): User[] {
    return (this.db.prepare("SELECT * FROM users ORDER BY username").all() as Row[]).map(toUser);
  }

  get(id: number): User | null {
    const row = this.db.prepare("SELECT * FROM users WHERE id = ?").get(id) as Row | undefined;
    return row ? toUser(row) : null;
  }

  count(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM users").get() as { n: number }).n;
  }

  async create(username: string, password: string, role: Role): Promise<User> {
    const name = usernameSchema.parse(username);
    passwordSchema.parse(password);
    if (this.db.prepare("SELECT 1 FROM users WHERE username = ?").get(name)) {
      throw new UserError(`A user named "${name}" already exists.`);
    }
    const hash = await hashPassword(password);
    const info = this.db
      .prepare("INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)")
      .run(name, hash, role, new Date().toISOString());
    return this.get(Number(info.lastInsertRowid))!;
  }

  /**
   * A lower role also ends the user's sessions (an open console must not go on showing what the old role saw); a
   * higher one takes effect on the next request without signing in again.
   */
  setRole(id: number, role: Role): User {
    const user = this.requireUser(id);
    if (user.role === "admin" && role !== "admin") this.keepOneAdmin();
    const lower = ROLES.indexOf(role) < ROLES.indexOf(user.role);
    this.db.prepare(`UPDATE users SET role = ?${lower ? ", session_version = session_version + 1" : ""} WHERE id = ?`).run(role, id);
    return this.get(id)!;
  }

  /**
   * An admin sets a user's password; every session of the user ends (whoever had the old password is signed out).
   * With `mustChange`, the user has to choose their own at the next sign-in before anything else.
   */
  async setPassword(id: number, password: string, opts: { mustChange?: boolean } = {}): Promise<User> {
    this.requireUser(id);
    passwordSchema.parse(password);
    const hash = await hashPassword(password);
    const info = this.db.prepare("UPDATE users SET password_hash = ?, session_version = session_version + 1, must_change_password = ?, password_changed_at = ? WHERE id = ?")
      .run(hash, opts.mustChange ? 1 : 0, new Date().toISOString(), id);
    if (info.changes === 0) throw new UserError("This user no longer exists.");
    return this.get(id)!;
  }

  /**
   * A user changes their own password: the current one is asked (a session left open is not enough to take an
   * account over), and counts as a sign-in attempt for the throttle. Every session of the user ends, this one too:
   * the page signs in again with the new password.
   */
  async changeOwnPassword(id: number, current: string, next: string, address = "unknown"): Promise<User> {
    const user = this.requireUser(id);
    passwordSchema.parse(next);
    const { wait, attempt } = this.throttle.begin(user.username, address);
    if (!attempt) throw new UserError(`Too many wrong passwords. Try again in ${Math.ceil(wait / 1000)} s.`);
    const row = this.db.prepare("SELECT password_hash FROM users WHERE id = ?").get(id) as { password_hash: string } | undefined;
    if (!row || !(await verifyPassword(current, row.password_hash))) throw new UserError("The current password is wrong: the password was not changed.");
    attempt.succeeded();
    if (await verifyPassword(next, row.password_hash)) throw new UserError("The new password is the current one: choose another.");
    const hash = await hashPassword(next);
    this.db.prepare("UPDATE users SET password_hash = ?, session_version = session_version + 1, must_change_password = 0, password_changed_at = ? WHERE id = ?")
      .run(hash, new Date().toISOString(), id);
    return this.get(id)!;
  }

  /**
   * Where the first admin's password is, for the sign-in page on first start: the file, while it exists and that
   * admin still has the password it holds (never changed since); otherwise null.
   */
  async initialPasswordHint(passwordFile: string): Promise<string | null> {
    const id = (this.db.prepare("SELECT value FROM console_settings WHERE key = 'initial_admin_id'").get() as { value: string } | undefined)?.value;
    if (id === undefined) return null;
    const row = this.db.prepare("SELECT password_changed_at FROM users WHERE id = ?").get(Number(id)) as { password_changed_at: string | null } | undefined;
    if (!row || row.password_changed_at !== null) return null;
    const st = await lstat(passwordFile).catch(() => null);
    return st?.isFile() ? passwordFile : null;
  }

  /** Ends every session of the user (sign-out): a session cookie used afterwards is refused. */
  endSessions(id: number): void {
    this.db.prepare("UPDATE users SET session_version = session_version + 1 WHERE id = ?").run(id);
  }

  remove(id: number): void {
    const user = this.requireUser(id);
    if (user.role === "admin") this.keepOneAdmin();
    this.db.prepare("DELETE FROM users WHERE id = ?").run(id);
  }

  /**
   * Checks a password, with the throttle (see login-throttle.ts: keyed by the name and the client's address, the
   * attempt counted before the slow hash so concurrent guesses can't slip through); throws UserError with a
   * message for the login page.
   */
  async authenticate(username: string, password: string, address = "unknown"): Promise<User> {
    const key = username.trim();
    const { wait, attempt } = this.throttle.begin(key, address);
    if (!attempt) {
      throw new UserError(`Too many failed sign-in attempts. Try again in ${plural(Math.ceil(wait / 1000), "second")}.`);
    }
    const row = this.db.prepare("SELECT * FROM users WHERE username = ?").get(key) as Row | undefined;
    // Hash even for an unknown name so that timing does not tell which names exist.
    const ok = row ? await verifyPassword(password, row.password_hash) : (await hashPassword(password), false);
    if (!row || !ok) throw new UserError("Wrong user name or password.");
    attempt.succeeded();
    // The record as it is now: the version may have changed while the hash was computed.
    return this.get(row.id) ?? toUser(row);
  }

  /**
   * First start: when no user exists, create "admin" with STRONGBOX_ADMIN_PASSWORD or a random password written
   * to `passwordFile` (mode 0600). Returns what was done, for the start-up message.
   */
  async ensureInitialAdmin(passwordFile: string, envPassword?: string): Promise<null | { passwordFrom: "env" | "file" }> {
    if (this.count() > 0) return null;
    const password = envPassword || randomPassword();
    if (!envPassword) {
      // Written first, and never through a link planted at its name: a user whose password went nowhere would lock
      // the console out, and following a link as root would write the password wherever it points.
      const fh = await openNoFollow(passwordFile, "replace");
      try {
        await fh.writeFile(password + "\n");
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    const admin = await this.create("admin", password, "admin");
    if (!envPassword) {
      this.db.prepare("INSERT INTO console_settings (key, value) VALUES ('initial_admin_id', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(String(admin.id));
    }
    return { passwordFrom: envPassword ? "env" : "file" };
  }

  private requireUser(id: number): User {
    const user = this.get(id);
    if (!user) throw new UserError("This user no longer exists.");
    return user;
  }

  private keepOneAdmin(): void {
    const admins = (this.db.prepare("SELECT count(*) AS n FROM users WHERE role = 'admin'").get() as { n: number }).n;
    if (admins <= 1) throw new UserError("The console needs at least one admin: make another user admin first.");
  }
}
