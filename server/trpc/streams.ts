// Server-sent event streams (the tab's event stream, a program's progress stream) outlive the request that checked
// the caller, hold a connection each, and are cheap to open. So each stream:
// - takes one of its principal's MAX_STREAMS_PER_PRINCIPAL slots (a browser tab holds one), given back however the
//   stream ends (client gone, server stopping, error, revoked);
// - re-checks its principal's current record (user or API token) on every event and every RECHECK_MS while idle:
//   a removed user, a signed-out session or a revoked token ends it.
import { TRPCError } from "@trpc/server";
import { hasRole, type Role } from "../auth/roles";
import type { Services } from "../services";
import { currentPrincipal, type Principal } from "./init";

export const MAX_STREAMS_PER_PRINCIPAL = 20;
const RECHECK_MS = 5_000;

// Per services object (one per process; tests make their own).
const openStreams = new WeakMap<Services, Map<string, number>>();
const keyOf = (p: Principal) => `${p.kind}:${p.id}`;

/** Throws UNAUTHORIZED when the principal's current record no longer allows `role`. */
export function recheck(services: Services, principal: Principal, role: Role): void {
  const current = currentPrincipal(services, principal);
  if (!current || !hasRole(current.role, role)) {
    const message = principal.kind === "token" ? "This API token was revoked or lost its role." : "Your session is no longer valid: sign in again.";
    throw new TRPCError({ code: "UNAUTHORIZED", message });
  }
}

/** An open stream: its signal ends when the client goes, the server stops or the principal is refused. */
export interface StreamLease {
  signal: AbortSignal;
  /** Checks the principal again (call on every event); throws UNAUTHORIZED when it is refused. */
  recheck(): void;
  /** After the signal ended: throws why, when it was the principal being refused. */
  throwIfRefused(): void;
  /** Gives the slot back (idempotent). */
  release(): void;
}

/**
 * Opens a stream for `principal`, or throws TOO_MANY_REQUESTS when it already has its most. Release the lease in a
 * `finally` around the whole stream.
 */
export function openStream(services: Services, principal: Principal, role: Role, clientSignal: AbortSignal | undefined): StreamLease {
  let counts = openStreams.get(services);
  if (!counts) openStreams.set(services, (counts = new Map()));
  const key = keyOf(principal);
  const open = counts.get(key) ?? 0;
  if (open >= MAX_STREAMS_PER_PRINCIPAL) {
    const who = principal.kind === "token" ? `The API token ${principal.username}` : `The user ${principal.username}`;
    throw new TRPCError({ code: "TOO_MANY_REQUESTS",
      message: `${who} already has ${open} event streams open, the most allowed. Close some console tabs or programs' streams, then try again.` });
  }
  counts.set(key, open + 1);

  const refused = new AbortController();
  let refusal: TRPCError | null = null;
  const check = () => {
    try {
      recheck(services, principal, role);
    } catch (err) {
      refusal = err as TRPCError;
      refused.abort(refusal);
      throw err;
    }
  };
  const timer = setInterval(() => { try { check(); } catch { /* the stream ends through its signal */ } }, RECHECK_MS);
  timer.unref();
  const signals = [services.shutdown.signal, refused.signal, ...(clientSignal ? [clientSignal] : [])];
  let released = false;
  return {
    signal: AbortSignal.any(signals),
    recheck: check,
    throwIfRefused: () => { if (refusal) throw refusal; },
    release: () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      const n = (counts.get(key) ?? 1) - 1;
      if (n > 0) counts.set(key, n);
      else counts.delete(key);
    },
  };
}

/** How many streams a principal has open (for tests and diagnostics). */
export function openStreamCount(services: Services, principal: Pick<Principal, "kind" | "id">): number {
  return openStreams.get(services)?.get(`${principal.kind}:${principal.id}`) ?? 0;
}
