// Who calls, resolved once per request and the same way for the tRPC procedures and the route handlers (the
// journal downloads): an API token when the request carries `Authorization: Bearer …`, else the console session.
// Each is read from its current record in console.sqlite, so a role change, a removed user or a revoked token
// counts at once; refusal texts for a missing role or a password that must be changed live here too.
import { ApiTokens, type ApiToken } from "../auth/api-tokens";
import { hasRole, type Role } from "../auth/roles";
import type { User } from "../auth/users";
import type { ConsoleDb } from "../console/console-db";

/**
 * A signed-in user, or an API token whose `username` is the token's name, so that every procedure checks roles and
 * names the caller the same way. `id` is the user's or the token's id, per `kind`.
 */
export type Principal = User & { kind: "user" | "token" };

/** What the principal's stores are read from: console.sqlite and its users. */
export interface PrincipalSources {
  consoleDb: ConsoleDb;
  users: { get(id: number): User | null };
}

/** What a user whose password an admin set gets from everything but the change of their own password. */
export const MUST_CHANGE_PASSWORD_MESSAGE = "An admin set your password: change it (Change password) before using the console.";

const tokenPrincipal = (t: ApiToken): Principal => ({ kind: "token", id: t.id, username: t.name, role: t.role, createdAt: t.createdAt, sessionVersion: 0, mustChangePassword: false });

/**
 * The caller of one request: a Bearer token if one is sent, else the session's user (`sessionUser`, which reads the
 * next-auth cookie). `authError` says why a request that tried to authenticate was refused, for the 401 text.
 */
export async function resolvePrincipal(req: Request, sources: PrincipalSources, sessionUser: () => Promise<User | null>):
  Promise<{ principal: Principal | null; authError?: string }> {
  const header = req.headers.get("authorization");
  if (header && /^bearer(\s|$)/i.test(header)) {
    const token = new ApiTokens(sources.consoleDb).authenticate(header.replace(/^bearer\s+/i, "").trim());
    if (!token) return { principal: null, authError: "This API token is not valid: it is wrong or was revoked." };
    return { principal: tokenPrincipal(token) };
  }
  const user = await sessionUser();
  return { principal: user && { ...user, kind: "user" } };
}

/** The principal's current record (a role change, removal or revocation counts at once), or null. */
export function currentPrincipal(sources: PrincipalSources, p: Principal): Principal | null {
  if (p.kind === "token") {
    const token = new ApiTokens(sources.consoleDb).get(p.id);
    return token && tokenPrincipal(token);
  }
  const user = sources.users.get(p.id);
  // The session's version too: a stream opened before a sign-out ends with it.
  return user && user.username === p.username && user.sessionVersion === p.sessionVersion ? { ...user, kind: "user" } : null;
}

/**
 * Why `p` may not do what needs `role` (null: it may): 401 without a principal, 403 for a password that must be
 * changed first (unless this is that change) or a role too low.
 */
export function refusalFor(p: Principal | null, role: Role, opts: { authError?: string; signInText?: string; roleText?: string; passwordChange?: boolean } = {}):
  { status: 401 | 403; message: string } | null {
  if (!p) return { status: 401, message: opts.authError ?? opts.signInText ?? "Sign in to use the console." };
  if (p.mustChangePassword && !opts.passwordChange) return { status: 403, message: MUST_CHANGE_PASSWORD_MESSAGE };
  if (!hasRole(p.role, role)) {
    const who = p.kind === "token" ? `this API token has the role ${p.role}` : `you are signed in as a ${p.role}`;
    return { status: 403, message: opts.roleText ?? `This needs the ${role} role; ${who}.` };
  }
  return null;
}
