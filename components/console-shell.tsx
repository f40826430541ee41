"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { signOut } from "next-auth/react";
import { createContext, useContext } from "react";
import type { Role } from "@/server/auth/roles";
import { EventStreamProvider } from "./event-stream";
import { TrpcProviders } from "./trpc";

export interface ShellUser { username: string; role: Role }
const UserContext = createContext<ShellUser | null>(null);
export const useShellUser = () => useContext(UserContext)!;

const NAV = [
  { href: "/", label: "Backup", role: "viewer" },
  { href: "/journal", label: "Journal", role: "viewer" },
  { href: "/history", label: "History", role: "viewer" },
  { href: "/data", label: "Data", role: "viewer" },
  { href: "/restore", label: "Restore", role: "admin" },
  { href: "/settings", label: "Settings", role: "viewer" },
  { href: "/users", label: "Users", role: "admin" },
  { href: "/tokens", label: "Tokens", role: "admin" },
] as const;

export function ConsoleShell({ user, children }: { user: ShellUser; children: React.ReactNode }) {
  const pathname = usePathname();
  const rank = { viewer: 0, operator: 1, admin: 2 } as const;
  return (
    <TrpcProviders>
      <EventStreamProvider>
        <UserContext.Provider value={user}>
          <header className="border-b border-slate-200 bg-white">
            <div className="mx-auto flex max-w-6xl items-center gap-6 px-6 py-3">
              <span className="text-lg font-semibold">Strongbox</span>
              <nav aria-label="Main" className="flex gap-1">
                {NAV.filter((n) => rank[user.role] >= rank[n.role]).map((n) => (
                  <Link key={n.href} href={n.href} aria-current={pathname === n.href ? "page" : undefined}
                    className={`rounded px-3 py-1.5 text-sm ${pathname === n.href ? "bg-slate-900 text-white" : "text-slate-700 hover:bg-slate-100"}`}>
                    {n.label}
                  </Link>
                ))}
              </nav>
              <div className="ml-auto flex items-center gap-3 text-sm">
                <span className="text-slate-600">{user.username} · {user.role}</span>
                <Link href="/change-password" className="rounded border border-slate-300 px-3 py-1 hover:bg-slate-100">Change password</Link>
                <button type="button" onClick={() => signOut({ callbackUrl: "/login" })}
                  className="rounded border border-slate-300 px-3 py-1 hover:bg-slate-100">Sign out</button>
              </div>
            </div>
          </header>
          <main className="mx-auto max-w-6xl px-6 py-6">{children}</main>
        </UserContext.Provider>
      </EventStreamProvider>
    </TrpcProviders>
  );
}
