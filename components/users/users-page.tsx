"use client";
// Users and roles (admin): add a user with a role, change a role, set a user's password (by default they must
// change it at their next sign-in), remove a user. Admins change their own password like everyone: Change password.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ROLES, type Role } from "@/server/isomorphic/roles";
import { useTRPC } from "../trpc";
import { useShellUser } from "../console-shell";

export function UsersPage() {
  const trpc = useTRPC();
  const me = useShellUser();
  const queryClient = useQueryClient();
  const users = useQuery(trpc.users.list.queryOptions());
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.users.list.queryKey() });
  const onError = (e: { message: string }) => { setNotice(null); setError(e.message); };
  const create = useMutation(trpc.users.create.mutationOptions({ onError, onSuccess: (u) => { setError(null); setNotice(`User ${u.username} added as ${u.role}.`); void refresh(); } }));
  const setRole = useMutation(trpc.users.setRole.mutationOptions({ onError, onSuccess: () => { setError(null); void refresh(); } }));
  const remove = useMutation(trpc.users.remove.mutationOptions({ onError, onSuccess: () => { setError(null); void refresh(); } }));
  // The user whose new password is being typed (one at a time).
  const [settingPassword, setSettingPassword] = useState<number | null>(null);
  const setPassword = useMutation(trpc.users.setPassword.mutationOptions({
    onError,
    onSuccess: (u) => {
      setError(null);
      setSettingPassword(null);
      setNotice(`The password of ${u.username} was changed; their open sessions were ended.${u.mustChangePassword ? " They must choose their own at their next sign-in." : ""}`);
      void refresh();
    },
  }));

  function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    create.mutate({ username: String(f.get("username")), password: String(f.get("password")), role: String(f.get("role")) as Role });
    e.currentTarget.reset();
  }

  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-semibold">Users</h1>
      {error && <p role="alert" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-red-800">{error}</p>}
      {notice && <p role="status" className="rounded border border-emerald-200 bg-emerald-50 px-4 py-3 text-emerald-900">{notice}</p>}
      <section aria-label="Add a user" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
        <h2 className="mb-3 font-semibold">Add a user</h2>
        <form onSubmit={onSubmit} className="flex flex-wrap items-end gap-3">
          <label className="text-sm">User name<input name="username" required maxLength={64} className="mt-1 block rounded border border-slate-300 px-2 py-1" /></label>
          <label className="text-sm">Password<input name="password" type="password" required minLength={8} maxLength={200} className="mt-1 block rounded border border-slate-300 px-2 py-1" /></label>
          <label className="text-sm">Role
            <select name="role" defaultValue="viewer" className="mt-1 block rounded border border-slate-300 px-2 py-1">
              {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
            </select>
          </label>
          <button type="submit" className="rounded bg-blue-700 px-4 py-1.5 text-white hover:bg-blue-800">Add user</button>
        </form>
        <p className="mt-2 text-xs text-slate-500">Viewers see everything and download journals; operators also start and stop backups; admins also change settings, restore and manage users.</p>
      </section>
      <table className="w-full rounded-lg border border-slate-200 bg-white text-sm shadow-sm">
        <caption className="sr-only">Console users</caption>
        <thead className="bg-slate-100 text-left"><tr><th className="px-4 py-2">User</th><th className="px-4 py-2">Role</th><th className="px-4 py-2">Added</th><th className="px-4 py-2"><span className="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {users.data?.map((u) => (
            <tr key={u.id} className="border-t border-slate-100">
              <td className="px-4 py-2">
                {u.username}{u.username === me.username ? " (you)" : ""}
                {u.mustChangePassword && <div className="text-xs text-amber-800">must change password at next sign-in</div>}
              </td>
              <td className="px-4 py-2">
                <select aria-label={`Role of ${u.username}`} value={u.role} onChange={(e) => setRole.mutate({ id: u.id, role: e.target.value as Role })}
                  className="rounded border border-slate-300 px-2 py-1">
                  {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
                </select>
              </td>
              <td className="px-4 py-2">{new Date(u.createdAt).toLocaleDateString()}</td>
              <td className="px-4 py-2 text-right">
                {settingPassword === u.id ? (
                  <form aria-label={`New password for ${u.username}`} className="inline-flex flex-wrap items-center justify-end gap-2"
                    onSubmit={(e) => {
                      e.preventDefault();
                      const f = new FormData(e.currentTarget);
                      setPassword.mutate({ id: u.id, password: String(f.get("password")), mustChange: f.get("mustChange") === "on" });
                    }}>
                    <label className="text-sm">New password
                      <input name="password" type="password" required minLength={8} maxLength={200} autoComplete="new-password"
                        className="ml-2 rounded border border-slate-300 px-2 py-1" />
                    </label>
                    {/* Someone else's password is a temporary one they replace; one's own is simply changed. */}
                    {u.username !== me.username && (
                      <label className="flex items-center gap-1 text-sm">
                        <input type="checkbox" name="mustChange" defaultChecked /> Must change it at next sign-in
                      </label>
                    )}
                    <button type="submit" disabled={setPassword.isPending} className="rounded bg-blue-700 px-3 py-1 text-white hover:bg-blue-800">Save password</button>
                    <button type="button" onClick={() => setSettingPassword(null)} className="rounded border border-slate-300 px-3 py-1">Cancel</button>
                  </form>
                ) : (
                  <span className="inline-flex gap-2">
                    <button type="button" onClick={() => setSettingPassword(u.id)}
                      className="rounded border border-slate-300 px-3 py-1 hover:bg-slate-50">Set password of {u.username}</button>
                    <button type="button" onClick={() => { if (confirm(`Remove ${u.username}?`)) remove.mutate({ id: u.id }); }}
                      className="rounded border border-slate-300 px-3 py-1 hover:bg-red-50">Remove {u.username}</button>
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
