"use client";
// The Settings page (docs/console.md): Settings/Backup.4DSettings in three tabs modelled on 4D's MSC backup settings, and
// for admins a Notifications tab (the alert webhook) and an Off-site tab (the S3 destination), console settings. One draft holds every tab; the page's one
// Save sends it whole with the file's revision, the server validates everything and writes only if all is right.
// Viewers and operators see the same form disabled; a malformed file is reported and no form is offered.
// Scheduled verification is set on the Restore page, next to the results it produces.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { useShellUser } from "../console-shell";
import { useEventStream } from "../event-stream";
import { plural } from "@/server/isomorphic/plural";
import { useTRPC } from "../trpc";
import { useSeededState } from "../use-seeded-state";
import { BackupRestoreTab } from "./backup-restore-tab";
import { ConfigurationTab } from "./configuration-tab";
import type { Draft } from "./controls";
import { fieldNotes, FieldNotesProvider, tabOfPath, type SettingsTab } from "./field-notes";
import { NotificationsTab } from "./notifications-tab";
import { OffsiteTab, offsiteDraftOf, offsiteInputOf, type OffsiteDraft } from "./offsite-tab";
import { SchedulerTab } from "./scheduler-tab";
import { Tabs } from "./tabs";

const TAB_NAMES: SettingsTab[] = ["Scheduler", "Configuration", "Backup & Restore", "Notifications", "Off-site"];
/** A refused save's problems, each with its field, and the settings they were found in. */
interface Refused { problems: Array<{ path: string; message: string }>; sent: Draft }

const toDraft = ({ databaseName: _, ...rest }: Draft & { databaseName: unknown }): Draft => structuredClone(rest);

/** What the form edits: the settings, and the file's revision they were loaded from (a save checks it). */
interface Edited { draft: Draft; revision: string | undefined }

