import { describe, expect, it } from "vitest";
import { CronSyntaxError } from "./cron";
import { firstMissedRun, nextRun, nextRuns, type SchedulerSettings } from "./next-run";
import { hms, local, sched } from "./test-helpers";
import { localTimeZone } from "./zoned-time";

const UTC = { timeZone: "UTC" };
const PARIS = { timeZone: "Europe/Paris" };
const NY = { timeZone: "America/New_York" };
const at = (iso: string) => new Date(iso);
const isos = (ds: Date[]) => ds.map((d) => d.toISOString().replace(":00.000Z", "Z"));
const series = (s: SchedulerSettings, after: string, n: number, opts = UTC) => isos(nextRuns(s, at(after), n, opts));
const localSeries = (s: SchedulerSettings, after: string, n: number, tz: string) =>
  nextRuns(s, at(after), n, { timeZone: tz }).map((d) => local(d, tz));

describe("Never", () => {
  it("never fires", () => {
    expect(nextRun(sched({ frequency: "Never" }), at("2025-01-01T00:00:00Z"), UTC)).toBeNull();
    expect(nextRuns(sched({ frequency: "Never" }), at("2025-01-01T00:00:00Z"), 5, UTC)).toEqual([]);
  });
});

describe("Daily", () => {
  const daily = (every: number, hour: number, anchor: string | null = null) =>
    sched({ frequency: "Daily", daily: { every, hour }, anchor });

  it("fires the first time strictly after `after`", () => {
    const s = daily(1, hms(2, 30));
    expect(nextRun(s, at("2025-01-10T01:00:00Z"), UTC)?.toISOString()).toBe("2025-01-10T02:30:00.000Z");
    expect(nextRun(s, at("2025-01-10T02:30:00Z"), UTC)?.toISOString()).toBe("2025-01-11T02:30:00.000Z");
    expect(nextRun(s, at("2025-01-10T02:29:59.999Z"), UTC)?.toISOString()).toBe("2025-01-10T02:30:00.000Z");
  });

  it("reads times on the given zone's wall clock", () => {
    expect(local(nextRun(daily(1, hms(2, 30)), at("2025-01-10T12:00:00Z"), PARIS), "Europe/Paris")).toBe("2025-01-11 02:30:00 +01:00");
    expect(nextRun(daily(1, hms(23, 15)), at("2025-07-10T12:00:00Z"), NY)?.toISOString()).toBe("2025-07-11T03:15:00.000Z");
  });

  it("counts every X days from the anchor", () => {
    expect(series(daily(3, hms(10), "2025-01-01"), "2025-01-05T00:00:00Z", 3)).toEqual(["2025-01-07T10:00Z", "2025-01-10T10:00Z", "2025-01-13T10:00Z"]);
    // The anchor fixes the phase only: one in the future gives the same series.
    expect(series(daily(3, hms(10), "2025-01-10"), "2025-01-05T00:00:00Z", 2)).toEqual(["2025-01-07T10:00Z", "2025-01-10T10:00Z"]);
    // Across a month and a year end.
    expect(series(daily(10, hms(0), "2024-12-25"), "2024-12-25T00:00:00Z", 3)).toEqual(["2025-01-04T00:00Z", "2025-01-14T00:00Z", "2025-01-24T00:00Z"]);
  });

  it("counts from after's day when there is no anchor", () => {
    expect(nextRun(daily(3, hms(10)), at("2025-01-05T08:00:00Z"), UTC)?.toISOString()).toBe("2025-01-05T10:00:00.000Z");
    expect(nextRun(daily(3, hms(10)), at("2025-01-05T11:00:00Z"), UTC)?.toISOString()).toBe("2025-01-08T10:00:00.000Z");
    // The preview keeps one phase.
    expect(series(daily(3, hms(10)), "2025-01-05T11:00:00Z", 3)).toEqual(["2025-01-08T10:00Z", "2025-01-11T10:00Z", "2025-01-14T10:00Z"]);
  });

  it("runs a 02:30 backup at 03:00 when spring-forward removes 02:30 (Paris, last Sunday of March)", () => {
    expect(localSeries(daily(1, hms(2, 30)), "2025-03-29T12:00:00Z", 3, "Europe/Paris")).toEqual([
      "2025-03-30 03:00:00 +02:00", "2025-03-31 02:30:00 +02:00", "2025-04-01 02:30:00 +02:00",
    ]);
    expect(nextRun(daily(1, hms(2, 30)), at("2025-03-29T12:00:00Z"), PARIS)?.toISOString()).toBe("2025-03-30T01:00:00.000Z");
  });

  it("runs a 02:30 backup once when fall-back repeats 02:30 (Paris, last Sunday of October)", () => {
    const s = daily(1, hms(2, 30));
    expect(isos(nextRuns(s, at("2025-10-25T12:00:00Z"), 3, PARIS))).toEqual(["2025-10-26T00:30Z", "2025-10-27T01:30Z", "2025-10-28T01:30Z"]);
    // Between the two occurrences, the next is tomorrow's, not the repeat.
    expect(nextRun(s, at("2025-10-26T01:00:00Z"), PARIS)?.toISOString()).toBe("2025-10-27T01:30:00.000Z");
  });

  it("applies the same DST rules in New York", () => {
    expect(local(nextRun(daily(1, hms(2, 15)), at("2025-03-08T12:00:00Z"), NY), "America/New_York")).toBe("2025-03-09 03:00:00 -04:00");
    expect(isos(nextRuns(daily(1, hms(1, 30)), at("2025-11-01T12:00:00Z"), 2, NY))).toEqual(["2025-11-02T05:30Z", "2025-11-03T06:30Z"]);
  });

  it("uses the server's zone by default", () => {
    const s = daily(1, hms(2, 30));
    const after = at("2025-03-29T12:00:00Z");
    expect(nextRun(s, after)).toEqual(nextRun(s, after, { timeZone: localTimeZone() }));
  });
});

