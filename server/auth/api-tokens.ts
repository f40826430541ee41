// API tokens for programs and the CLI (docs/roles-and-api.md): made by an admin, shown once, stored hashed, carry a role, and
// revocable. The secret is 32 random bytes, so a plain SHA-256 is enough (no salt or slow hash needed: there is
// nothing to guess); the role is read from the current row on every request, like a user's.
import crypto from "node:crypto";
import { z } from "zod";
import type { ConsoleDb } from "../console/console-db";
import { nameSchema, ROLES, type Role } from "./roles";
import { UserError } from "./users";

export const TOKEN_PREFIX = "sbx_";

export interface ApiToken { id: number; name: string; role: Role; createdAt: string; createdBy: string | null; lastUsedAt: string | null }

export const tokenNameSchema = nameSchema("token");
export const tokenRoleSchema = z.enum(ROLES);

interface Row { id: number; name: string; role: Role; created_at: string; created_by: string | null; last_used_at: string | null; secret_hash: string }
const toToken = (r: Row): ApiToken => ({
  id: r.id, name: r.name, role: r.role, createdAt: r.created_at, createdBy: r.created_by, lastUsedAt: r.last_used_at,
});
const sha256 = (s: string) => crypto.createHash("sha256").update(s, "utf8").digest("hex");

export class ApiTokens {
  constructor(private readonly db: ConsoleDb, private readonly now: () => Date = () => new Date()) {}

  list(): ApiToken[] {
    return (this.db.prepare("SELECT * FROM api_tokens ORDER BY name").all() as Row[]).map(toToken);
  }

  get(id: number): ApiToken | null {
    const row = this.db.prepare("SELECT * FROM api_tokens WHERE id = ?").get(id) as Row | undefined;
    return row ? toToken(row) : null;
  }

  /** Returns the token and its secret; the secret is not kept anywhere and cannot be shown again. */
  create(name: string, role: Role, createdBy: string | null = null): { token: ApiToken; secret: string } {
    const clean = tokenNameSchema.parse(name);
    tokenRoleSchema.parse(role);
    if (this.db.prepare("SELECT 1 FROM api_tokens WHERE name = ?").get(clean)) {
      throw new UserError(`A token named "${clean}" already exists.`);
    }
    const secret = TOKEN_PREFIX + crypto.randomBytes(32).toString("base64url");
    const info = this.db
      .prepare("INSERT INTO api_tokens (name, secret_hash, role, created_at, created_by) VALUES (?, ?, ?, ?, ?)")
      .run(clean, sha256(secret), role, this.now().toISOString(), createdBy);
    return { token: this.get(Number(info.lastInsertRowid))!, secret };
  }

  /** Deletes the row: the next request (and the next event of an open stream) with this token is refused. */
  revoke(id: number): void {
    if (this.db.prepare("DELETE FROM api_tokens WHERE id = ?").run(id).changes === 0) {
      throw new UserError("This token no longer exists.");
    }
  }

  /** The token a secret belongs to, or null; records the time of use. */
  authenticate(secret: string): ApiToken | null {
    if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 200) return null;
    const hash = sha256(secret);
    // The lookup by hash leaks nothing useful (an attacker cannot choose hashes); compare once more in constant
    // time so that no code path compares secrets byte by byte.
    const row = this.db.prepare("SELECT * FROM api_tokens WHERE secret_hash = ?").get(hash) as Row | undefined;
    if (!row || !crypto.timingSafeEqual(Buffer.from(row.secret_hash, "hex"), Buffer.from(hash, "hex"))) return null;
    const usedAt = this.now().toISOString();
    this.db.prepare("UPDATE api_tokens SET last_used_at = ? WHERE id = ?").run(usedAt, row.id);
    return toToken({ ...row, last_used_at: usedAt });
  }
}
