"use client";
// The chosen archive's contents as check boxes, the folder the files are restored to (checked live against the
// server's rules), the log integration option, and the Restore button.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { buttonClass, inputClass } from "../data/modal";
import { formatBytes, formatDate } from "../format";
import { plural } from "@/server/isomorphic/plural";
import { useTRPC } from "../trpc";
import type { ArchiveContents, OperationHandlers } from "./types";
import { useDebounced } from "../use-debounced";

/** The folder is checked once typing pauses this long: a check per keystroke would mostly answer stale text. */
const TARGET_CHECK_DELAY_MS = 300;

const files = (n: number) => plural(n, "file", "files", (c) => c.toLocaleString());

export function RestoreForm({ contents: c, busy, onStarted, onError }: OperationHandlers & { contents: ArchiveContents; busy: boolean }) {
  const trpc = useTRPC();
  const targetId = useId();
  // Everything the archive holds is ticked at first, as in 4D; a part the backup didn't find can't be chosen.
  const [ticked, setTicked] = useState<ReadonlySet<string>>(() => new Set(c.parts.filter((p) => p.found).map((p) => p.id)));
  const [target, setTarget] = useState(c.defaultTarget);
  const [overwrite, setOverwrite] = useState(false);
  const [integrateLog, setIntegrateLog] = useState(false);
  const [includeCurrentLog, setIncludeCurrentLog] = useState(false);
  const settledTarget = useDebounced(target.trim(), TARGET_CHECK_DELAY_MS);
  // A relative path is refused here in words; the server would refuse it too, in a validation error's terms.
  const absolute = settledTarget.startsWith("/");
  const check = useQuery(trpc.restore.checkTarget.queryOptions({ target: settledTarget, overwrite }, { enabled: absolute }));
  // Asked with overwrite on, the server says whether the folder has content that overwriting would move aside:
  // only then is the "Replace the folder's content" box offered.
  const probe = useQuery(trpc.restore.checkTarget.queryOptions({ target: settledTarget, overwrite: true }, { enabled: absolute }));
  const start = useMutation(trpc.restore.start.mutationOptions({ onSuccess: (r) => onStarted(r.operationId), onError: (e) => onError(e.message) }));

  const dataFileTicked = ticked.has("dataFile");
  const canIntegrate = dataFileTicked && c.logAfter.available;
  const checked = absolute && settledTarget === target.trim() && check.data?.ok === true && !check.isFetching;
  const offerOverwrite = absolute && (overwrite || probe.data?.replaces === true);
  const selectable = c.parts.filter((p) => p.found);

  const toggle = (id: string, on: boolean) => setTicked((s) => {
    const next = new Set(s);
    if (on) next.add(id); else next.delete(id);
    return next;
  });

  function submit(e: React.FormEvent) {
    e.preventDefault();
    start.mutate({
      archivePath: c.archivePath, target: target.trim(), overwrite,
      parts: { structure: ticked.has("structure"), dataFile: ticked.has("dataFile"), dataSettings: ticked.has("dataSettings"),
        attachments: c.parts.filter((p) => p.kind === "attachment" && ticked.has(p.id)).map((p) => p.id) },
      integrateLog: canIntegrate && integrateLog, includeCurrentLog: canIntegrate && integrateLog && includeCurrentLog,
    });
  }

  return (
    <section aria-label="Restore to a folder" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <h2 className="mb-1 text-base font-semibold">Restore archive #{c.backupNumber} to a folder</h2>
      <p className="mb-3 text-sm text-slate-600">
        {c.databaseName} · backed up {formatDate(c.startingDate)} · {c.trigger} · {formatBytes(c.archiveSize)} ·{" "}
        <span className="break-all">{c.archivePath}</span>
      </p>
      <form onSubmit={submit} className="space-y-4">
        <fieldset className="space-y-2 rounded border border-slate-200 p-4">
          <legend className="px-1 text-sm font-semibold">Contents</legend>
          <div className="flex gap-2">
            <button type="button" className={buttonClass.small} onClick={() => setTicked(new Set(selectable.map((p) => p.id)))}>Check all</button>
            <button type="button" className={buttonClass.small} onClick={() => setTicked(new Set())}>Uncheck all</button>
          </div>
          <ul className="space-y-1">
            {c.parts.map((p) => (
              <li key={p.id} className="flex flex-wrap items-center gap-x-3 text-sm">
                <label className="flex items-center gap-2">
                  <input type="checkbox" checked={ticked.has(p.id)} disabled={!p.found} onChange={(e) => toggle(p.id, e.target.checked)} />
                  <span className={p.kind === "attachment" ? "break-all font-mono" : ""}>{p.label}</span>
                </label>
                <span className="text-slate-500">
                  {p.found ? `${files(p.files)}, ${formatBytes(p.bytes)}` : "not found when the backup was made: nothing to restore"}
                </span>
              </li>
            ))}
          </ul>
          {c.parts.some((p) => p.kind === "attachment") && (
            <p className="text-xs text-slate-500">Attachments are restored inside the chosen folder under their original paths, never to their original place.</p>
          )}
        </fieldset>

        <div className="space-y-2">
          <div className="flex flex-col gap-1 text-sm">
            <label htmlFor={targetId}>Restore to folder</label>
            <input id={targetId} type="text" value={target} onChange={(e) => setTarget(e.target.value)} spellCheck={false}
              aria-describedby={`${targetId}-check`} className={`${inputClass} font-mono`} />
          </div>
          <div id={`${targetId}-check`} aria-live="polite" className="text-sm">
            {!absolute ? <p role="alert" className="text-red-700">{settledTarget === "" ? "Give the folder to restore the files to." : "The folder must be an absolute path on the server (starting with /)."}</p>
              : check.error ? <p role="alert" className="text-red-700">{check.error.message}</p>
              : check.data && !check.data.ok ? <p role="alert" className="text-red-700">{check.data.problem}</p>
              : checked && check.data ? (
                <p className="text-emerald-700">
                  {check.data.replaces ? "The folder's current content will be moved aside, then the files restored there."
                    : check.data.exists ? "The folder is empty: the files are restored there." : "A new folder is created for the restored files."}
                </p>
              ) : null}
          </div>
          {offerOverwrite && (
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} />
              Replace the folder&apos;s content (it is moved aside, not deleted)
            </label>
          )}
        </div>

        <div className="space-y-1">
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={canIntegrate && integrateLog} disabled={!canIntegrate} onChange={(e) => setIntegrateLog(e.target.checked)} />
            Integrate log file(s) after restore
          </label>
          <label className="ml-6 flex items-center gap-2 text-sm">
            <input type="checkbox" checked={canIntegrate && integrateLog && includeCurrentLog} disabled={!canIntegrate || !integrateLog}
              onChange={(e) => setIncludeCurrentLog(e.target.checked)} />
            Include the current log file
          </label>
          <LogReach contents={c} dataFileTicked={dataFileTicked} />
        </div>

        <button type="submit" disabled={busy || start.isPending || ticked.size === 0 || !checked}
          className="rounded bg-blue-700 px-5 py-2 font-medium text-white hover:bg-blue-800 disabled:cursor-not-allowed disabled:opacity-50">
          Restore
        </button>
        {ticked.size === 0 && <p className="text-sm text-slate-600">Tick at least one part of the archive to restore.</p>}
      </form>
    </section>
  );
}

/** What the log holds for this archive: the operations inside the snapshot, and how far integration could go. */
function LogReach({ contents: c, dataFileTicked }: { contents: ArchiveContents; dataFileTicked: boolean }) {
  // Operation numbers start at 1: a last operation of 0 (or none) means nothing was logged before the snapshot.
  const inside = !c.log.lastOperation ? "no logged operation" : c.log.firstOperation == null || c.log.firstOperation === c.log.lastOperation
    ? `operations up to #${c.log.lastOperation}` : `operations #${c.log.firstOperation} to #${c.log.lastOperation}`;
  return (
    <div className="ml-6 text-xs text-slate-500">
      <p>The archived data file holds {inside}.</p>
      {c.logAfter.available
        ? <p>Integrating the logs brings it up to operation #{c.logAfter.lastOperation ?? "—"}.</p>
        : c.logAfter.problem ? <p className="text-amber-800">Log integration is not possible: {c.logAfter.problem}</p>
        : <p>The log holds no operation after this backup: there is nothing to integrate.</p>}
      {!dataFileTicked && <p>Log integration needs the data file: tick it to integrate the logs.</p>}
    </div>
  );
}
