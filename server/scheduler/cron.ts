// The 5-field cron expressions of Scheduler/Cron (minute hour day-of-month month day-of-week): a small parser,
// a matcher on calendar days and times, and a plain-English description for the settings page. Our own code
// rather than node-cron's: the next-run function has to reason about wall-clock days and DST itself (docs/settings.md).
//
// Syntax (Vixie cron): `*`, numbers, names (JAN–DEC, SUN–SAT, any case), ranges `a-b`, steps `*/n` `a-b/n` `a/n`
// (a/n = from a to the field's end), and comma lists. Day-of-week 0 and 7 are both Sunday. When both day fields
// are restricted, a day matches if EITHER does (standard OR rule); a field starting with `*` (including `*/2`)
// counts as unrestricted, as in Vixie cron.

import { civilOf } from "./zoned-time";

export class CronSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CronSyntaxError";
  }
}

interface FieldSpec { name: string; min: number; max: number; names?: readonly string[] }

const MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] as const;
const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] as const;

const FIELDS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTH_NAMES },
  { name: "day of week", min: 0, max: 7, names: DAY_NAMES },
];

export interface CronExpression {
  source: string;
  minutes: number[];
  hours: number[];
  daysOfMonth: Set<number>;
  months: Set<number>;
  /** 0 = Sunday … 6 = Saturday (7 folded into 0). */
  daysOfWeek: Set<number>;
  domRestricted: boolean;
  dowRestricted: boolean;
}

function parseValue(text: string, spec: FieldSpec): number {
  const named = spec.names?.indexOf(text.toUpperCase() as never) ?? -1;
  if (named >= 0) return spec.names === MONTH_NAMES ? named + 1 : named;
  if (!/^\d+$/.test(text)) throw new CronSyntaxError(`${spec.name}: "${text}" is not a number${spec.names ? " or a name" : ""}`);
  const n = Number(text);
  if (n < spec.min || n > spec.max) throw new CronSyntaxError(`${spec.name}: ${n} is outside ${spec.min}–${spec.max}`);
  return n;
}

function parseField(text: string, spec: FieldSpec): number[] {
  const values = new Set<number>();
  for (const item of text.split(",")) {
    const m = /^([^/]+)(?:\/(.+))?$/.exec(item);
    if (!m) throw new CronSyntaxError(`${spec.name}: "${item}" is empty or malformed`);
    const [, range, stepText] = m;
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) throw new CronSyntaxError(`${spec.name}: step "${stepText}" must be a positive number`);
      step = Number(stepText);
    }
    let lo: number, hi: number;
    if (range === "*") [lo, hi] = [spec.min, spec.max];
    else if (range.includes("-")) {
      const [a, b, ...rest] = range.split("-");
      if (rest.length > 0 || a === "" || b === "") throw new CronSyntaxError(`${spec.name}: "${range}" is not a range`);
      [lo, hi] = [parseValue(a, spec), parseValue(b, spec)];
      if (lo > hi) throw new CronSyntaxError(`${spec.name}: range "${range}" goes backwards`);
    } else {
      lo = parseValue(range, spec);
      hi = stepText !== undefined ? spec.max : lo;
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

export function parseCron(expression: string): CronExpression {
  const parts = expression.trim().split(/\s+/).filter((p) => p !== "");
  if (parts.length !== 5) {
    throw new CronSyntaxError(`expected 5 fields (minute hour day-of-month month day-of-week), found ${parts.length}`);
  }
  const [minutes, hours, dom, months, dow] = parts.map((p, i) => parseField(p, FIELDS[i]));
  return {
    source: parts.join(" "),
    minutes,
    hours,
    daysOfMonth: new Set(dom),
    months: new Set(months),
    daysOfWeek: new Set(dow.map((d) => d % 7)),
    domRestricted: !parts[2].startsWith("*"),
    dowRestricted: !parts[4].startsWith("*"),
  };
}

/** An error message for an invalid expression, or null when it is valid. */
export function validateCron(expression: string): string | null {
  try {
    parseCron(expression);
    return null;
  } catch (e) {
    if (e instanceof CronSyntaxError) return e.message;
    throw e;
  }
}

/** Whether the expression fires on a calendar day (days since 1970-01-01). */
export function cronMatchesDay(cron: CronExpression, day: number): boolean {
  const { month, date, weekday } = civilOf(day);
  if (!cron.months.has(month)) return false;
  const domOk = cron.daysOfMonth.has(date);
  const dowOk = cron.daysOfWeek.has((weekday + 1) % 7); // civilOf is Monday-based; cron is Sunday = 0
  if (cron.domRestricted && cron.dowRestricted) return domOk || dowOk;
  return domOk && dowOk;
}

/** The times (seconds since midnight, ascending) the expression fires at on any day it matches. */
export function cronTimesOfDay(cron: CronExpression): number[] {
  return cron.hours.flatMap((h) => cron.minutes.map((m) => h * 3600 + m * 60));
}

// ---- Description ------------------------------------------------------------------------------------------

const DAY_LABELS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTH_LABELS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

function joinList(items: string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** Lists a set compactly: runs of 3+ consecutive values become "a to b". */
function describeSet(values: number[], label: (v: number) => string): string {
  const out: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j] + 1) j++;
    if (j - i >= 2) out.push(`${label(values[i])} to ${label(values[j])}`);
    else for (let k = i; k <= j; k++) out.push(label(values[k]));
    i = j + 1;
  }
  return joinList(out);
}

