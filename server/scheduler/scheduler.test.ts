import cron from "node-cron";
import { describe, expect, it } from "vitest";
import type { SchedulerSettings } from "./next-run";
import { HEARTBEAT, Scheduler, settingsUnavailable, type SettingsUnavailable } from "./scheduler";
import { hms, sched } from "./test-helpers";

/** A scheduler on a hand-driven clock and hand-driven ticks, recording its calls. */
function harness(initial: SchedulerSettings | SettingsUnavailable, timeZone = "UTC", start = "2025-01-01T12:00:00Z") {
  const h = {
    now: new Date(start),
    settings: initial as SchedulerSettings | SettingsUnavailable | Error,
    due: [] as string[],
    skipped: [] as [string, string][],
    errors: [] as unknown[],
    onDue: async (_d: Date) => {},
    scheduler: null as unknown as Scheduler,
    /** Sets the clock and ticks. */
    async at(iso: string) {
      h.now = new Date(iso);
      await h.scheduler.tick();
    },
    next: () => h.scheduler.nextDue()?.toISOString() ?? null,
  };
  h.scheduler = new Scheduler({
    getScheduler: async () => {
      if (h.settings instanceof Error) throw h.settings;
      return structuredClone(h.settings);
    },
    onDue: async (d) => {
      h.due.push(d.toISOString());
      await h.onDue(d);
    },
    onSkipped: (d, reason) => void h.skipped.push([d.toISOString(), reason]),
    onError: (e) => void h.errors.push(e),
    now: () => h.now,
    timeZone,
    tick: "manual",
  });
  return h;
}

const daily0230 = sched({ frequency: "Daily", daily: { every: 1, hour: hms(2, 30) }, anchor: "2025-01-01" });

