// The signed-in user, read from the current record in console.sqlite (spec §10: a role change or a removed user
// takes effect on the next request), for pages, route handlers and the tRPC context alike.
import { getServerSession } from "next-auth";
import type { User } from "../auth/users";
import { getServices } from "../services";
import { getAuthOptions } from "./auth-options";

export async function currentUser(): Promise<User | null> {
  const session = await getServerSession(await getAuthOptions());
  const id = Number((session?.user as { id?: string } | undefined)?.id);
  if (!session || !Number.isInteger(id)) return null;
  return (await getServices()).users.get(id);
}
