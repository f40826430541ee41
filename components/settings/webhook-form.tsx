"use client";
// Notifications (admins): the webhook that alerts are POSTed to, as JSON. A console setting kept in console.sqlite,
// not in Settings/ (which goes into every archive).
import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTRPC } from "../trpc";

export function WebhookForm() {
  const trpc = useTRPC();
  const q = useQuery(trpc.automation.webhook.queryOptions());
  const [url, setUrl] = useState("");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => { if (q.data) setUrl(q.data.url ?? ""); }, [q.data]);
  const save = useMutation(trpc.automation.setWebhook.mutationOptions({
    onSuccess: (r) => { setMessage({ ok: true, text: r.url ? `Alerts will be sent to ${r.url}.` : "No webhook: alerts show in the console only." }); void q.refetch(); },
    onError: (e) => setMessage({ ok: false, text: e.message }),
  }));
  return (
    <section aria-label="Notifications" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <h2 className="mb-2 font-semibold">Notifications</h2>
      <form noValidate className="flex flex-wrap items-end gap-3" onSubmit={(e) => { e.preventDefault(); save.mutate({ url }); }}>
        <label className="grow text-sm">Alert webhook URL
          <input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.org/hooks/backups"
            className="mt-1 block w-full rounded border border-slate-300 px-2 py-1" />
        </label>
        <button type="submit" disabled={save.isPending} className="rounded bg-blue-700 px-4 py-1.5 text-white hover:bg-blue-800">Save webhook</button>
      </form>
      <p className="mt-2 text-xs text-slate-500">When an automatic backup can&apos;t be made, the alert is also POSTed here as JSON (status code, text, database, times). Leave empty for none.</p>
      {message && <p role={message.ok ? "status" : "alert"} className={`mt-2 text-sm ${message.ok ? "text-emerald-800" : "text-red-700"}`}>{message.text}</p>}
    </section>
  );
}
