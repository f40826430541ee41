"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { signOut } from "next-auth/react";
import { createContext, useContext, useEffect, useState } from "react";
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
  const [menuOpen, setMenuOpen] = useState(false);
  // A page chosen from the folded menu closes it.
  useEffect(() => setMenuOpen(false), [pathname]);
  return (
    <TrpcProviders>
      <EventStreamProvider>
        <UserContext.Provider value={user}>
          <header className="border-b border-slate-200 bg-white">
            {/* Below the lg breakpoint the menu and the account buttons fold behind one Menu button, so nothing is cut off. */}
            <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3 lg:flex-nowrap lg:px-6">
              <span className="text-lg font-semibold">Strongbox</span>
              <button type="button" onClick={() => setMenuOpen((o) => !o)} aria-expanded={menuOpen} aria-controls="console-menu"
                className="ml-auto rounded border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100 lg:hidden">
                <span aria-hidden="true">☰ </span>Menu
              </button>
              <div id="console-menu" className={`${menuOpen ? "flex" : "hidden"} w-full flex-col gap-3 lg:flex lg:w-auto lg:flex-1 lg:flex-row lg:items-center`}>
                <nav aria-label="Main" className="flex flex-col gap-1 lg:flex-row">
                  {NAV.filter((n) => rank[user.role] >= rank[n.role]).map((n) => (
                    <Link key={n.href} href={n.href} aria-current={pathname === n.href ? "page" : undefined}
                      className={`rounded px-3 py-1.5 text-sm ${pathname === n.href ? "bg-slate-900 text-white" : "text-slate-700 hover:bg-slate-100"}`}>
                      {n.label}
                    </Link>
                  ))}
                </nav>
                <div className="flex flex-wrap items-center gap-3 text-sm lg:ml-auto">
                  <span className="text-slate-600">{user.username} · {user.role}</span>
                  <Link href="/change-password" className="rounded border border-slate-300 px-3 py-1 hover:bg-slate-100">Change password</Link>
                  <button type="button" onClick={() => signOut({ callbackUrl: "/login" })}
                    className="rounded border border-slate-300 px-3 py-1 hover:bg-slate-100">Sign out</button>
                </div>
              </div>
            </div>
          </header>
          <main className="mx-auto max-w-6xl px-4 py-6 lg:px-6">{children}</main>
        </UserContext.Provider>
      </EventStreamProvider>
    </TrpcProviders>
  );
}
