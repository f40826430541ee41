// The signed-in user, read from the current record in console.sqlite (a role change or a removed user takes effect
// on the next request), for pages, route handlers and the tRPC context alike. A session signed in with an older
// session version (the user signed out, changed password or lost a role since) is refused.
import { getServerSession } from "next-auth";
import type { User } from "../auth/users";
import { getServices } from "../services";
import { getAuthOptions, type SessionClaims } from "./auth-options";

export async function currentUser(): Promise<User | null> {
  const session = await getServerSession(await getAuthOptions());
  const claims = session?.user as SessionClaims | undefined;
  const id = Number(claims?.id);
  if (!claims || !Number.isInteger(id)) return null;
  const user = (await getServices()).users.get(id);
  // The name must match too: a session never passes to another user, whatever happens to ids.
  if (!user || user.username !== claims.name) return null;
  return user.sessionVersion === claims.sv ? user : null;
}
