import { describe, expect, it } from "vitest";
import { cronMatchesDay, cronTimesOfDay, CronSyntaxError, describeCron, parseCron, validateCron } from "./cron";
import { parseIsoDay } from "./zoned-time";

const day = (iso: string) => parseIsoDay(iso)!;

describe("cron parser", () => {
  it("expands *, lists, ranges and steps", () => {
    const c = parseCron("*/15 9-17/4 1,15,28-31 * *");
    expect(c.minutes).toEqual([0, 15, 30, 45]);
    expect(c.hours).toEqual([9, 13, 17]);
    expect([...c.daysOfMonth].sort((a, b) => a - b)).toEqual([1, 15, 28, 29, 30, 31]);
    expect(c.months.size).toBe(12);
    expect(parseCron("5/20 * * * *").minutes).toEqual([5, 25, 45]); // a/n runs to the field's end
    expect(parseCron("  0   2 * * *  ").source).toBe("0 2 * * *");
  });

  it("understands month and weekday names in any case, and 7 as Sunday", () => {
    const c = parseCron("0 0 * jan,Jul-SEP mon-FRI");
    expect([...c.months].sort((a, b) => a - b)).toEqual([1, 7, 8, 9]);
    expect([...c.daysOfWeek].sort()).toEqual([1, 2, 3, 4, 5]);
    expect([...parseCron("0 0 * * 7").daysOfWeek]).toEqual([0]);
    expect([...parseCron("0 0 * * SUN,7,0").daysOfWeek]).toEqual([0]);
  });

  it("rejects malformed expressions with a reason", () => {
    for (const bad of ["", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
      "*/0 * * * *", "5-1 * * * *", "a * * * *", "1,,2 * * * *", "1-2-3 * * * *", "* * * FOO *"]) {
      expect(() => parseCron(bad), bad).toThrow(CronSyntaxError);
    }
    expect(validateCron("61 * * * *")).toBe("minute: 61 is outside 0–59");
    expect(validateCron("30 2 * * 1-5")).toBeNull();
  });

  it("lists a day's times in order", () => {
    expect(cronTimesOfDay(parseCron("0,30 1,2 * * *"))).toEqual([3600, 5400, 7200, 9000]);
  });

  it("matches a day on either day field when both are restricted (OR rule)", () => {
    const c = parseCron("0 0 13 * FRI");
    expect(cronMatchesDay(c, day("2025-01-13"))).toBe(true); // the 13th, a Monday
    expect(cronMatchesDay(c, day("2025-01-10"))).toBe(true); // a Friday
    expect(cronMatchesDay(c, day("2025-01-14"))).toBe(false);
  });

  it("requires both when one day field is unrestricted or starts with *", () => {
    expect(cronMatchesDay(parseCron("0 0 * * FRI"), day("2025-01-13"))).toBe(false);
    const c = parseCron("0 0 */2 * FRI"); // odd days that are Fridays
    expect(cronMatchesDay(c, day("2025-01-03"))).toBe(true);
    expect(cronMatchesDay(c, day("2025-01-10"))).toBe(false);
    expect(cronMatchesDay(c, day("2025-01-05"))).toBe(false);
    expect(cronMatchesDay(parseCron("0 0 1 * *"), day("2025-02-01"))).toBe(true);
  });

  it("restricts by month", () => {
    const c = parseCron("0 0 * FEB *");
    expect(cronMatchesDay(c, day("2025-02-10"))).toBe(true);
    expect(cronMatchesDay(c, day("2025-03-10"))).toBe(false);
  });
});

describe("describeCron", () => {
  it.each([
    ["30 2 * * 1-5", "At 02:30 on Monday to Friday"],
    ["*/15 * * * *", "Every 15 minutes"],
    ["* * * * *", "Every minute"],
    ["0 */6 * * *", "At 00:00, 06:00, 12:00 and 18:00"],
    ["0 9-17 * * *", "At minute 0 during hours 09 to 17"],
    ["15 * * * *", "At minute 15 of every hour"],
    ["0 0 1 * MON", "At 00:00 on day 1 of the month or on Monday"],
    ["5 4 * JAN,JUL SUN", "At 04:05 on Sunday, in January and July"],
    ["0 3 1,15 * *", "At 03:00 on days 1 and 15 of the month"],
  ])("%s → %s", (expr, text) => {
    expect(describeCron(expr)).toBe(text);
  });

  it("throws on an invalid expression", () => {
    expect(() => describeCron("nope")).toThrow(CronSyntaxError);
  });
});
