"use client";
// Configuration tab (4D's Backup/Configuration page): what goes into a backup, where archives go, attachments.
// Paths are the server's: an attachment is added by typing its path on the server (the browser can't browse it).
import { useId, useState } from "react";
import type { AttachmentInfo } from "@/server/settings/settings-input";
import { formatBytes } from "../format";
import { Check, Group, Hint, TextField, type Draft, type Edit } from "./controls";
import { attachmentNotePath, FieldNotes, useFieldNotes } from "./field-notes";

export interface DestinationInfo { path: string; exists: boolean; freeBytes: number | null; totalBytes: number | null }

export function ConfigurationTab({ draft, edit, saved, destination, attachments, readOnly }: {
  draft: Draft; edit: Edit; saved: Draft; destination: DestinationInfo; attachments: AttachmentInfo[]; readOnly: boolean;
}) {
  const g = draft.general;
  const [newPath, setNewPath] = useState("");
  const addId = useId();
  const add = () => {
    const p = newPath.trim();
    if (!p) return;
    edit((d) => { d.general.includesFiles.push(p); });
    setNewPath("");
  };
  // Facts from the server describe the saved settings; a changed or new path is checked when saved.
  const info = (p: string) => attachments.find((a) => a.path === p);
  return (
    <div className="space-y-5">
      <Group legend="Content">
        <Check label="Include structure (Project/ and Settings/)" checked={g.includeStructureFile} onChange={(v) => edit((d) => { d.general.includeStructureFile = v; })} />
        <Check label="Include data file (with Data/Settings/)" checked={g.includeDataFile} onChange={(v) => edit((d) => { d.general.includeDataFile = v; })} />
      </Group>

      <Group legend="Backup destination">
        <TextField label="Destination folder" value={g.destinationFolder} path="general.destinationFolder" onChange={(v) => edit((d) => { d.general.destinationFolder = v; })} />
        <Hint>An absolute path on the server, or one relative to the database folder, outside the database folder. The folder must exist.</Hint>
        {g.destinationFolder === saved.general.destinationFolder ? (
          <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm" aria-label="Destination">
            <dt className="text-slate-500">Resolved path</dt><dd className="font-mono">{destination.path}</dd>
            {destination.exists ? (
              <><dt className="text-slate-500">Free space</dt><dd>{formatBytes(destination.freeBytes)} free of {formatBytes(destination.totalBytes)}</dd></>
            ) : (
              <><dt className="text-slate-500">Status</dt><dd className="font-semibold text-red-700">NOT FOUND (or not a folder)</dd></>
            )}
          </dl>
        ) : <Hint>The new folder is checked when you save.</Hint>}
      </Group>

      <Group legend="Attachments">
        {g.includesFiles.length === 0 ? <Hint>No attachments.</Hint> : (
          <ul aria-label="Attachments" className="divide-y divide-slate-100 text-sm">
            {g.includesFiles.map((p, i) => (
              <AttachmentItem key={`${i}:${p}`} item={p} info={info(p)} readOnly={readOnly} onRemove={() => edit((d) => { d.general.includesFiles.splice(i, 1); })} />
            ))}
          </ul>
        )}
        {!readOnly && (
          <div className="flex items-end gap-2 text-sm">
            <div className="flex flex-1 flex-col gap-1">
              <label htmlFor={addId}>Attachment path on the server</label>
              <input id={addId} type="text" value={newPath} spellCheck={false} placeholder="/srv/shared/contracts"
                onChange={(e) => setNewPath(e.target.value)}
                onKeyDown={(e) => { if (e.key === "Enter") { e.preventDefault(); add(); } }}
                className="rounded border border-slate-300 px-2 py-1 font-mono" />
            </div>
            <button type="button" onClick={add} className="rounded border border-slate-300 px-3 py-1 hover:bg-slate-100">Add attachment</button>
          </div>
        )}
        <Hint>Files or folders outside the database (absolute, or relative to the database folder). The database folder, what the backup already saves, STRONGBOX_HOME and the destination are refused.</Hint>
      </Group>
    </div>
  );
}

/** One attachment: where it resolves, what the server found there, and what it said about it (under the item). */
function AttachmentItem({ item: p, info: a, readOnly, onRemove }: { item: string; info: AttachmentInfo | undefined; readOnly: boolean; onRemove: () => void }) {
  const id = useId();
  const notes = useFieldNotes(attachmentNotePath(p));
  return (
    <li className="flex items-start gap-3 py-2">
      <div className="min-w-0 flex-1">
        <div className="break-all font-mono">{p}</div>
        {a && a.absolute !== p && <div className="break-all font-mono text-xs text-slate-500">{a.absolute}</div>}
        <div className="text-xs">
          {!a ? <span className="text-slate-500">New — checked when you save</span>
            : !a.exists ? <span className="font-semibold text-amber-800">NOT FOUND</span>
              : a.refused ? <span className="font-semibold text-red-700">Refused: it {a.refused}</span>
                : <span className="text-emerald-700">{a.kind === "folder" ? "Folder" : "File"}</span>}
        </div>
        <FieldNotes id={id} notes={notes} />
      </div>
      {!readOnly && (
        <button type="button" onClick={onRemove}
          className="rounded border border-slate-300 px-2 py-0.5 text-xs hover:bg-red-50">Remove<span className="sr-only"> {p}</span></button>
      )}
    </li>
  );
}