describe("Hourly", () => {
  const hourly = (every: number, startingAt: number, anchor: string | null = "2025-01-01") =>
    sched({ frequency: "Hourly", hourly: { every, startingAt }, anchor });

  it("fires every X hours from StartingAt, continuing across midnight", () => {
    expect(series(hourly(5, 0), "2025-01-01T19:00:00Z", 7)).toEqual([
      "2025-01-01T20:00Z", "2025-01-02T01:00Z", "2025-01-02T06:00Z", "2025-01-02T11:00Z", "2025-01-02T16:00Z", "2025-01-02T21:00Z", "2025-01-03T02:00Z",
    ]);
    // Counted continuously from the anchor day: 70 h and 77 h after Jan 1 01:30.
    expect(nextRun(hourly(7, hms(1, 30)), at("2025-01-04T00:00:00Z"), UTC)?.toISOString()).toBe("2025-01-04T06:30:00.000Z");
    // StartingAt fixes the phase, also before it on the anchor day.
    expect(series(hourly(4, hms(9, 15)), "2025-01-01T00:00:00Z", 3)).toEqual(["2025-01-01T01:15Z", "2025-01-01T05:15Z", "2025-01-01T09:15Z"]);
  });

  it("every hour and every 24 hours", () => {
    expect(series(hourly(1, 0), "2025-01-01T23:30:00Z", 2)).toEqual(["2025-01-02T00:00Z", "2025-01-02T01:00Z"]);
    expect(series(hourly(24, hms(6)), "2025-01-01T07:00:00Z", 2)).toEqual(["2025-01-02T06:00Z", "2025-01-03T06:00Z"]);
  });

  it("collapses the hour spring-forward removes and runs a repeated hour once", () => {
    expect(localSeries(hourly(1, 0, "2025-03-01"), "2025-03-09T05:30:00Z", 3, "America/New_York")).toEqual([
      "2025-03-09 01:00:00 -05:00", "2025-03-09 03:00:00 -04:00", "2025-03-09 04:00:00 -04:00",
    ]);
    expect(localSeries(hourly(1, 0, "2025-10-01"), "2025-10-25T22:30:00Z", 4, "Europe/Paris")).toEqual([
      "2025-10-26 01:00:00 +02:00", "2025-10-26 02:00:00 +02:00", "2025-10-26 03:00:00 +01:00", "2025-10-26 04:00:00 +01:00",
    ]);
  });
});

