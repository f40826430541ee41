import { z } from "zod";

// The roles themselves are isomorphic (the pages offer them): see server/isomorphic/roles.ts.
export { hasRole, ROLES, type Role } from "../isomorphic/roles";

/** A name for a user or an API token: what it may hold, with messages that say which one ("user", "token"). */
export function nameSchema(what: string) {
  return z
    .string()
    .trim()
    .min(1, `Enter a ${what} name.`)
    .max(64, `A ${what} name has at most 64 characters.`)
    .regex(/^[A-Za-z0-9._@-]+$/, `A ${what} name may hold letters, digits, '.', '_', '@' and '-' only.`);
}