/** A regular step over the whole field (`*` / `*​/n`), or null. */
function stepOf(values: number[], min: number, max: number): number | null {
  if (values[0] !== min || values.length < 2) return null;
  const step = values[1] - values[0];
  const regular = values.every((v, i) => v === min + i * step) && values[values.length - 1] + step > max;
  return regular ? step : null;
}

const pad = (n: number) => String(n).padStart(2, "0");

function describeTime(c: CronExpression): string {
  const minuteStep = stepOf(c.minutes, 0, 59);
  const hourStep = stepOf(c.hours, 0, 23);
  if (c.hours.length * c.minutes.length <= 4) {
    return `at ${joinList(c.hours.flatMap((h) => c.minutes.map((m) => `${pad(h)}:${pad(m)}`)))}`;
  }
  const minutes =
    minuteStep === 1 ? "every minute" : minuteStep ? `every ${minuteStep} minutes`
    : c.minutes.length === 1 ? `at minute ${c.minutes[0]}` : `at minutes ${describeSet(c.minutes, String)}`;
  const hours =
    hourStep === 1 ? (minuteStep ? "" : " of every hour") : hourStep ? ` of every ${hourStep} hours`
    : ` during hour${c.hours.length > 1 ? "s" : ""} ${describeSet(c.hours, pad)}`;
  return minutes + hours;
}

function describeDays(c: CronExpression): string {
  const dom = [...c.daysOfMonth].sort((a, b) => a - b);
  const dow = [...c.daysOfWeek].sort((a, b) => a - b);
  const domText = `on day${dom.length > 1 ? "s" : ""} ${describeSet(dom, String)} of the month`;
  const dowText = `on ${describeSet(dow, (d) => DAY_LABELS[d])}`;
  const parts: string[] = [];
  const domAll = dom.length === 31;
  const dowAll = dow.length === 7;
  if (c.domRestricted && c.dowRestricted) parts.push(`${domText} or ${dowText}`);
  else {
    if (!domAll) parts.push(domText);
    if (!dowAll) parts.push(dowText);
  }
  if (c.months.size < 12) parts.push(`in ${describeSet([...c.months].sort((a, b) => a - b), (m) => MONTH_LABELS[m - 1])}`);
  return parts.length ? " " + parts.join(", ") : "";
}

/** "At 02:30 on Monday to Friday", "Every 15 minutes", …; throws CronSyntaxError on an invalid expression. */
export function describeCron(expression: string): string {
  const c = parseCron(expression);
  const text = describeTime(c) + describeDays(c);
  return text.charAt(0).toUpperCase() + text.slice(1);
}