describe("Scheduler", () => {
  it("fires once when the clock reaches the due time, then moves to the next", async () => {
    const h = harness(daily0230);
    await h.scheduler.start();
    expect(h.next()).toBe("2025-01-02T02:30:00.000Z");
    await h.at("2025-01-02T02:29:50Z");
    expect(h.due).toEqual([]);
    await h.at("2025-01-02T02:30:00Z");
    expect(h.due).toEqual(["2025-01-02T02:30:00.000Z"]);
    expect(h.next()).toBe("2025-01-03T02:30:00.000Z");
    await h.at("2025-01-02T02:30:00Z");
    await h.at("2025-01-02T02:30:10Z");
    expect(h.due).toHaveLength(1);
    expect(h.errors).toEqual([]);
  });

  it("runs once for a late tick that passed several due times, then resumes the normal series", async () => {
    const h = harness(sched({ frequency: "Hourly", hourly: { every: 1, startingAt: 0 }, anchor: "2025-01-01" }), "UTC", "2025-01-01T00:00:00Z");
    await h.scheduler.start();
    expect(h.next()).toBe("2025-01-01T01:00:00.000Z");
    await h.at("2025-01-01T05:20:00Z"); // the event loop was stuck for hours
    expect(h.due).toEqual(["2025-01-01T01:00:00.000Z"]);
    expect(h.next()).toBe("2025-01-01T06:00:00.000Z");
    await h.at("2025-01-01T05:59:59Z");
    await h.at("2025-01-01T06:00:03Z"); // a tick a few seconds late still runs it
    expect(h.due).toEqual(["2025-01-01T01:00:00.000Z", "2025-01-01T06:00:00.000Z"]);
    expect(h.next()).toBe("2025-01-01T07:00:00.000Z");
  });

  it("never goes back in the series when the clock does", async () => {
    const h = harness(daily0230);
    await h.scheduler.start();
    await h.at("2025-01-02T02:30:00Z");
    await h.at("2025-01-02T02:00:00Z"); // clock set back
    await h.at("2025-01-02T02:30:00Z");
    expect(h.due).toEqual(["2025-01-02T02:30:00.000Z"]);
    expect(h.next()).toBe("2025-01-03T02:30:00.000Z");
  });

  it("runs a 02:30 Paris backup at 03:00 on spring-forward night and once on fall-back night", async () => {
    const h = harness({ ...daily0230, anchor: null }, "Europe/Paris", "2025-03-29T12:00:00Z");
    await h.scheduler.start();
    expect(h.next()).toBe("2025-03-30T01:00:00.000Z"); // 03:00 CEST
    await h.at("2025-03-30T00:59:50Z");
    await h.at("2025-03-30T01:00:00Z");
    expect(h.due).toEqual(["2025-03-30T01:00:00.000Z"]);
    expect(h.next()).toBe("2025-03-31T00:30:00.000Z");

    h.now = new Date("2025-10-25T12:00:00Z");
    await h.scheduler.reschedule();
    h.due = [];
    for (let t = Date.parse("2025-10-26T00:00:00Z"); t <= Date.parse("2025-10-26T03:00:00Z"); t += 10_000) {
      await h.at(new Date(t).toISOString());
    }
    expect(h.due).toEqual(["2025-10-26T00:30:00.000Z"]); // 02:30 CEST only, not 02:30 CET an hour later
  });

  it("keeps one phase for 'every X hours' when the settings have no anchor", async () => {
    const h = harness(sched({ frequency: "Hourly", hourly: { every: 5, startingAt: 0 } }), "UTC", "2025-01-01T00:00:00Z");
    await h.scheduler.start();
    for (let t = Date.parse("2025-01-01T00:00:00Z"); t <= Date.parse("2025-01-02T12:00:00Z"); t += 600_000) {
      await h.at(new Date(t).toISOString());
    }
    expect(h.due.map((d) => d.slice(5, 16))).toEqual(["01-01T05:00", "01-01T10:00", "01-01T15:00", "01-01T20:00", "01-02T01:00", "01-02T06:00", "01-02T11:00"]);
  });

  it("reschedule() applies new settings at once, counting from now", async () => {
    const h = harness(daily0230);
    await h.scheduler.start();
    h.settings = sched({ frequency: "Weekly", anchor: "2025-01-01", weekly: { days: { Friday: hms(18) } } });
    expect((await h.scheduler.reschedule())?.toISOString()).toBe("2025-01-03T18:00:00.000Z");
    expect(h.next()).toBe("2025-01-03T18:00:00.000Z");
    await h.at("2025-01-02T02:30:00Z");
    expect(h.due).toEqual([]);
    await h.at("2025-01-03T18:00:00Z");
    expect(h.due).toEqual(["2025-01-03T18:00:00.000Z"]);

    h.settings = sched({ frequency: "Never" });
    await h.scheduler.reschedule();
    expect(h.next()).toBeNull();
    await h.at("2025-02-01T00:00:00Z");
    expect(h.due).toHaveLength(1);
  });

  it("notices settings changed without reschedule() when a time comes", async () => {
    const h = harness(daily0230);
    await h.scheduler.start();
    h.settings = sched({ frequency: "Never" });
    await h.at("2025-01-02T02:30:00Z");
    expect(h.due).toEqual([]);
    expect(h.next()).toBeNull();
  });

  it("calls onSkipped for each time it would have fired while the settings can't be read, timed by the last good schedule", async () => {
    const h = harness(daily0230);
    await h.scheduler.start();
    h.settings = settingsUnavailable("Settings/Backup.4DSettings line 12: unclosed tag");
    await h.at("2025-01-02T02:30:00Z");
    await h.at("2025-01-03T02:30:05Z");
    expect(h.due).toEqual([]);
    expect(h.skipped).toEqual([
      ["2025-01-02T02:30:00.000Z", "Settings/Backup.4DSettings line 12: unclosed tag"],
      ["2025-01-03T02:30:00.000Z", "Settings/Backup.4DSettings line 12: unclosed tag"],
    ]);
    expect(h.scheduler.settingsProblem()).toContain("unclosed tag");
    // A reschedule while still unreadable keeps the last good schedule.
    await h.scheduler.reschedule();
    expect(h.next()).toBe("2025-01-04T02:30:00.000Z");

    h.settings = new Error("EACCES: permission denied"); // a read that throws counts the same
    await h.at("2025-01-04T02:30:00Z");
    expect(h.skipped[2]).toEqual(["2025-01-04T02:30:00.000Z", "EACCES: permission denied"]);

    h.settings = daily0230; // fixed
    await h.at("2025-01-05T02:30:00Z");
    expect(h.due).toEqual(["2025-01-05T02:30:00.000Z"]);
    expect(h.skipped).toHaveLength(3);
    expect(h.scheduler.settingsProblem()).toBeNull();
  });

  it("has no schedule when the settings were never readable", async () => {
    const h = harness(settingsUnavailable("missing"));
    await h.scheduler.start();
    expect(h.next()).toBeNull();
    expect(h.scheduler.settingsProblem()).toBe("missing");
    await h.at("2025-01-05T00:00:00Z");
    expect(h.due).toEqual([]);
    expect(h.skipped).toEqual([]);
  });

  it("reports an invalid cron expression and a failing callback without stopping", async () => {
    const h = harness(sched({ frequency: "Cron", cron: "99 * * * *" }));
    await h.scheduler.start();
    expect(h.next()).toBeNull();
    expect(String(h.errors[0])).toContain("minute: 99");

    h.settings = sched({ frequency: "Cron", cron: "0 * * * *" });
    await h.scheduler.reschedule();
    h.onDue = async () => { throw new Error("boom"); };
    await h.at("2025-01-01T13:00:00Z");
    expect(String(h.errors[1])).toContain("boom");
    expect(h.next()).toBe("2025-01-01T14:00:00.000Z");
  });

  it("a tick during a long onDue still fires the next due time (the automation records the overlap)", async () => {
    const h = harness(sched({ frequency: "Cron", cron: "*/5 * * * *" }));
    await h.scheduler.start();
    let finish!: () => void;
    h.onDue = () => new Promise<void>((r) => (finish = r));
    const first = h.at("2025-01-01T12:05:00Z");
    await new Promise((r) => setTimeout(r, 0));
    h.onDue = async () => {};
    await h.at("2025-01-01T12:10:00Z");
    expect(h.due).toEqual(["2025-01-01T12:05:00.000Z", "2025-01-01T12:10:00.000Z"]);
    finish();
    await first;
  });

  it("the next due time is exactly the date onDue receives", async () => {
    const h = harness(sched({ frequency: "Monthly", monthly: { every: 1, day: 31, hour: hms(1, 2, 3) }, anchor: "2025-01-01" }));
    await h.scheduler.start();
    for (const _ of [1, 2, 3]) {
      const shown = h.next()!;
      await h.at(new Date(Date.parse(shown) + 7_000).toISOString());
      expect(h.due.at(-1)).toBe(shown);
    }
    expect(h.due).toEqual(["2025-01-31T01:02:03.000Z", "2025-02-28T01:02:03.000Z", "2025-03-31T01:02:03.000Z"]);
  });

  it("start() with node-cron registers a heartbeat every 10 seconds and stop() removes it", async () => {
    const before = cron.getTasks().size;
    const s = new Scheduler({ getScheduler: async () => daily0230, onDue: async () => {}, timeZone: "UTC" });
    await s.start();
    const tasks = [...cron.getTasks().values()].filter((t) => t.name === "strongbox-scheduler");
    expect(tasks).toHaveLength(1);
    expect(tasks[0].getPattern()).toBe(HEARTBEAT);
    expect(s.nextDue()).not.toBeNull();
    await s.stop();
    expect(cron.getTasks().size).toBe(before);
  });
});
