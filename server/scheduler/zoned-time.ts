// Wall-clock ↔ instant conversion for an IANA time zone, with Intl only (no tz package). Schedules are written as
// wall-clock times (docs/settings.md), so the scheduler does its calendar arithmetic on a "wall axis": a wall-clock time
// written as if it were UTC (`Date.UTC(y, m, d, h, mi, s)`), where every day is exactly 86 400 s long. Only the
// final step, resolveWallTime, turns a point of that axis into a real instant, applying the DST rules.

export const DAY_MS = 86_400_000;

/** The server's own zone (honours TZ). */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // h23: midnight is 0, never "24" (which en-US "h24"/hour12:false could print).
    f = new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric",
      hour: "numeric", minute: "numeric", second: "numeric", era: "short",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock reading of an instant in `timeZone`, on the wall axis (whole seconds; milliseconds kept). */
export function wallOf(instantMs: number, timeZone: string): number {
  const p: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(instantMs)) p[part.type] = part.value;
  const year = p.era === "BC" || p.era === "B" ? 1 - Number(p.year) : Number(p.year);
  const ms = ((instantMs % 1000) + 1000) % 1000;
  return Date.UTC(year, Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second)) + ms;
}

/** UTC offset (wall − instant) in effect at an instant. */
export function offsetAt(instantMs: number, timeZone: string): number {
  return wallOf(instantMs, timeZone) - instantMs;
}

/**
 * The instant a wall-clock time stands for. A time that occurs twice (fall back) gives its first occurrence; a
 * time that doesn't exist (spring forward) gives the first valid instant after it, i.e. the transition itself
 * (02:30 on a 02:00→03:00 night gives 03:00). Assumes at most one offset change within a day either side, which
 * holds for every zone in use.
 */
export function resolveWallTime(wallMs: number, timeZone: string): number {
  // Offsets are at most ±14 h, so the offsets a day before and after bracket every reading of this wall time.
  const before = offsetAt(wallMs - DAY_MS, timeZone);
  const after = offsetAt(wallMs + DAY_MS, timeZone);
  const valid = [...new Set([before, after])]
    .map((o) => wallMs - o)
    .filter((instant) => wallOf(instant, timeZone) === wallMs);
  if (valid.length > 0) return Math.min(...valid);
  // A gap: the reading jumps over wallMs between these two instants; find the first second that reads ≥ wallMs.
  let lo = wallMs - Math.max(before, after); // reads < wallMs
  let hi = wallMs - Math.min(before, after); // reads > wallMs
  lo = Math.floor(lo / 1000);
  hi = Math.ceil(hi / 1000);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallOf(mid * 1000, timeZone) >= wallMs) hi = mid;
    else lo = mid;
  }
  return hi * 1000;
}

/** Days since 1970-01-01 of the wall day an instant falls on. */
export function wallDayOf(instantMs: number, timeZone: string): number {
  return Math.floor(wallOf(instantMs, timeZone) / DAY_MS);
}

/** Days since 1970-01-01 of an ISO `YYYY-MM-DD` date, or null when it isn't one. */
export function parseIsoDay(iso: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (new Date(ms).toISOString().slice(0, 10) !== iso) return null;
  return ms / DAY_MS;
}

export function isoDayOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Calendar parts of a day number; weekday is Monday-based (0 = Monday … 6 = Sunday). */
export function civilOf(day: number): { year: number; month: number; date: number; weekday: number } {
  const d = new Date(day * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, date: d.getUTCDate(), weekday: floorMod(day + 3, 7) };
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function floorMod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
