"use client";
// API tokens (admin, docs/roles-and-api.md): create one with a role (its secret is shown this once), list them, revoke one.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ROLES, type Role } from "@/server/isomorphic/roles";
import { formatDate } from "../format";
import { useTRPC } from "../trpc";

export function TokensPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.tokens.list.queryOptions());
  const [error, setError] = useState<string | null>(null);
  // The new secret lives only in this component's state: the server keeps a hash and cannot show it again.
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const [copied, setCopied] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.tokens.list.queryKey() });
  const onError = (e: { message: string }) => setError(e.message);
  const create = useMutation(trpc.tokens.create.mutationOptions({
    onError,
    onSuccess: ({ token, secret }) => { setError(null); setCopied(false); setCreated({ name: token.name, secret }); void refresh(); },
  }));
  const revoke = useMutation(trpc.tokens.revoke.mutationOptions({ onError, onSuccess: () => { setError(null); setConfirming(null); void refresh(); } }));

  function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    create.mutate({ name: String(f.get("name")), role: String(f.get("role")) as Role });
    e.currentTarget.reset();
  }

  async function copy(secret: string) {
    try { await navigator.clipboard.writeText(secret); setCopied(true); } catch { setCopied(false); }
  }

  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-semibold">API tokens</h1>
      {error && <p role="alert" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-red-800">{error}</p>}
      {created && (
        <section aria-label="New token" className="rounded-lg border border-emerald-300 bg-emerald-50 p-5">
          <h2 className="mb-2 font-semibold">Token {created.name} created</h2>
          <p className="mb-2 text-sm">Copy this secret now: it is shown only this once. Programs send it in <code>STRONGBOX_TOKEN</code> (CLI) or as <code>Authorization: Bearer …</code>.</p>
          <div className="flex items-center gap-2">
            <input readOnly aria-label="Token secret" value={created.secret} onFocus={(e) => e.currentTarget.select()}
              className="w-full rounded border border-slate-300 bg-white px-2 py-1 font-mono text-sm" />
            <button type="button" onClick={() => void copy(created.secret)} className="rounded border border-slate-300 bg-white px-3 py-1 hover:bg-slate-100">Copy</button>
            <button type="button" onClick={() => setCreated(null)} className="rounded bg-slate-900 px-3 py-1 text-white">Done</button>
          </div>
          {copied && <p role="status" className="mt-2 text-sm text-emerald-900">Copied to the clipboard.</p>}
        </section>
      )}
      <section aria-label="Create a token" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
        <h2 className="mb-3 font-semibold">Create a token</h2>
        <form onSubmit={onSubmit} className="flex flex-wrap items-end gap-3">
          <label className="text-sm">Token name<input name="name" required maxLength={64} className="mt-1 block rounded border border-slate-300 px-2 py-1" /></label>
          <label className="text-sm">Role
            <select name="role" defaultValue="operator" className="mt-1 block rounded border border-slate-300 px-2 py-1">
              {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
            </select>
          </label>
          <button type="submit" className="rounded bg-blue-700 px-4 py-1.5 text-white hover:bg-blue-800">Create token</button>
        </form>
        <p className="mt-2 text-xs text-slate-500">A token acts with its role: viewer reads (e.g. <code>strongbox status</code>), operator also starts and stops backups, admin can do everything.</p>
      </section>
      <table className="w-full rounded-lg border border-slate-200 bg-white text-sm shadow-sm">
        <caption className="sr-only">API tokens</caption>
        <thead className="bg-slate-100 text-left">
          <tr><th className="px-4 py-2">Name</th><th className="px-4 py-2">Role</th><th className="px-4 py-2">Created</th><th className="px-4 py-2">Last used</th><th className="px-4 py-2"><span className="sr-only">Actions</span></th></tr>
        </thead>
        <tbody>
          {tokens.data?.length === 0 && <tr><td colSpan={5} className="px-4 py-3 text-slate-500">No API tokens yet.</td></tr>}
          {tokens.data?.map((t) => (
            <tr key={t.id} className="border-t border-slate-100">
              <td className="px-4 py-2 font-medium">{t.name}</td>
              <td className="px-4 py-2">{t.role}</td>
              <td className="px-4 py-2">{formatDate(t.createdAt)}{t.createdBy ? ` by ${t.createdBy}` : ""}</td>
              <td className="px-4 py-2">{t.lastUsedAt ? formatDate(t.lastUsedAt) : "never"}</td>
              <td className="px-4 py-2 text-right">
                {confirming === t.id ? (
                  <span role="group" aria-label={`Confirm revoking ${t.name}`} className="inline-flex items-center gap-2">
                    <span>Programs using it are refused at once.</span>
                    <button type="button" onClick={() => revoke.mutate({ id: t.id })} className="rounded bg-red-700 px-3 py-1 text-white hover:bg-red-800">Yes, revoke {t.name}</button>
                    <button type="button" onClick={() => setConfirming(null)} className="rounded border border-slate-300 px-3 py-1">Cancel</button>
                  </span>
                ) : (
                  <button type="button" onClick={() => setConfirming(t.id)} className="rounded border border-slate-300 px-3 py-1 hover:bg-red-50">Revoke {t.name}</button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
