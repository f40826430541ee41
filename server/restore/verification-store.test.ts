// When a scheduled verification is due: the last scheduled time at or before now, against the last run.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import { lastScheduledTime, verificationDue, VerificationStore } from "./verification-store";

const local = (y: number, mo: number, d: number, h = 0, mi = 0) => new Date(y, mo - 1, d, h, mi);
let dir: string | null = null;
afterEach(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); dir = null; });

describe("scheduled verification", () => {
  it("finds the last scheduled time, daily and weekly", () => {
    expect(lastScheduledTime({ frequency: "Never", hour: 3, weekday: 0 }, local(2026, 11, 26, 12))).toBeNull();
    expect(lastScheduledTime({ frequency: "Daily", hour: 3, weekday: 0 }, local(2026, 11, 26, 12))).toEqual(local(2026, 11, 26, 3));
    expect(lastScheduledTime({ frequency: "Daily", hour: 3, weekday: 0 }, local(2026, 11, 26, 2, 59))).toEqual(local(2026, 11, 25, 3));
    // 2026-11-26 is a Thursday; Monday 03:00 before it is the 23rd.
    expect(lastScheduledTime({ frequency: "Weekly", hour: 3, weekday: 1 }, local(2026, 11, 26, 12))).toEqual(local(2026, 11, 23, 3));
    expect(lastScheduledTime({ frequency: "Weekly", hour: 13, weekday: 4 }, local(2026, 11, 26, 12))).toEqual(local(2026, 11, 19, 13));
  });

  it("is due once per scheduled time, also when the tick comes late, and not for a time before the schedule was saved", () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-verify-"));
    const store = new VerificationStore(openConsoleDb(path.join(dir, "console.sqlite")));
    store.setSchedule({ frequency: "Daily", hour: 3, weekday: 0 }, local(2026, 11, 26, 12));
    expect(verificationDue(store.schedule(), local(2026, 11, 26, 23))).toBe(false);
    expect(verificationDue(store.schedule(), local(2026, 11, 27, 3, 0))).toBe(true);
    expect(verificationDue(store.schedule(), local(2026, 11, 27, 9, 30))).toBe(true);
    store.markRun(local(2026, 11, 27, 9, 30));
    expect(verificationDue(store.schedule(), local(2026, 11, 27, 23))).toBe(false);
    expect(store.schedule()).toMatchObject({ frequency: "Daily", hour: 3 });
    store.record("/x/A[0001].zip", { at: "2026-11-27T09:30:00.000Z", ok: false, problems: ["bad entry"] });
    expect(store.get("/x/A[0001].zip")).toEqual({ at: "2026-11-27T09:30:00.000Z", ok: false, problems: ["bad entry"] });
  });
});
