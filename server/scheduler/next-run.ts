// When a schedule fires (docs/settings.md "Schedules"): a pure function of the Scheduler settings, an instant and a time
// zone. Every frequency is reduced to "which wall-clock times of day D does it fire at"; days are walked from the
// day of `after` and each time is turned into an instant with the DST rules of resolveWallTime (a time a change
// removes runs at the first valid time after it; a time that occurs twice runs once, at its first occurrence).
//
// Readings of the settings:
// - Anchor (Scheduler/Anchor, YYYY-MM-DD) fixes the phase of "every X days/weeks/months/hours": the runs are the
//   anchor's day/week/month and every X-th one from it, in both directions (an anchor in the future still gives
//   the same series). With no anchor, `after`'s own wall day is the anchor.
// - Hourly: the series StartingAt + k·X hours on the wall clock, counted continuously from the anchor day's
//   midnight — it does not restart at midnight (every 5 h from 00:00 gives 00:00 05:00 … 20:00, then 01:00 the next
//   day). X is 1–24. Being wall-clock, the hour DST removes collapses into the next, and a repeated hour runs once.
// - Weekly: weeks start on Monday; a week is on when whole weeks between its Monday and the anchor's Monday are a
//   multiple of X; each ticked weekday runs at its own hour.
// - Monthly: months are counted from the anchor's month; a day past the month's end means its last day.
// - Cron: see ./cron.ts; an invalid expression throws CronSyntaxError.

import type { BackupSettings } from "../settings/model";
import { cronMatchesDay, cronTimesOfDay, parseCron } from "./cron";
import { civilOf, DAY_MS, daysInMonth, floorMod, localTimeZone, parseIsoDay, resolveWallTime, wallDayOf } from "./zoned-time";

export type SchedulerSettings = BackupSettings["scheduler"];
export interface NextRunOptions {
  /** IANA zone whose wall clock the times are read in; the server's own zone by default. */
  timeZone?: string;
}

const WEEKDAY_KEYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] as const;

/** The times (seconds since midnight, ascending) a schedule fires at on a day; how many days to look ahead. */
interface Plan {
  timesOn(day: number): number[];
  /** Days after which, finding nothing, the schedule never fires (every frequency but Cron is periodic). */
  horizonDays: number;
}

const count = (n: number, max = Infinity) => Math.min(max, Math.max(1, Math.floor(Number.isFinite(n) ? n : 1)));
const timeOfDay = (t: number) => Math.min(86_399, Math.max(0, Math.floor(Number.isFinite(t) ? t : 0)));

function planFor(s: SchedulerSettings, anchorDay: number): Plan | null {
  switch (s.frequency) {
    case "Never":
      return null;
    case "Hourly": {
      const step = count(s.hourly.every, 24) * 3600;
      const base = anchorDay * 86_400 + timeOfDay(s.hourly.startingAt); // on the wall axis, in seconds
      return {
        timesOn(day) {
          const times: number[] = [];
          for (let t = floorMod(base - day * 86_400, step); t < 86_400; t += step) times.push(t);
          return times;
        },
        horizonDays: 3,
      };
    }
    case "Daily": {
      const every = count(s.daily.every);
      const at = [timeOfDay(s.daily.hour)];
      return { timesOn: (day) => (floorMod(day - anchorDay, every) === 0 ? at : []), horizonDays: every + 2 };
    }
    case "Weekly": {
      const every = count(s.weekly.every);
      const anchorMonday = anchorDay - civilOf(anchorDay).weekday;
      return {
        timesOn(day) {
          const { weekday } = civilOf(day);
          const weeks = (day - weekday - anchorMonday) / 7;
          const d = s.weekly.days[WEEKDAY_KEYS[weekday]];
          return floorMod(weeks, every) === 0 && d?.save ? [timeOfDay(d.hour)] : [];
        },
        horizonDays: 7 * every + 14,
      };
    }
    case "Monthly": {
      const every = count(s.monthly.every);
      const a = civilOf(anchorDay);
      const wanted = count(s.monthly.day, 31);
      const at = [timeOfDay(s.monthly.hour)];
      return {
        timesOn(day) {
          const { year, month, date } = civilOf(day);
          if (floorMod(year * 12 + month - (a.year * 12 + a.month), every) !== 0) return [];
          return date === Math.min(wanted, daysInMonth(year, month)) ? at : [];
        },
        horizonDays: 31 * (every + 1) + 31,
      };
    }
    case "Cron": {
      const cron = parseCron(s.cron);
      const times = cronTimesOfDay(cron);
      // Nine years cover Feb 29 across a skipped leap year (2096 → 2104); an expression that matches no day in
      // that span (e.g. "0 0 30 2 *") never fires.
      return { timesOn: (day) => (cronMatchesDay(cron, day) ? times : []), horizonDays: 9 * 366 };
    }
  }
}

/** The first scheduled time strictly after `after`, or null when the schedule never fires. */
export function nextRun(s: SchedulerSettings, after: Date, opts: NextRunOptions = {}): Date | null {
  const timeZone = opts.timeZone ?? localTimeZone();
  const afterMs = after.getTime();
  const afterDay = wallDayOf(afterMs, timeZone);
  const plan = planFor(s, (s.anchor !== null ? parseIsoDay(s.anchor) : null) ?? afterDay);
  if (!plan) return null;
  // Resolved instants never decrease as wall times increase, so per day a binary search finds the first time
  // after `after`. Starting a day early catches a late-evening time pushed past midnight by a DST gap.
  for (let day = afterDay - 1; day <= afterDay + plan.horizonDays; day++) {
    const times = plan.timesOn(day);
    const at = (i: number) => resolveWallTime(day * DAY_MS + times[i] * 1000, timeZone);
    if (times.length === 0 || at(times.length - 1) <= afterMs) continue;
    let lo = 0;
    let hi = times.length - 1; // at(hi) > afterMs
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (at(mid) > afterMs) hi = mid;
      else lo = mid + 1;
    }
    return new Date(at(lo));
  }
  return null;
}

/** The next `n` scheduled times after `after` (the settings page's preview shows five). */
export function nextRuns(s: SchedulerSettings, after: Date, n = 5, opts: NextRunOptions = {}): Date[] {
  // Without an anchor, keep the first call's day as the phase so the preview is one consistent series.
  const anchored: SchedulerSettings = s.anchor !== null ? s : { ...s, anchor: isoDay(after, opts) };
  const runs: Date[] = [];
  for (let t: Date | null = after; runs.length < n && (t = nextRun(anchored, t, opts)); ) runs.push(t);
  return runs;
}

/**
 * The first scheduled time in (from, to], or null when none fell there. At start, `from` is when the server was
 * last known to be running: a non-null result is the "times missed while the server was down", which count as one
 * failed backup (docs/settings.md).
 */
export function firstMissedRun(s: SchedulerSettings, from: Date, to: Date, opts: NextRunOptions = {}): Date | null {
  const next = nextRun(s, from, opts);
  return next && next.getTime() <= to.getTime() ? next : null;
}

/** The wall-clock day (YYYY-MM-DD) of an instant, to pin an anchor. */
export function isoDay(instant: Date, opts: NextRunOptions = {}): string {
  return new Date(wallDayOf(instant.getTime(), opts.timeZone ?? localTimeZone()) * DAY_MS).toISOString().slice(0, 10);
}
