"use client";
// Notifications (admins): the webhook that alerts are POSTed to, as JSON. A console setting kept in console.sqlite,
// not in Settings/ (which goes into every archive). Private and loopback targets are refused unless allowed here.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { useTRPC } from "../trpc";
import { useSeededState } from "../use-seeded-state";

export function WebhookForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const id = useId();
  const q = useQuery(trpc.automation.webhook.queryOptions());
  // Field by field, what the user typed is kept even when the saved value finishes loading after it, and a field
  // the user didn't touch takes the loaded value (see use-seeded-state.ts).
  const url = useSeededState(q.data ? (q.data.url ?? "") : undefined, "");
  const allowPrivate = useSeededState(q.data?.allowPrivate, false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const save = useMutation(trpc.automation.setWebhook.mutationOptions({
    onSuccess: (r) => {
      url.saved(r.url ?? "");
      allowPrivate.saved(r.allowPrivate);
      setMessage({ ok: true, text: r.url ? `Alerts will be sent to ${r.url}.` : "No webhook: alerts show in the console only." });
      void queryClient.invalidateQueries({ queryKey: trpc.automation.webhook.queryKey() });
    },
    onError: (e) => setMessage({ ok: false, text: e.message }),
  }));
  return (
    <section aria-label="Notifications" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <h2 className="mb-2 font-semibold">Notifications</h2>
      <form noValidate className="flex flex-wrap items-end gap-3" onSubmit={(e) => { e.preventDefault(); save.mutate({ url: url.value, allowPrivate: allowPrivate.value }); }}>
        <label className="grow text-sm">Alert webhook URL
          <input value={url.value} onChange={(e) => { setMessage(null); url.set(e.target.value); }} placeholder="https://example.org/hooks/backups" maxLength={2000}
            className="mt-1 block w-full rounded border border-slate-300 px-2 py-1" />
        </label>
        <button type="submit" disabled={save.isPending} className="rounded bg-blue-700 px-4 py-1.5 text-white hover:bg-blue-800">Save webhook</button>
        <label className="flex basis-full items-center gap-2 text-sm">
          <input type="checkbox" checked={allowPrivate.value} onChange={(e) => { setMessage(null); allowPrivate.set(e.target.checked); }} aria-describedby={`${id}-private`} />
          Allow private and loopback addresses
        </label>
      </form>
      <p className="mt-2 text-xs text-slate-500">When an automatic backup can&apos;t be made, the alert is also POSTed here as JSON (status code, text, database, times). Leave empty for none.</p>
      <p id={`${id}-private`} className="mt-1 text-xs text-slate-500">
        Unless allowed, the server refuses to send alerts to {q.data?.refusedUnlessAllowed ?? "loopback, link-local and private addresses"}, whether the
        URL names them or its host name resolves to them (checked when saving and at each send). Redirects are not followed.
      </p>
      {message && <p role={message.ok ? "status" : "alert"} className={`mt-2 text-sm ${message.ok ? "text-emerald-800" : "text-red-700"}`}>{message.text}</p>}
    </section>
  );
}
