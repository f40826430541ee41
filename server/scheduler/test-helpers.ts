// Shared by the scheduler tests: full Scheduler settings from a few fields, and wall-clock readings.
import { WEEKDAYS, type Weekday } from "../settings/model";
import type { SchedulerSettings } from "./next-run";
import { offsetAt, wallOf } from "./zoned-time";

type Overrides = Omit<Partial<SchedulerSettings>, "weekly"> & {
  weekly?: { every?: number; days?: Partial<Record<Weekday, number>> };
};

/** Settings with every frequency at its default, then `o` (weekly.days maps ticked weekdays to their hour). */
export function sched(o: Overrides): SchedulerSettings {
  const days = Object.fromEntries(
    WEEKDAYS.map((d) => [d, { save: o.weekly?.days?.[d] !== undefined, hour: o.weekly?.days?.[d] ?? 0 }]),
  ) as SchedulerSettings["weekly"]["days"];
  return {
    frequency: "Never",
    hourly: { every: 1, startingAt: 0 },
    daily: { every: 1, hour: 0 },
    monthly: { every: 1, day: 1, hour: 0 },
    cron: "",
    anchor: null,
    ...o,
    weekly: { every: o.weekly?.every ?? 1, days },
  };
}

export const hms = (h: number, m = 0, s = 0) => h * 3600 + m * 60 + s;

/** "2025-03-30 03:00:00 +02:00": an instant as read on the wall clock of `timeZone`. */
export function local(d: Date | null, timeZone: string): string | null {
  if (!d) return null;
  const wall = new Date(wallOf(d.getTime(), timeZone)).toISOString();
  const off = offsetAt(d.getTime(), timeZone) / 60_000;
  const sign = off < 0 ? "-" : "+";
  const pad = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  return `${wall.slice(0, 10)} ${wall.slice(11, 19)} ${sign}${pad(off / 60)}:${pad(Math.abs(off) % 60)}`;
}
