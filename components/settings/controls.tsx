"use client";
// Small labelled inputs for the Settings page. Every field has a real <label>, so people (and tests) find it by
// its name. Disabled state comes from the surrounding <fieldset> (read-only for viewers and operators). A field given
// the `path` of its setting shows under it what the server said about it (field-notes.tsx).
import { useId } from "react";
import type { BackupSettings } from "@/server/settings/model";
import { FieldNotes, noteProps, useFieldNotes } from "./field-notes";

/** What the page edits and sends: the settings without DatabaseName (kept from the file by the server). */
export type Draft = Omit<BackupSettings, "databaseName">;
export type Edit = (change: (d: Draft) => void) => void;

const inputClass = "rounded border border-slate-300 px-2 py-1 disabled:bg-slate-50 disabled:text-slate-500";

export function Check({ label, checked, onChange, disabled }: { label: React.ReactNode; checked: boolean; onChange: (v: boolean) => void; disabled?: boolean }) {
  return (
    <label className="flex items-center gap-2 text-sm">
      <input type="checkbox" checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} />
      {label}
    </label>
  );
}

/** A number input; an emptied field becomes NaN (sent as null), which the server refuses with a clear message. */
export function NumberField({ label, value, onChange, min, max, step, disabled, after, path, children }: {
  label: string; value: number; onChange: (v: number) => void; min?: number; max?: number; step?: number | "any"; disabled?: boolean; after?: string;
  path?: string; children?: React.ReactNode;
}) {
  const id = useId();
  const notes = useFieldNotes(path);
  return (
    <div className="text-sm">
      <div className="flex items-center gap-2">
        <label htmlFor={id}>{label}</label>
        <input id={id} type="number" inputMode="decimal" min={min} max={max} step={step ?? 1} disabled={disabled} {...noteProps(id, notes)}
          value={Number.isFinite(value) ? value : ""} onChange={(e) => onChange(e.target.value === "" ? NaN : Number(e.target.value))}
          className={`${inputClass} w-24`} />
        {after && <span className="text-slate-600">{after}</span>}
        {children}
      </div>
      <FieldNotes id={id} notes={notes} />
    </div>
  );
}

/** Seconds since midnight → "HH:MM" (or "HH:MM:SS" when a file holds seconds). */
export function toClock(seconds: number): string {
  if (!Number.isFinite(seconds)) return "";
  const s = Math.floor(seconds);
  const pad = (n: number) => String(n).padStart(2, "0");
  const hm = `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}`;
  return s % 60 ? `${hm}:${pad(s % 60)}` : hm;
}

export function fromClock(text: string): number {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?/.exec(text);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0) : NaN;
}

export function TimeField({ label, value, onChange, disabled, path }: { label: string; value: number; onChange: (v: number) => void; disabled?: boolean; path?: string }) {
  const id = useId();
  const notes = useFieldNotes(path);
  return (
    <div className="text-sm">
      <div className="flex items-center gap-2">
        <label htmlFor={id}>{label}</label>
        <input id={id} type="time" disabled={disabled} value={toClock(value)} onChange={(e) => onChange(fromClock(e.target.value))} className={inputClass} {...noteProps(id, notes)} />
      </div>
      <FieldNotes id={id} notes={notes} />
    </div>
  );
}

export function SelectField<T extends string>({ label, value, options, onChange }: {
  label: string; value: T; options: ReadonlyArray<readonly [T, string]>; onChange: (v: T) => void;
}) {
  const id = useId();
  return (
    <div className="flex items-center gap-2 text-sm">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as T)} className={inputClass}>
        {options.map(([v, text]) => <option key={v} value={v}>{text}</option>)}
      </select>
    </div>
  );
}

export function TextField({ label, value, onChange, placeholder, path }: { label: string; value: string; onChange: (v: string) => void; placeholder?: string; path?: string }) {
  const id = useId();
  const notes = useFieldNotes(path);
  return (
    <div className="flex flex-col gap-1 text-sm">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="text" value={value} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} className={`${inputClass} font-mono`} spellCheck={false} {...noteProps(id, notes)} />
      <FieldNotes id={id} notes={notes} />
    </div>
  );
}

export function Group({ legend, children }: { legend: string; children: React.ReactNode }) {
  return (
    <fieldset className="space-y-3 rounded border border-slate-200 p-4">
      <legend className="px-1 text-sm font-semibold">{legend}</legend>
      {children}
    </fieldset>
  );
}

export const Hint = ({ children }: { children: React.ReactNode }) => <p className="text-xs text-slate-500">{children}</p>;
