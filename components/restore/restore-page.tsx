"use client";
// The Restore page (docs/console.md; 4D's MSC Restore page): the archives in the destination or one named by hand, the
// chosen archive's contents and where they go, restore in place, rollback to an operation, scheduled verification.
// Every long action is an engine operation: its progress and outcome come from the tab's one event stream.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import { STOPPABLE_PHASES } from "@/server/isomorphic/phases";
import { ProgressPanel } from "../backup/progress-panel";
import { useEventStream } from "../event-stream";
import { useTRPC } from "../trpc";
import { ArchiveList } from "./archive-list";
import { OutcomePanel } from "./outcome-panel";
import { RestoreForm } from "./restore-form";
import { RestoreInPlace } from "./restore-in-place";
import { Rollback } from "./rollback";
import type { OperationHandlers } from "./types";
import { VerificationScheduleForm } from "./verification-schedule";

export function RestorePage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { running, last, connected } = useEventStream();
  const archives = useQuery(trpc.restore.archives.queryOptions());
  const [archivePath, setArchivePath] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The operations this tab started: their outcome is shown with its details (where the files went).
  const [mine, setMine] = useState<string[]>([]);
  const stop = useMutation(trpc.backup.stop.mutationOptions({ onError: (e) => setError(e.message) }));
  const contents = useQuery(trpc.restore.contents.queryOptions({ archivePath: archivePath ?? "" }, { enabled: !!archivePath, retry: false }));

  // The newest archive is chosen until the user picks another one.
  const newest = archives.data?.archives[0]?.path;
  useEffect(() => { if (!archivePath && newest) setArchivePath(newest); }, [archivePath, newest]);
  // An operation's end changes what this page shows (verification results, history status, default folder, log).
  useEffect(() => {
    if (last) void queryClient.invalidateQueries({ queryKey: trpc.restore.pathKey() });
  }, [last?.operationId]); // eslint-disable-line react-hooks/exhaustive-deps

  const handlers: OperationHandlers = {
    onStarted: (operationId) => { setError(null); setMine((m) => [...m, operationId]); },
    onError: (message) => setError(message),
  };
  const outcome = last && mine.includes(last.operationId) ? last : null;
  const busy = !!running;
  const list = archives.data;

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center gap-4">
        <h1 className="text-2xl font-semibold">Restore</h1>
        <span className={`ml-auto text-xs ${connected ? "text-emerald-700" : "text-amber-700"}`} aria-live="polite">
          {connected ? "● Live" : "○ Connecting…"}
        </span>
      </div>

      {error && <p role="alert" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-red-800">{error}</p>}
      {archives.error && <p role="alert" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-red-800">The archives can't be listed: {archives.error.message}</p>}

      {running ? (
        <ProgressPanel progress={running} canStop={STOPPABLE_PHASES.has(running.phase)} onStop={() => stop.mutate()} stopping={stop.isPending || running.stopping} />
      ) : outcome ? (
        <OutcomePanel outcome={outcome} />
      ) : null}

      <ArchiveList list={list} loading={archives.isLoading} selected={archivePath} onSelect={(p) => setArchivePath(p)} busy={busy} {...handlers} />
      {list && list.archives.length === 0 && !list.problem && (
        <p className="rounded border border-slate-200 bg-white px-4 py-3 text-sm text-slate-600">
          There is no archive in the destination yet. Make one on the <Link href="/" className="text-blue-700 underline">Backup</Link> page,
          or open an archive elsewhere on the server by its path.
        </p>
      )}

      {archivePath && (
        contents.error ? (
          <p role="alert" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-red-800">{contents.error.message}</p>
        ) : contents.isLoading ? (
          <p className="text-sm text-slate-600">Reading the archive {archivePath}…</p>
        ) : contents.data ? (
          <>
            {/* The form's choices belong to one archive: another archive starts from its defaults again. */}
            <RestoreForm key={contents.data.archivePath} contents={contents.data} busy={busy} {...handlers} />
            <RestoreInPlace key={`in-place:${contents.data.archivePath}`} contents={contents.data} busy={busy} {...handlers} />
          </>
        ) : null
      )}

      <Rollback busy={busy} {...handlers} />
      {list && <VerificationScheduleForm schedule={list.verificationSchedule} />}
    </div>
  );
}
