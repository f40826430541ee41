// Slows down password guessing: after FREE_FAILURES consecutive failures for a user name, every further attempt
// must wait a delay that doubles with each failure (capped), and attempts inside that window are refused unchecked.
export const FREE_FAILURES = 3;
const BASE_DELAY_MS = 2_000;
const MAX_DELAY_MS = 5 * 60_000;

interface Entry { failures: number; lastFailure: number }

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();
  constructor(private readonly now: () => number = Date.now) {}

  /** Milliseconds the caller must still wait before an attempt for this key is checked (0 = go ahead). */
  waitMs(key: string): number {
    const e = this.entries.get(key.toLowerCase());
    if (!e || e.failures < FREE_FAILURES) return 0;
    const delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (e.failures - FREE_FAILURES));
    return Math.max(0, e.lastFailure + delay - this.now());
  }

  failed(key: string): void {
    const k = key.toLowerCase();
    const e = this.entries.get(k) ?? { failures: 0, lastFailure: 0 };
    this.entries.set(k, { failures: e.failures + 1, lastFailure: this.now() });
  }

  succeeded(key: string): void {
    this.entries.delete(key.toLowerCase());
  }
}