export function SettingsPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useShellUser();
  const { locks } = useEventStream();
  const isAdmin = me.role === "admin";
  // No refetch on focus: it would look like edits being thrown away; the revision catches changes made meanwhile.
  const q = useQuery(trpc.settings.get.queryOptions(undefined, { refetchOnWindowFocus: false, retry: false }));
  // The server's settings whenever they arrive, unless the user has unsaved edits (then the revision stays the
  // one those edits started from, so a save can't overwrite a change made meanwhile).
  const loaded = useMemo(() => (q.data?.settings ? { draft: toDraft(q.data.settings), revision: q.data.revision } : undefined), [q.data]);
  const form = useSeededState<Edited | null>(loaded, null);
  const draft = form.value?.draft ?? null;
  const revision = form.value?.revision;
  const [errors, setErrors] = useState<string[]>([]);
  const [refused, setRefused] = useState<Refused | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [tab, setTab] = useState(0);
  // The webhook (admins only): field by field, what the admin typed is kept even when the saved value arrives after
  // it, and a field left alone takes the loaded value (see use-seeded-state.ts).
  // Its own request: the settings must not wait for it (nor it for them).
  const hookQ = useQuery(trpc.automation.webhook.queryOptions(undefined, { enabled: isAdmin, refetchOnWindowFocus: false, trpc: { context: { skipBatch: true } } }));
  const hookUrl = useSeededState(hookQ.data ? (hookQ.data.url ?? "") : undefined, "");
  const hookPrivate = useSeededState(hookQ.data?.allowPrivate, false);
  // The off-site destination (admins only): sent with the Save only when the admin changed something on its tab.
  const offQ = useQuery(trpc.offsite.get.queryOptions(undefined, { enabled: isAdmin, refetchOnWindowFocus: false }));
  const offLoaded = useMemo(() => (offQ.data ? offsiteDraftOf(offQ.data) : undefined), [offQ.data]);
  const offsite = useSeededState<OffsiteDraft | null>(offLoaded, null);

  const save = useMutation(trpc.settings.update.mutationOptions({
    onSuccess: (r, sent) => {
      // What was sent is what the file now holds (the anchor aside, which the query's next answer brings).
      form.saved({ draft: sent.settings as Draft, revision: r.revision });
      setErrors([]);
      setRefused(null);
      const warned = r.warnings.length === 0 ? "" : r.warnings.length === 1 ? " One warning remains: see the marked tab."
        : ` ${plural(r.warnings.length, "warning")} remain: see the marked tabs.`;
      const hook = r.webhook ? (r.webhook.url ? ` Alerts will be sent to ${r.webhook.url}.` : " No webhook: alerts show in the console only.") : "";
      const off = r.offsite?.destination ? ` Off-site destination: s3://${r.offsite.destination.bucket}/${r.offsite.destination.prefix}.` : "";
      setNotice(`Settings saved.${r.anchor ? ` Scheduled backups count from ${r.anchor}.` : ""}${hook}${off}${warned}`);
      if (sent.webhook) {
        hookUrl.saved(r.webhook?.url ?? sent.webhook.url.trim());
        hookPrivate.saved(sent.webhook.allowPrivate);
        void queryClient.invalidateQueries({ queryKey: trpc.automation.webhook.queryKey() });
      }
      // The secret and passphrase fields empty again: what is stored is never shown.
      if (r.offsite) {
        offsite.saved(offsiteDraftOf(r.offsite));
        queryClient.setQueryData(trpc.offsite.get.queryKey(), r.offsite);
      }
      void queryClient.invalidateQueries({ queryKey: trpc.settings.get.queryKey() });
      void queryClient.invalidateQueries({ queryKey: trpc.backup.overview.queryKey() });
    },
    // The server sends one problem per line, and each with its field: shown there too, on its tab, opened.
    onError: (e, sent) => {
      setNotice(null);
      setErrors(e.message.split("\n").filter(Boolean));
      const problems = e.data?.problems ?? [];
      setRefused(problems.length ? { problems, sent: sent.settings as Draft } : null);
      if (problems[0]) setTab(TAB_NAMES.indexOf(tabOfPath(problems[0].path)));
    },
  }));

  const edit = (change: (d: Draft) => void) => {
    setNotice(null);
    form.set((prev) => {
      if (!prev) return prev;
      const next = structuredClone(prev.draft);
      change(next);
      return { ...prev, draft: next };
    });
  };

  const heading = <h1 className="text-2xl font-semibold">Settings</h1>;
  if (q.error) return <div className="space-y-4">{heading}<p role="alert" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-red-800">{q.error.message}</p></div>;
  if (!q.data) return <div className="space-y-4">{heading}<p className="text-slate-500">Loading…</p></div>;
  if (q.data.error) {
    const { line, reason } = q.data.error;
    return (
      <div className="space-y-4">
        {heading}
        <div role="alert" className="space-y-2 rounded border border-red-200 bg-red-50 px-4 py-3 text-red-900">
          <p className="font-semibold">The settings file is malformed{line ? ` at line ${line}` : ""}: {reason}</p>
          <p className="break-all font-mono text-sm">{q.data.file}</p>
          <p className="text-sm">Fix it by hand (or remove it to go back to the defaults). The console won&apos;t overwrite it, and scheduled backups don&apos;t run until it is fixed.</p>
        </div>
        <button type="button" onClick={() => void q.refetch()} className="rounded border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100">Read the file again</button>
      </div>
    );
  }
  if (!draft || !q.data.settings || !q.data.destination) return <div className="space-y-4">{heading}<p className="text-slate-500">Loading…</p></div>;
  const saved = toDraft(q.data.settings);
  const notes = fieldNotes(refused?.problems ?? [], refused?.sent ?? draft, q.data.warnings, saved, draft);
  const markOf = (name: SettingsTab) => {
    const here = notes.filter((n) => tabOfPath(n.path) === name);
    return here.some((n) => n.level === "error") ? "error" as const : here.length ? "warning" as const : undefined;
  };

  return (
    <form noValidate className="space-y-4" aria-label="Backup settings"
      onSubmit={(e) => {
        e.preventDefault();
        // The webhook goes with the rest once known (loaded, or typed by the admin); the server checks it only if it changed.
        const webhook = isAdmin && (hookQ.data || hookUrl.edited || hookPrivate.edited) ? { url: hookUrl.value, allowPrivate: hookPrivate.value } : undefined;
        const off = isAdmin && offsite.edited && offsite.value ? offsiteInputOf(offsite.value) : undefined;
        if (isAdmin) save.mutate({ settings: draft, revision, webhook, offsite: off });
      }}>
      {heading}
      <p className="break-all text-sm text-slate-500">Stored in <span className="font-mono">{q.data.file}</span></p>
      {!isAdmin && (
        <p className="rounded border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900">
          Read-only: only admins change the settings. You are signed in as {me.role === "operator" ? "an" : "a"} {me.role}.
        </p>
      )}
      <FieldNotesProvider value={notes}>
        <Tabs label="Settings" selected={tab} onSelect={setTab} tabs={[
          { label: "Scheduler", content: <SchedulerTab draft={draft} edit={edit} savedAnchor={saved.scheduler.anchor} /> },
          { label: "Configuration", content: <ConfigurationTab draft={draft} edit={edit} saved={saved} destination={q.data.destination} attachments={q.data.attachments} readOnly={!isAdmin} /> },
          { label: "Backup & Restore", content: <BackupRestoreTab draft={draft} edit={edit} /> },
          ...(isAdmin ? [{ label: "Notifications", content: (
            <NotificationsTab url={hookUrl.value} allowPrivate={hookPrivate.value} refusedUnlessAllowed={hookQ.data?.refusedUnlessAllowed}
              onUrl={(v) => { setNotice(null); hookUrl.set(v); }} onAllowPrivate={(v) => { setNotice(null); hookPrivate.set(v); }} />
          ) }] : []),
          ...(isAdmin && offsite.value ? [{ label: "Off-site", content: (
            <OffsiteTab draft={offsite.value} view={offQ.data}
              edit={(change) => { setNotice(null); offsite.set((prev) => { if (!prev) return prev; const next = structuredClone(prev); change(next); return next; }); }} />
          ) }] : []),
        ].map((t) => ({
          ...t,
          mark: markOf(t.label as SettingsTab),
          // A disabled fieldset disables every control in the panel (not the tabs): the read-only view, and no edits while saving.
          content: <fieldset disabled={!isAdmin || save.isPending} className="min-w-0">{t.content}</fieldset>,
        }))} />
      </FieldNotesProvider>
      {errors.length > 0 && (
        <div role="alert" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-red-900">
          <p className="font-semibold">The settings were not saved:</p>
          <ul className="ml-5 list-disc text-sm">{errors.map((m, i) => <li key={i}>{m}</li>)}</ul>
        </div>
      )}
      {save.isPending && locks?.structure.held && (
        <p role="status" className="rounded border border-amber-200 bg-amber-50 px-4 py-3 text-amber-900">
          A backup is in progress and holds the structure lock: the settings will be saved as soon as it ends.
        </p>
      )}
      {notice && <p role="status" className="rounded border border-emerald-200 bg-emerald-50 px-4 py-3 text-emerald-900">{notice}</p>}
      {isAdmin && (
        <button type="submit" disabled={save.isPending} className="rounded bg-blue-700 px-4 py-1.5 text-white hover:bg-blue-800 disabled:opacity-60">
          {save.isPending ? "Saving…" : "Save"}
        </button>
      )}
    </form>
  );
}
