import { describe, expect, it } from "vitest";
import { civilOf, daysInMonth, isoDayOf, parseIsoDay, resolveWallTime, wallDayOf, wallOf } from "./zoned-time";

const wall = (iso: string) => Date.parse(iso + "Z"); // a wall-clock time on the wall axis
const iso = (ms: number) => new Date(ms).toISOString();

describe("wall clock ↔ instant", () => {
  it("reads an instant on a zone's wall clock", () => {
    expect(iso(wallOf(Date.parse("2025-07-01T12:00:00Z"), "Europe/Paris"))).toBe("2025-07-01T14:00:00.000Z");
    expect(iso(wallOf(Date.parse("2025-01-01T12:00:00Z"), "America/New_York"))).toBe("2025-01-01T07:00:00.000Z");
    expect(iso(wallOf(Date.parse("2025-01-01T00:00:00.250Z"), "UTC"))).toBe("2025-01-01T00:00:00.250Z");
    // Midnight reads 00, never 24.
    expect(iso(wallOf(Date.parse("2025-01-01T23:00:00Z"), "Europe/Paris"))).toBe("2025-01-02T00:00:00.000Z");
  });

  it("resolves ordinary wall times both sides of the year", () => {
    expect(iso(resolveWallTime(wall("2025-01-15T02:30:00"), "Europe/Paris"))).toBe("2025-01-15T01:30:00.000Z");
    expect(iso(resolveWallTime(wall("2025-07-15T02:30:00"), "Europe/Paris"))).toBe("2025-07-15T00:30:00.000Z");
    expect(iso(resolveWallTime(wall("2025-07-15T02:30:00"), "UTC"))).toBe("2025-07-15T02:30:00.000Z");
  });

  it("moves a time a spring-forward change removes to the first valid time after it", () => {
    // Paris, last Sunday of March 2025: 02:00 CET → 03:00 CEST.
    expect(iso(resolveWallTime(wall("2025-03-30T02:30:00"), "Europe/Paris"))).toBe("2025-03-30T01:00:00.000Z");
    expect(iso(resolveWallTime(wall("2025-03-30T02:00:00"), "Europe/Paris"))).toBe("2025-03-30T01:00:00.000Z");
    expect(iso(resolveWallTime(wall("2025-03-30T03:00:00"), "Europe/Paris"))).toBe("2025-03-30T01:00:00.000Z");
    // New York, 9 March 2025: 02:00 EST → 03:00 EDT.
    expect(iso(resolveWallTime(wall("2025-03-09T02:59:59"), "America/New_York"))).toBe("2025-03-09T07:00:00.000Z");
  });

  it("gives the first occurrence of a time a fall-back change repeats", () => {
    expect(iso(resolveWallTime(wall("2025-10-26T02:30:00"), "Europe/Paris"))).toBe("2025-10-26T00:30:00.000Z");
    expect(iso(resolveWallTime(wall("2025-11-02T01:30:00"), "America/New_York"))).toBe("2025-11-02T05:30:00.000Z");
  });

  it("does calendar arithmetic on day numbers", () => {
    const d = parseIsoDay("2024-02-29")!;
    expect(isoDayOf(d)).toBe("2024-02-29");
    expect(civilOf(d)).toEqual({ year: 2024, month: 2, date: 29, weekday: 3 }); // a Thursday
    expect(civilOf(parseIsoDay("2025-01-06")!).weekday).toBe(0); // a Monday
    expect(parseIsoDay("2025-02-29")).toBeNull();
    expect(parseIsoDay("2025-1-1")).toBeNull();
    expect(daysInMonth(2024, 2)).toBe(29);
    expect(daysInMonth(2100, 2)).toBe(28);
    expect(wallDayOf(Date.parse("2025-01-01T23:30:00Z"), "Europe/Paris")).toBe(parseIsoDay("2025-01-02"));
  });
});