describe("Weekly", () => {
  it("fires on the ticked weekdays, each at its own hour", () => {
    const s = sched({ frequency: "Weekly", weekly: { days: { Monday: hms(8), Thursday: hms(20, 30) } } });
    expect(series(s, "2025-01-07T00:00:00Z", 3)).toEqual(["2025-01-09T20:30Z", "2025-01-13T08:00Z", "2025-01-16T20:30Z"]);
  });

  it("counts every X weeks from the anchor's Monday-based week", () => {
    // Anchor Wednesday 2025-01-01: its week starts Monday 2024-12-30 and holds Sunday 2025-01-05.
    const s = sched({ frequency: "Weekly", anchor: "2025-01-01", weekly: { every: 2, days: { Monday: hms(8), Sunday: hms(8) } } });
    expect(series(s, "2025-01-01T00:00:00Z", 4)).toEqual(["2025-01-05T08:00Z", "2025-01-13T08:00Z", "2025-01-19T08:00Z", "2025-01-27T08:00Z"]);
    const three = sched({ frequency: "Weekly", anchor: "2025-01-15", weekly: { every: 3, days: { Friday: hms(1) } } });
    expect(series(three, "2025-01-01T00:00:00Z", 3)).toEqual(["2025-01-17T01:00Z", "2025-02-07T01:00Z", "2025-02-28T01:00Z"]);
  });

  it("never fires with no day ticked", () => {
    expect(nextRun(sched({ frequency: "Weekly", weekly: { every: 1, days: {} } }), at("2025-01-01T00:00:00Z"), UTC)).toBeNull();
  });

  it("moves a weekday time DST removes", () => {
    const s = sched({ frequency: "Weekly", weekly: { days: { Sunday: hms(2, 30) } } });
    expect(local(nextRun(s, at("2025-03-25T00:00:00Z"), PARIS), "Europe/Paris")).toBe("2025-03-30 03:00:00 +02:00");
  });
});

describe("Monthly", () => {
  const monthly = (every: number, day: number, hour = 0, anchor: string | null = null) =>
    sched({ frequency: "Monthly", monthly: { every, day, hour }, anchor });

  it("runs on the month's last day when the day is past its end", () => {
    expect(series(monthly(1, 31), "2025-01-01T00:00:00Z", 6)).toEqual([
      "2025-01-31T00:00Z", "2025-02-28T00:00Z", "2025-03-31T00:00Z", "2025-04-30T00:00Z", "2025-05-31T00:00Z", "2025-06-30T00:00Z",
    ]);
  });

  it.each([
    [29, "2024-02-29", "2025-02-28"],
    [30, "2024-02-29", "2025-02-28"],
    [31, "2024-02-29", "2025-02-28"],
    [28, "2024-02-28", "2025-02-28"],
  ])("day %i in February of a leap and a non-leap year", (day, leap, nonLeap) => {
    expect(nextRun(monthly(1, day, hms(3)), at("2024-02-01T00:00:00Z"), UTC)?.toISOString().slice(0, 10)).toBe(leap);
    expect(nextRun(monthly(1, day, hms(3)), at("2025-02-01T00:00:00Z"), UTC)?.toISOString().slice(0, 10)).toBe(nonLeap);
  });

  it("counts every X months from the anchor's month", () => {
    expect(series(monthly(3, 10, hms(4), "2025-01-15"), "2025-01-15T00:00:00Z", 3)).toEqual(["2025-04-10T04:00Z", "2025-07-10T04:00Z", "2025-10-10T04:00Z"]);
    // Phase from a future anchor: June → March, June, September…
    expect(series(monthly(3, 10, hms(4), "2025-06-01"), "2025-01-15T00:00:00Z", 2)).toEqual(["2025-03-10T04:00Z", "2025-06-10T04:00Z"]);
    // Yearly on Feb 29: the last day of February in other years.
    expect(series(monthly(12, 29, 0, "2024-02-01"), "2024-01-01T00:00:00Z", 5).map((d) => d.slice(0, 10))).toEqual([
      "2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29",
    ]);
    // Across a year end.
    expect(series(monthly(2, 1, 0, "2024-11-20"), "2024-11-20T00:00:00Z", 2)).toEqual(["2025-01-01T00:00Z", "2025-03-01T00:00Z"]);
  });

  it("runs on the wall clock of the zone, DST included", () => {
    expect(local(nextRun(monthly(1, 30, hms(2, 30)), at("2025-03-01T00:00:00Z"), PARIS), "Europe/Paris")).toBe("2025-03-30 03:00:00 +02:00");
    // 2025-04-01T00:00Z is still March 31 (20:00) in New York.
    expect(local(nextRun(monthly(1, 31, hms(23)), at("2025-04-01T00:00:00Z"), NY), "America/New_York")).toBe("2025-03-31 23:00:00 -04:00");
    expect(local(nextRun(monthly(1, 31, hms(23)), at("2025-04-01T12:00:00Z"), NY), "America/New_York")).toBe("2025-04-30 23:00:00 -04:00");
  });
});

