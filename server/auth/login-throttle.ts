// Slows down password guessing. Every attempt is counted as a failure *before* its password is checked (and the
// count taken back if it succeeds), so a burst of concurrent guesses gets no more checks than a patient guesser.
//
// Two counters per attempt:
// - per user name and client address: after FREE_FAILURES consecutive failures, each further attempt must wait a
//   delay that doubles with each failure (2 s, 4 s, 8 s… capped at 5 minutes); attempts inside it are refused
//   unchecked. A stranger elsewhere never slows down the user's own address this way.
// - per user name from every address (for guessers spreading over many addresses), looser: GLOBAL_FREE_FAILURES
//   before the same doubling delay starts. Addresses where this user signed in successfully are exempt from it,
//   so a stranger hammering "admin" from elsewhere can't lock the admin out of the places they sign in from.
export const FREE_FAILURES = 3;
export const GLOBAL_FREE_FAILURES = 20;
const BASE_DELAY_MS = 2_000;
const MAX_DELAY_MS = 5 * 60_000;
/** Entries kept in memory at most (an attacker inventing names and addresses can't grow the map without bound). */
const MAX_ENTRIES = 10_000;
/** How long a successful sign-in makes its address known for that user. */
const KNOWN_ADDRESS_MS = 30 * 24 * 60 * 60_000;
/** A counter with no failure for this long starts again from zero. */
const FORGET_AFTER_MS = 60 * 60_000;

interface Entry { failures: number; lastFailure: number }

/** Failure counters by key; oldest-updated entries are dropped first when the map is full. */
class Counters {
  private readonly entries = new Map<string, Entry>();
  constructor(private readonly freeFailures: number) {}

  private current(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    return e && now - e.lastFailure < FORGET_AFTER_MS ? e : undefined;
  }

  waitMs(key: string, now: number): number {
    const e = this.current(key, now);
    if (!e || e.failures < this.freeFailures) return 0;
    const delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (e.failures - this.freeFailures));
    return Math.max(0, e.lastFailure + delay - now);
  }

  add(key: string, now: number, delta: 1 | -1): void {
    const e = this.current(key, now) ?? { failures: 0, lastFailure: now };
    this.entries.delete(key); // re-inserted last: the map stays in order of last update
    const failures = Math.max(0, e.failures + delta);
    if (failures > 0) this.entries.set(key, { failures, lastFailure: delta > 0 ? now : e.lastFailure });
    prune(this.entries);
  }

  clear(key: string): void {
    this.entries.delete(key);
  }
}

function prune<V>(map: Map<string, V>): void {
  for (const key of map.keys()) {
    if (map.size <= MAX_ENTRIES) break;
    map.delete(key);
  }
}

/** One attempt that passed the throttle: it counts as failed until `succeeded()` is called. */
export interface Attempt { succeeded(): void }

export class LoginThrottle {
  private readonly byAddress = new Counters(FREE_FAILURES);
  private readonly byName = new Counters(GLOBAL_FREE_FAILURES);
  /** "name address" → when this user last signed in from there. */
  private readonly known = new Map<string, number>();
  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Milliseconds the caller must still wait before an attempt for this name from this address is checked
   * (0 = go ahead).
   */
  waitMs(name: string, address: string): number {
    const now = this.now();
    const { nameKey, addressKey } = keys(name, address);
    const own = this.byAddress.waitMs(addressKey, now);
    return this.isKnown(addressKey, now) ? own : Math.max(own, this.byName.waitMs(nameKey, now));
  }

  /**
   * Starts an attempt: null (with the wait) when it must be refused unchecked; otherwise the attempt, already
   * counted as a failure, so attempts running at the same time see each other.
   */
  begin(name: string, address: string): { wait: number; attempt: null } | { wait: 0; attempt: Attempt } {
    const wait = this.waitMs(name, address);
    if (wait > 0) return { wait, attempt: null };
    const now = this.now();
    const { nameKey, addressKey } = keys(name, address);
    const global = !this.isKnown(addressKey, now);
    this.byAddress.add(addressKey, now, 1);
    if (global) this.byName.add(nameKey, now, 1);
    let done = false;
    return {
      wait: 0,
      attempt: {
        succeeded: () => {
          if (done) return;
          done = true;
          this.byAddress.clear(addressKey);
          if (global) this.byName.add(nameKey, this.now(), -1);
          this.known.delete(addressKey);
          this.known.set(addressKey, this.now());
          prune(this.known);
        },
      },
    };
  }

  private isKnown(addressKey: string, now: number): boolean {
    const at = this.known.get(addressKey);
    return at !== undefined && now - at < KNOWN_ADDRESS_MS;
  }
}

function keys(name: string, address: string) {
  const nameKey = name.trim().toLowerCase();
  return { nameKey, addressKey: `${nameKey} ${address}` };
}
