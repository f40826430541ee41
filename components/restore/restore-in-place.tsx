"use client";
// Restore in place (danger zone): the live database's data file is replaced by the chosen archive's, while the
// server keeps running. A confirmation names what is replaced; the outcome's details say where the old file went.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { buttonClass, Modal } from "../data/modal";
import { useTRPC } from "../trpc";
import type { ArchiveContents, OperationHandlers } from "./types";

export function RestoreInPlace({ contents: c, busy, onStarted, onError }: OperationHandlers & { contents: ArchiveContents; busy: boolean }) {
  const trpc = useTRPC();
  const overview = useQuery(trpc.backup.overview.queryOptions());
  const [integrateLog, setIntegrateLog] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const inPlace = useMutation(trpc.restore.inPlace.mutationOptions({
    onSuccess: (r) => { setConfirming(false); onStarted(r.operationId); },
    onError: (e) => { setConfirming(false); onError(e.message); },
  }));
  const dataFile = c.parts.find((p) => p.kind === "dataFile" && p.found);
  // The layout is fixed (server/database/layout.ts): the data file is Data/data.sqlite in the database folder.
  const liveDataFile = overview.data ? `${overview.data.databaseDir}/Data/data.sqlite` : "the live data file";
  const integrate = integrateLog && c.logAfter.available;

  return (
    <section aria-label="Restore in place" className="rounded-lg border border-red-200 bg-white p-5 shadow-sm">
      <h2 className="mb-1 text-base font-semibold text-red-900">Restore in place</h2>
      <p className="mb-3 text-sm text-slate-600">
        Replaces the live database&apos;s data file with the one in archive #{c.backupNumber}. The server keeps running; writes wait during the
        swap; the replaced data file (with its -wal and -shm files) is kept aside, and a new log chain starts.
      </p>
      {dataFile ? (
        <div className="flex flex-wrap items-center gap-4">
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={integrate} disabled={!c.logAfter.available} onChange={(e) => setIntegrateLog(e.target.checked)} />
            Integrate log file(s) after replacing the data file
          </label>
          <button type="button" className={`${buttonClass.danger} ml-auto`} disabled={busy || inPlace.isPending} onClick={() => setConfirming(true)}>
            Restore the data file in place…
          </button>
        </div>
      ) : <p className="text-sm text-slate-600">This archive holds no data file: there is nothing to restore in place.</p>}

      {confirming && (
        <Modal title="Replace the live data file?" onClose={() => setConfirming(false)}>
          <p className="text-sm">
            The live data file <span className="break-all font-mono">{liveDataFile}</span> will be replaced by the data file of archive #{c.backupNumber}{" "}
            (<span className="break-all font-mono">{c.archivePath}</span>){integrate ? ", then the log files are integrated" : ""}.
          </p>
          <p className="text-sm">Every change made since that backup{integrate ? " that the logs don't hold" : ""} is no longer in the data. The current file is moved aside, not deleted.</p>
          <div className="flex justify-end gap-2">
            <button type="button" className={buttonClass.secondary} onClick={() => setConfirming(false)}>Cancel</button>
            <button type="button" className={buttonClass.danger} disabled={inPlace.isPending}
              onClick={() => inPlace.mutate({ archivePath: c.archivePath, integrateLog: integrate, confirm: true })}>
              Replace the data file
            </button>
          </div>
        </Modal>
      )}
    </section>
  );
}
