"use client";
// The Backup page (docs/console.md; 4D's MSC Backup page): destination, last backup, next backup, content of the next
// backup, the Backup button, and the live progress of whatever operation runs, whoever started it.
import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import { useEventStream } from "../event-stream";
import { LogProblemBanner } from "../log-problem-banner";
import { useShellUser } from "../console-shell";
import { useTRPC } from "../trpc";
import { formatBytes, formatDate, formatDuration, formatTrigger } from "../format";
import { plural } from "@/server/isomorphic/plural";
import { operationTitle, ProgressPanel } from "./progress-panel";
import { AutomationPanel } from "./automation-panel";
import { Card, Field } from "./card";
import { STOPPABLE_PHASES } from "@/server/isomorphic/phases";
import type { BackupOverview, OperationOutcome } from "@/server/trpc/root";

type LastBackupInfo = NonNullable<BackupOverview["lastBackup"]>;

export function BackupPage() {
  const trpc = useTRPC();
  const user = useShellUser();
  const { running, last, connected, reconnecting, automation } = useEventStream();
  const overview = useQuery(trpc.backup.overview.queryOptions());
  const [error, setError] = useState<string | null>(null);
  const start = useMutation(trpc.backup.start.mutationOptions({ onError: (e) => setError(e.message), onSuccess: () => setError(null) }));
  const stop = useMutation(trpc.backup.stop.mutationOptions({ onError: (e) => setError(e.message) }));
  const canOperate = user.role !== "viewer";
  const o = overview.data;
  // Refresh the page's figures when an operation ends (the stream tells every console).
  useEffect(() => { if (last) void overview.refetch(); }, [last?.operationId]); // eslint-disable-line react-hooks/exhaustive-deps
  // And when automatic backups are turned off (1401) or back on: the next backup is then "off until …", or a date again.
  useEffect(() => { if (automation) void overview.refetch(); }, [automation?.disabled?.since]); // eslint-disable-line react-hooks/exhaustive-deps

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center gap-4">
        <h1 className="text-2xl font-semibold">Backup</h1>
        {o?.databaseName && <span className="text-slate-600">Database: <strong>{o.databaseName}</strong></span>}
        <span className={`ml-auto text-xs ${connected ? "text-emerald-700" : "text-amber-700"}`} aria-live="polite">
          {connected ? "● Live" : reconnecting ? "○ Reconnecting…" : "○ Connecting…"}
        </span>
        {/* As in 4D's backup window: the settings one click away from the Backup button. */}
        <Link href="/settings" className="rounded border border-slate-300 px-4 py-2 text-sm hover:bg-slate-100">Database Settings…</Link>
        {canOperate && (
          <button type="button" onClick={() => start.mutate()} disabled={!!running || start.isPending}
            className="rounded bg-blue-700 px-5 py-2 font-medium text-white hover:bg-blue-800 disabled:cursor-not-allowed disabled:opacity-50">
            Backup
          </button>
        )}
      </div>

      {error && <p role="alert" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-red-800">{error}</p>}
      {o?.startupRestore && <StartupRestoreBanner result={o.startupRestore} />}
      <LogProblemBanner />
      <AutomationPanel canOperate={canOperate} />
      {o?.settingsError && (
        <p role="alert" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-red-800">
          The backup settings can't be read: {o.settingsError}
        </p>
      )}

      {running ? (
        <ProgressPanel progress={running} canStop={canOperate && STOPPABLE_PHASES.has(running.phase)} onStop={() => stop.mutate()} stopping={stop.isPending || running.stopping} />
      ) : last ? (
        <OutcomeBanner outcome={last} />
      ) : null}

      <div className="grid gap-6 md:grid-cols-2">
        <Card title="Last backup">
          {overview.isLoading ? <p>Loading…</p> : o?.lastBackup ? (
            <>
              <LastBackupFields backup={o.lastBackup} />
              {o.lastCommitted && (
                <div className="mt-3 border-t border-slate-200 pt-3">
                  <h3 className="mb-1 text-sm font-semibold">Last successful backup</h3>
                  <LastBackupFields backup={o.lastCommitted} />
                </div>
              )}
            </>
          ) : <p className="text-sm text-slate-600">No backup has been made yet. Press <strong>Backup</strong> to make the first one.</p>}
        </Card>

        <Card title="Next backup">
          {o?.automaticBackupsOff ? (
            <p className="text-sm">
              <strong className="text-red-700">Off {o.automaticBackupsOff.until}</strong> — automatic backups stopped at{" "}
              {formatDate(o.automaticBackupsOff.since)} after too many failed attempts (1401).
            </p>
          ) : <p className="text-sm">{o?.nextBackup ? formatDate(o.nextBackup) : "None scheduled"}</p>}
        </Card>

        <Card title="Destination">
          {o?.destination ? (
            <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
              <Field label="Folder"><span className="break-all">{o.destination.path}</span></Field>
              {o.destination.exists ? (
                <>
                  <Field label="Free space">{formatBytes(o.destination.freeBytes)} of {formatBytes(o.destination.totalBytes)}</Field>
                  <Field label="Used by backups">{formatBytes(o.destination.archivesBytes)} in {plural(o.destination.archives, "archive")}</Field>
                </>
              ) : <Field label="Problem"><span role="alert" className="text-red-700">This folder does not exist: backups will fail (1407).</span></Field>}
            </dl>
          ) : <p className="text-sm text-slate-600">{overview.isLoading ? "Loading…" : "Unknown"}</p>}
        </Card>

        <Card title="Content of the next backup">
          {o?.content ? (
            <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
              <Field label="Structure">{o.content.structure ? `${plural(o.content.structure.files, "file")}, ${formatBytes(o.content.structure.bytes)}` : "not included"}</Field>
              <Field label="Data file">{o.content.dataFile ? formatBytes(o.content.dataFile.bytes) : "not included"}</Field>
              <Field label="Attachments">
                {o.content.attachments.length === 0 ? "none" : (
                  <ul>
                    {o.content.attachments.map((a) => (
                      <li key={a.path} className="break-all">
                        {a.path}{" "}
                        {a.found ? <span className="text-slate-600">({plural(a.files, "file")}, {formatBytes(a.bytes)})</span>
                          : <span className="font-medium text-red-700">[NOT FOUND]</span>}
                      </li>
                    ))}
                  </ul>
                )}
              </Field>
              {o.content.refused.map((r) => (
                <Field key={r.path} label="Refused"><span className="text-red-700">{r.path}: {r.reason}</span></Field>
              ))}
              <Field label="Total">{formatBytes(o.content.totalBytes)}</Field>
              <Field label="Estimated archive">
                about {formatBytes(o.content.estimatedArchiveBytes)} ({o.content.compression} compression;{" "}
                {o.content.estimateFrom ? "from what each kind of file became in the last archive" : "a rough ratio until there is an archive"})
              </Field>
              <Field label="Kept">{o.content.keepLast ? `the last ${plural(o.content.keepLast, "backup")}` : "all backups"}</Field>
              {o.content.warnings.map((w) => (
                <Field key={w} label="Warning"><span role="alert" className="text-amber-800">{w}</span></Field>
              ))}
            </dl>
          ) : <p className="text-sm text-slate-600">{overview.isLoading ? "Loading…" : "Unknown"}</p>}
        </Card>
      </div>
    </div>
  );
}

