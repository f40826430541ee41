"use client";
// What the server said about one field of the settings, shown under that field: a problem that stopped a save
// (red), or a warning about a value the file holds (amber: it never stops a save, it says what backups will do).
// Problems and warnings name their field by a path into the settings (`general.destinationFolder`), or by 4D's key
// (`General/DestinationFolder`) for the file's own rules; the tab is found from either.
import { createContext, useContext } from "react";

export interface FieldNote { path: string; message: string; level: "error" | "warning" }

export type SettingsTab = "Scheduler" | "Configuration" | "Backup & Restore" | "Notifications" | "Off-site";

const NotesContext = createContext<FieldNote[]>([]);
export const FieldNotesProvider = NotesContext.Provider;

/** The note path of one attachment, by its text (an index would move as items are added and removed). */
export const attachmentNotePath = (item: string) => `general.includesFiles:${item}`;

/** The value a dotted path names in the settings (undefined when it names none). */
export function valueAt(settings: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((v, key) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined), settings);
}

/**
 * Problems and warnings as notes for the fields. An attachment's index becomes its text (in the list the server
 * judged: `judged`); a warning is about the saved value, so it is shown only while the field still holds it.
 */
export function fieldNotes(
  problems: Array<{ path: string; message: string }>, judged: { general: { includesFiles: string[] } },
  warnings: Array<{ path: string; message: string }>, saved: object, draft: object,
): FieldNote[] {
  const byText = (path: string, list: string[]) => {
    const m = /^general\.includesFiles\.(\d+)$/.exec(path);
    const item = m ? list[Number(m[1])] : undefined;
    return item === undefined ? path : attachmentNotePath(item);
  };
  const current = (path: string) => {
    const m = /^general\.includesFiles\.(\d+)$/.exec(path);
    if (m) return (valueAt(draft, "general.includesFiles") as string[]).includes((valueAt(saved, "general.includesFiles") as string[])[Number(m[1])]!);
    return valueAt(draft, path) === valueAt(saved, path);
  };
  const savedList = valueAt(saved, "general.includesFiles") as string[];
  return [
    ...problems.map((p) => ({ path: byText(p.path, judged.general.includesFiles), message: p.message, level: "error" as const })),
    ...warnings.filter((w) => current(w.path)).map((w) => ({ path: byText(w.path, savedList), message: w.message, level: "warning" as const })),
  ];
}

/** The tab where the field a path names can be changed. */
export function tabOfPath(path: string): SettingsTab {
  const head = path.split(/[./]/)[0]!.toLowerCase();
  return head === "scheduler" ? "Scheduler" : head === "general" ? "Configuration" : head === "webhook" ? "Notifications"
    : head === "offsite" ? "Off-site" : "Backup & Restore";
}

/** The notes of one field (none without a path). */
export function useFieldNotes(path: string | undefined): FieldNote[] {
  const notes = useContext(NotesContext);
  return path === undefined ? [] : notes.filter((n) => n.path === path);
}

/** Props that tie an input to its notes: described by them, invalid when one is an error. */
export function noteProps(id: string, notes: FieldNote[]) {
  return notes.length === 0 ? {} : { "aria-describedby": `${id}-notes`, "aria-invalid": notes.some((n) => n.level === "error") || undefined };
}

export function FieldNotes({ id, notes }: { id: string; notes: FieldNote[] }) {
  if (notes.length === 0) return null;
  return (
    <div id={`${id}-notes`} className="mt-1 space-y-0.5 text-xs">
      {notes.map((n, i) => (
        <p key={i} className={n.level === "error" ? "font-medium text-red-700" : "text-amber-800"}>
          {n.level === "error" ? "Not saved: " : "Warning: "}{n.message}
        </p>
      ))}
    </div>
  );
}
