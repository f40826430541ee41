"use client";
// Scheduler tab (4D's Backup/Scheduler page): a frequency and that frequency's numbers, plus our Cron.
import { WEEKDAYS, type Frequency } from "@/server/isomorphic/schedule";
import { Check, Hint, NumberField, TextField, TimeField, type Draft, type Edit } from "./controls";
import { SchedulePreview } from "./schedule-preview";

const FREQUENCIES: Frequency[] = ["Never", "Hourly", "Daily", "Weekly", "Monthly", "Cron"];

export function SchedulerTab({ draft, edit, savedAnchor }: { draft: Draft; edit: Edit; savedAnchor: string | null }) {
  const s = draft.scheduler;
  return (
    <div className="space-y-5">
      <fieldset>
        <legend className="mb-2 text-sm font-semibold">Frequency</legend>
        <div role="radiogroup" aria-label="Frequency" className="flex flex-wrap gap-4">
          {FREQUENCIES.map((f) => (
            <label key={f} className="flex items-center gap-1.5 text-sm">
              <input type="radio" name="frequency" value={f} checked={s.frequency === f} onChange={() => edit((d) => { d.scheduler.frequency = f; })} />
              {f}
            </label>
          ))}
        </div>
      </fieldset>

      <div className="space-y-3">
        {s.frequency === "Never" && <Hint>No scheduled backups. Backups start from the Backup page or the BACKUP command.</Hint>}
        {s.frequency === "Hourly" && (
          <>
            <NumberField label="Every (hours)" min={1} max={24} value={s.hourly.every} path="scheduler.hourly.every" onChange={(v) => edit((d) => { d.scheduler.hourly.every = v; })} after="hour(s)" />
            <TimeField label="Starting at" value={s.hourly.startingAt} path="scheduler.hourly.startingAt" onChange={(v) => edit((d) => { d.scheduler.hourly.startingAt = v; })} />
            <Hint>Runs every N hours from the starting time, across midnight.</Hint>
          </>
        )}
        {s.frequency === "Daily" && (
          <>
            <NumberField label="Every (days)" min={1} max={999} value={s.daily.every} path="scheduler.daily.every" onChange={(v) => edit((d) => { d.scheduler.daily.every = v; })} after="day(s)" />
            <TimeField label="At" value={s.daily.hour} path="scheduler.daily.hour" onChange={(v) => edit((d) => { d.scheduler.daily.hour = v; })} />
          </>
        )}
        {s.frequency === "Weekly" && (
          <>
            <NumberField label="Every (weeks)" min={1} max={999} value={s.weekly.every} path="scheduler.weekly.every" onChange={(v) => edit((d) => { d.scheduler.weekly.every = v; })} after="week(s)" />
            <table className="text-sm">
              <caption className="sr-only">Days of the week</caption>
              <tbody>
                {WEEKDAYS.map((day) => (
                  <tr key={day}>
                    <td className="py-1 pr-6">
                      <Check label={day} checked={s.weekly.days[day].save} onChange={(v) => edit((d) => { d.scheduler.weekly.days[day].save = v; })} />
                    </td>
                    <td className="py-1">
                      <TimeField label={`Time on ${day}`} value={s.weekly.days[day].hour} disabled={!s.weekly.days[day].save} path={`scheduler.weekly.days.${day}.hour`}
                        onChange={(v) => edit((d) => { d.scheduler.weekly.days[day].hour = v; })} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
        {s.frequency === "Monthly" && (
          <>
            <NumberField label="Every (months)" min={1} max={999} value={s.monthly.every} path="scheduler.monthly.every" onChange={(v) => edit((d) => { d.scheduler.monthly.every = v; })} after="month(s)" />
            <NumberField label="On day" min={1} max={31} value={s.monthly.day} path="scheduler.monthly.day" onChange={(v) => edit((d) => { d.scheduler.monthly.day = v; })} />
            <TimeField label="At" value={s.monthly.hour} path="scheduler.monthly.hour" onChange={(v) => edit((d) => { d.scheduler.monthly.hour = v; })} />
            <Hint>A day past the end of a month means that month&apos;s last day.</Hint>
          </>
        )}
        {s.frequency === "Cron" && (
          <>
            <TextField label="Cron expression" value={s.cron} placeholder="30 2 * * 1-5" path="scheduler.cron" onChange={(v) => edit((d) => { d.scheduler.cron = v; })} />
          </>
        )}
      </div>

      <SchedulePreview scheduler={s} />

      {s.frequency !== "Never" && (
        <Hint>
          Times are the server&apos;s local time. &ldquo;Every N&rdquo; counts from {savedAnchor ? <strong>{savedAnchor}</strong> : "the day the schedule is saved"};
          saving a changed schedule starts the count again from that day.
        </Hint>
      )}
    </div>
  );
}
