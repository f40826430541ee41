import { z } from "zod";

// The console's roles (spec §10), each including the rights of the ones before it.
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** A name for a user or an API token: what it may hold, with messages that say which one ("user", "token"). */
export function nameSchema(what: string) {
  return z
    .string()
    .trim()
    .min(1, `Enter a ${what} name.`)
    .max(64, `A ${what} name has at most 64 characters.`)
    .regex(/^[A-Za-z0-9._@-]+$/, `A ${what} name may hold letters, digits, '.', '_', '@' and '-' only.`);
}

export function hasRole(actual: Role, required: Role): boolean {
  return ROLES.indexOf(actual) >= ROLES.indexOf(required);
}