/** One backup as the Last backup card shows it; an attempt that made no archive names none. */
function LastBackupFields({ backup: b }: { backup: LastBackupInfo }) {
  return (
    <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
      <Field label="Date">{formatDate(b.startingDate)}</Field>
      <Field label="Status">
        <span className={b.status === 0 ? "text-emerald-700" : "text-red-700"}>{b.status} — {b.statusText}</span>
      </Field>
      <Field label="Number">{b.backupNumber}</Field>
      <Field label="Duration">{formatDuration(b.duration)}</Field>
      {b.archivePath && <Field label="Size">{formatBytes(b.archiveSize)}</Field>}
      <Field label="Trigger">{formatTrigger(b.trigger, b.user)}</Field>
      <Field label="Archive">
        {!b.archivePath ? <span className="text-slate-600">none: this attempt made no archive</span> : (
          <span className="break-all">{b.archivePath}{!b.archiveExists && <span className="text-amber-800"> (no longer on disk)</span>}</span>
        )}
      </Field>
      {b.historyPath && !b.inCurrentDestination && (
        <Field label="History">
          <span className="break-all">{b.historyPath}</span>{" "}
          <span className="text-amber-800">— in the destination it was made in; the destination has changed since, and this backup is not in the current destination&apos;s history.</span>
        </Field>
      )}
    </dl>
  );
}

type StartupRestore = NonNullable<BackupOverview["startupRestore"]>;

const STARTUP_PROBLEM: Record<Exclude<StartupRestore["outcome"], "restored">, string> = {
  off: "The data file is damaged and was not restored (automatic restore is off)",
  failed: "The data file is damaged and could not be restored automatically",
  missing: "The data file is missing",
  unreadable: "The data file can't be read",
};

/** What the server found at start (docs/settings.md AutomaticRestore): an automatic restore done, or a data file in trouble. */
function StartupRestoreBanner({ result: r }: { result: StartupRestore }) {
  if (r.outcome !== "restored") {
    return (
      <div role="alert" className="rounded border border-red-300 bg-red-50 px-4 py-3 text-red-900">
        <p className="font-semibold">{STARTUP_PROBLEM[r.outcome]}</p>
        <p className="mt-1 break-words text-sm">{r.message}</p>
      </div>
    );
  }
  const log = r.logIntegration;
  return (
    <div role="status" className="rounded border border-amber-300 bg-amber-50 px-4 py-3 text-amber-950">
      <p className="font-semibold">The data file was damaged and has been restored automatically at start</p>
      <dl className="mt-2 grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
        <Field label="Damage">{r.damage}</Field>
        <Field label="Restored from"><span className="break-all">{r.restoredFrom}</span> (backup #{r.backupNumber})</Field>
        <Field label="Log">{"applied" in log ? `integrated up to operation ${log.lastOperation} (${plural(log.applied, "operation")})` : `not integrated: ${log.problem}`}</Field>
        <Field label="Damaged files kept in"><span className="break-all">{r.damagedKeptIn}</span></Field>
      </dl>
      {r.newLogChain && <p className="mt-2 text-sm font-medium">A new log chain has started: back up now to have a backup of the restored data.</p>}
    </div>
  );
}

function OutcomeBanner({ outcome }: { outcome: Pick<OperationOutcome, "kind" | "backupNumber" | "status" | "statusText" | "partial" | "details"> }) {
  const ok = outcome.status === 0;
  const tone = ok ? "border-emerald-200 bg-emerald-50 text-emerald-900" : outcome.partial ? "border-amber-200 bg-amber-50 text-amber-900" : "border-red-200 bg-red-50 text-red-900";
  return (
    <div role="status" className={`rounded border px-4 py-3 ${tone}`}>
      {operationTitle(outcome)} {ok ? "finished" : outcome.partial ? "finished as a partial backup" : "failed"}: {outcome.status} — {outcome.statusText}
      {outcome.details?.length ? <ul className="mt-1 list-disc pl-5 text-sm">{outcome.details.map((d, i) => <li key={i}>{d}</li>)}</ul> : null}
    </div>
  );
}
