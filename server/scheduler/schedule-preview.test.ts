import { describe, expect, it } from "vitest";
import { defaultSettings } from "../settings/defaults";
import { schedulePreview } from "./schedule-preview";

const scheduler = (edit: (s: ReturnType<typeof defaultSettings>["scheduler"]) => void) => {
  const s = defaultSettings("/srv/backups").scheduler;
  edit(s);
  return s;
};
const NOW = new Date(2031, 4, 6, 12, 0); // Tuesday 6 May 2031, noon (server time)
const local = (d: Date) => [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes()];

describe("schedulePreview", () => {
  it("previews 4D's presets, not only Cron: Daily, Weekly, Hourly, Monthly", () => {
    const daily = schedulePreview(scheduler((s) => { s.frequency = "Daily"; s.daily.hour = 2.5 * 3600; }), null, NOW);
    expect(daily.error).toBeNull();
    expect(daily.next.map(local)).toEqual([7, 8, 9, 10, 11].map((d) => [2031, 5, d, 2, 30]));
    const weekly = schedulePreview(scheduler((s) => { s.frequency = "Weekly"; s.weekly.days.Monday = { save: true, hour: 3600 }; s.weekly.days.Thursday = { save: true, hour: 7200 }; }), null, NOW);
    expect(weekly.next.map(local).slice(0, 3)).toEqual([[2031, 5, 8, 2, 0], [2031, 5, 12, 1, 0], [2031, 5, 15, 2, 0]]);
    const hourly = schedulePreview(scheduler((s) => { s.frequency = "Hourly"; s.hourly.every = 6; }), null, NOW);
    expect(hourly.next.map(local).slice(0, 3)).toEqual([[2031, 5, 6, 18, 0], [2031, 5, 7, 0, 0], [2031, 5, 7, 6, 0]]);
    const monthly = schedulePreview(scheduler((s) => { s.frequency = "Monthly"; s.monthly.day = 31; s.monthly.hour = 0; }), null, NOW);
    expect(monthly.next.map(local).slice(0, 2)).toEqual([[2031, 5, 31, 0, 0], [2031, 6, 30, 0, 0]]);
    expect(schedulePreview(scheduler(() => {}), null, NOW)).toEqual({ error: null, description: null, next: [] });
  });

  it("counts \"every X\" from the saved anchor while the schedule is the saved one, from today once it changes", () => {
    const saved = scheduler((s) => { s.frequency = "Daily"; s.daily.every = 2; s.daily.hour = 3600; s.anchor = "2031-05-05"; });
    // Anchored on the 5th: the 7th, 9th… (not the 6th).
    expect(schedulePreview({ ...saved, anchor: null }, saved, NOW).next.map((d) => d.getDate()).slice(0, 3)).toEqual([7, 9, 11]);
    // Every 3 days is a change: counted from today, the 6th (its 01:00 has passed), so the 9th, 12th…
    expect(schedulePreview({ ...saved, daily: { every: 3, hour: 3600 } }, saved, NOW).next.map((d) => d.getDate()).slice(0, 2)).toEqual([9, 12]);
  });

  it("says what is wrong instead of a preview", () => {
    expect(schedulePreview(scheduler((s) => { s.frequency = "Hourly"; s.hourly.every = 30; }), null, NOW).error).toBe("Hourly: every … hours must be a whole number from 1 to 24.");
    expect(schedulePreview(scheduler((s) => { s.frequency = "Cron"; s.cron = "61 * * * *"; }), null, NOW).error).toMatch(/minute/i);
    const cron = schedulePreview(scheduler((s) => { s.frequency = "Cron"; s.cron = "30 2 * * 1-5"; }), null, NOW);
    expect(cron.description).toMatch(/02:30/);
    expect(cron.next.map(local)[0]).toEqual([2031, 5, 7, 2, 30]);
  });
});