describe("Cron", () => {
  const cron = (expr: string) => sched({ frequency: "Cron", cron: expr });

  it("steps, ranges and names", () => {
    expect(series(cron("*/15 9-17 * * MON-FRI"), "2025-01-03T16:40:00Z", 6)).toEqual([
      "2025-01-03T16:45Z", "2025-01-03T17:00Z", "2025-01-03T17:15Z", "2025-01-03T17:30Z", "2025-01-03T17:45Z", "2025-01-06T09:00Z",
    ]);
    expect(series(cron("0 12 1 jan,Jul *"), "2025-01-02T00:00:00Z", 2)).toEqual(["2025-07-01T12:00Z", "2026-01-01T12:00Z"]);
    expect(series(cron("30 4 * * 7"), "2025-01-01T00:00:00Z", 2)).toEqual(["2025-01-05T04:30Z", "2025-01-12T04:30Z"]);
  });

  it("OR rule when both day fields are restricted", () => {
    expect(series(cron("0 0 13 * FRI"), "2025-01-01T00:00:00Z", 4)).toEqual(["2025-01-03T00:00Z", "2025-01-10T00:00Z", "2025-01-13T00:00Z", "2025-01-17T00:00Z"]);
    // A day field starting with * is unrestricted: both must match.
    expect(series(cron("0 0 */2 * FRI"), "2025-01-01T00:00:00Z", 4)).toEqual(["2025-01-03T00:00Z", "2025-01-17T00:00Z", "2025-01-31T00:00Z", "2025-02-07T00:00Z"]);
  });

  it("finds rare days and knows impossible ones", () => {
    expect(nextRun(cron("30 4 29 2 *"), at("2025-01-01T00:00:00Z"), UTC)?.toISOString()).toBe("2028-02-29T04:30:00.000Z");
    expect(nextRun(cron("0 0 29 2 *"), at("2096-03-01T00:00:00Z"), UTC)?.toISOString()).toBe("2104-02-29T00:00:00.000Z");
    expect(nextRun(cron("0 0 30 2 *"), at("2025-01-01T00:00:00Z"), UTC)).toBeNull();
    expect(nextRun(cron("0 0 31 4,6,9,11 *"), at("2025-01-01T00:00:00Z"), UTC)).toBeNull();
  });

  it("applies the DST rules: a removed time moves to the first valid one, a repeated time runs once", () => {
    expect(localSeries(cron("30 2 * * *"), "2025-03-29T12:00:00Z", 2, "Europe/Paris")).toEqual(["2025-03-30 03:00:00 +02:00", "2025-03-31 02:30:00 +02:00"]);
    expect(isos(nextRuns(cron("30 2 * * *"), at("2025-10-25T12:00:00Z"), 2, PARIS))).toEqual(["2025-10-26T00:30Z", "2025-10-27T01:30Z"]);
    // Every 30 minutes through the New York spring gap: 01:30 EST, then 03:00 EDT (02:00 and 02:30 collapse), 03:30.
    expect(localSeries(cron("*/30 * * * *"), "2025-03-09T06:00:00Z", 4, "America/New_York")).toEqual([
      "2025-03-09 01:30:00 -05:00", "2025-03-09 03:00:00 -04:00", "2025-03-09 03:30:00 -04:00", "2025-03-09 04:00:00 -04:00",
    ]);
  });

  it("every minute is quick and exact", () => {
    expect(series(cron("* * * * *"), "2025-01-01T00:00:30Z", 2)).toEqual(["2025-01-01T00:01Z", "2025-01-01T00:02Z"]);
  });

  it("throws on an invalid expression", () => {
    expect(() => nextRun(cron("61 * * * *"), at("2025-01-01T00:00:00Z"), UTC)).toThrow(CronSyntaxError);
    expect(() => nextRun(cron(""), at("2025-01-01T00:00:00Z"), UTC)).toThrow(CronSyntaxError);
  });
});

describe("firstMissedRun", () => {
  const s = sched({ frequency: "Daily", daily: { every: 1, hour: hms(2) } });

  it("tells whether a scheduled time fell in (from, to]", () => {
    expect(firstMissedRun(s, at("2025-01-01T12:00:00Z"), at("2025-01-03T12:00:00Z"), UTC)?.toISOString()).toBe("2025-01-02T02:00:00.000Z");
    expect(firstMissedRun(s, at("2025-01-01T12:00:00Z"), at("2025-01-02T01:59:59Z"), UTC)).toBeNull();
    expect(firstMissedRun(s, at("2025-01-01T12:00:00Z"), at("2025-01-02T02:00:00Z"), UTC)?.toISOString()).toBe("2025-01-02T02:00:00.000Z");
    expect(firstMissedRun(s, at("2025-01-02T02:00:00Z"), at("2025-01-02T12:00:00Z"), UTC)).toBeNull(); // `from` excluded
    expect(firstMissedRun(sched({ frequency: "Never" }), at("2025-01-01T00:00:00Z"), at("2026-01-01T00:00:00Z"), UTC)).toBeNull();
  });
});
