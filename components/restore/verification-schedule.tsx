"use client";
// Scheduled verification (issue 6): every archive in the destination read back against its manifest, never,
// daily or weekly at a chosen hour. Set here only, on the Restore page, next to the Verify results it produces (a
// console setting in console.sqlite, saved on its own: it is not part of the database's backup settings).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { buttonClass, inputClass } from "../data/modal";
import { useTRPC } from "../trpc";
import { useSeededState } from "../use-seeded-state";
import type { VerificationSchedule } from "./types";

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const FREQUENCIES: ReadonlyArray<VerificationSchedule["frequency"]> = ["Never", "Daily", "Weekly"];

/** `schedule` is the saved one as last loaded: a new answer never replaces what the user is changing. */
export function VerificationScheduleForm({ schedule }: { schedule: VerificationSchedule }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const id = useId();
  const form = useSeededState(schedule, schedule);
  const draft = form.value;
  const [notice, setNotice] = useState<string | null>(null);
  const save = useMutation(trpc.restore.setVerificationSchedule.mutationOptions({
    onSuccess: (_r, sent) => {
      form.saved(sent);
      setNotice("Verification schedule saved.");
      void queryClient.invalidateQueries({ queryKey: trpc.restore.archives.queryKey() });
      void queryClient.invalidateQueries({ queryKey: trpc.restore.verificationSchedule.queryKey() });
    },
    onError: () => setNotice(null),
  }));
  const [invalid, setInvalid] = useState<string | null>(null);
  const change = (patch: Partial<VerificationSchedule>) => { setNotice(null); setInvalid(null); form.set((d) => ({ ...d, ...patch })); };
  function submit() {
    // Said here in words rather than sent: an emptied field would reach the server as null.
    if (!Number.isInteger(draft.hour) || draft.hour < 0 || draft.hour > 23) return setInvalid("The hour must be a whole number from 0 to 23.");
    save.mutate(draft);
  }

  return (
    <section aria-label="Scheduled verification" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <h2 className="mb-1 text-base font-semibold">Scheduled verification</h2>
      <p className="mb-3 text-sm text-slate-600">Reads every archive in the destination back against its manifest; the result shows in the Verification column.</p>
      <div role="group" aria-label="Verification schedule" className="flex flex-wrap items-end gap-4 text-sm"
        onKeyDown={(e) => { if (e.key === "Enter" && (e.target as HTMLElement).tagName === "INPUT") { e.preventDefault(); submit(); } }}>
        <div className="flex flex-col gap-1">
          <label htmlFor={`${id}-f`}>Verify archives</label>
          <select id={`${id}-f`} value={draft.frequency} className={inputClass}
            onChange={(e) => change({ frequency: e.target.value as VerificationSchedule["frequency"] })}>
            {FREQUENCIES.map((f) => <option key={f} value={f}>{f}</option>)}
          </select>
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor={`${id}-h`}>Hour</label>
          <input id={`${id}-h`} type="number" min={0} max={23} step={1} disabled={draft.frequency === "Never"} className={`${inputClass} w-20`}
            value={Number.isFinite(draft.hour) ? draft.hour : ""} onChange={(e) => change({ hour: e.target.value === "" ? NaN : Number(e.target.value) })} />
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor={`${id}-w`}>Weekday</label>
          <select id={`${id}-w`} value={draft.weekday} disabled={draft.frequency !== "Weekly"} className={inputClass}
            onChange={(e) => change({ weekday: Number(e.target.value) })}>
            {WEEKDAYS.map((d, i) => <option key={d} value={i}>{d}</option>)}
          </select>
        </div>
        <button type="button" onClick={submit} disabled={save.isPending} className={buttonClass.primary}>Save schedule</button>
      </div>
      {(invalid ?? save.error) && <p role="alert" className="mt-2 text-sm text-red-700">{invalid ?? save.error?.message}</p>}
      {notice && <p role="status" className="mt-2 text-sm text-emerald-700">{notice}</p>}
    </section>
  );
}
