"use client";
// A user changes their own password: the current one, then the new one twice. The server ends every session of the
// user (this one too), so on success the form signs in again with the new password and opens the console.
import { useMutation } from "@tanstack/react-query";
import { signIn, signOut } from "next-auth/react";
import { useState } from "react";
import { TrpcProviders, useTRPC } from "./trpc";

export function ChangePasswordForm(props: { username: string; forced: boolean }) {
  return <TrpcProviders><Form {...props} /></TrpcProviders>;
}

const input = "w-full rounded border border-slate-300 px-3 py-2 focus:outline-2 focus:outline-blue-600";

function Form({ username, forced }: { username: string; forced: boolean }) {
  const trpc = useTRPC();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const change = useMutation(trpc.users.changeOwnPassword.mutationOptions());

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const current = String(f.get("current") ?? "");
    const password = String(f.get("password") ?? "");
    if (password !== String(f.get("confirm") ?? "")) return setError("The two new passwords differ: type the same one twice.");
    setBusy(true);
    setError(null);
    try {
      await change.mutateAsync({ current, password });
    } catch (err) {
      setBusy(false);
      return setError((err as Error).message);
    }
    // The change ended this session too: a new one with the new password.
    const res = await signIn("credentials", { redirect: false, username, password });
    if (!res || res.error) {
      window.location.assign("/login");
      return;
    }
    window.location.assign("/");
  }

  return (
    <form onSubmit={onSubmit} className="space-y-4" aria-label="Change password">
      <div>
        <label htmlFor="current" className="mb-1 block text-sm font-medium">Current password</label>
        <input id="current" name="current" type="password" autoComplete="current-password" required autoFocus className={input} />
      </div>
      <div>
        <label htmlFor="password" className="mb-1 block text-sm font-medium">New password</label>
        <input id="password" name="password" type="password" autoComplete="new-password" required minLength={8} maxLength={200} className={input} />
      </div>
      <div>
        <label htmlFor="confirm" className="mb-1 block text-sm font-medium">New password again</label>
        <input id="confirm" name="confirm" type="password" autoComplete="new-password" required minLength={8} maxLength={200} className={input} />
      </div>
      {error && <p role="alert" className="rounded bg-red-50 px-3 py-2 text-sm text-red-800">{error}</p>}
      <button type="submit" disabled={busy} className="w-full rounded bg-blue-700 px-4 py-2 font-medium text-white hover:bg-blue-800 disabled:opacity-60">
        {busy ? "Changing…" : "Change password"}
      </button>
      {forced ? (
        <button type="button" onClick={() => signOut({ callbackUrl: "/login" })} className="w-full rounded border border-slate-300 px-4 py-2 text-sm hover:bg-slate-100">Sign out</button>
      ) : <a href="/" className="block text-center text-sm text-blue-700 hover:underline">Back to the console</a>}
    </form>
  );
}
