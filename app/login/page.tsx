import { redirect } from "next/navigation";
import { currentUser } from "@/server/web/current-user";
import { LoginForm } from "@/components/login-form";
import { safeLocalPath } from "@/server/web/safe-redirect";
import { getServices } from "@/server/services";

export const dynamic = "force-dynamic";

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string }> }) {
  if (await currentUser()) redirect("/");
  const { callbackUrl } = await searchParams;
  const { users, paths } = await getServices();
  // Only a path on this site: "//host", "/.//host" or "/\\host" would send the browser to another origin.
  return <LoginLayout callbackUrl={safeLocalPath(callbackUrl)} firstPasswordFile={await users.initialPasswordHint(paths.initialPasswordFile)} />;
}

function LoginLayout({ callbackUrl: target, firstPasswordFile }: { callbackUrl: string; firstPasswordFile: string | null }) {
  return (
    <main className="flex min-h-screen items-center justify-center p-6">
      <div className="w-full max-w-sm rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
        <h1 className="mb-1 text-2xl font-semibold">Strongbox</h1>
        <p className="mb-6 text-sm text-slate-600">Sign in to the backup console.</p>
        {/* First start: the first admin's password was written to a file only the server's user can read. */}
        {firstPasswordFile && (
          <p role="note" className="mb-6 rounded border border-blue-200 bg-blue-50 px-3 py-2 text-sm text-blue-900">
            First start: sign in as <strong>admin</strong> with the password in <span className="break-all font-mono">{firstPasswordFile}</span> on
            the server, then change it (Change password, at the top of the console).
          </p>
        )}
        <LoginForm callbackUrl={target} />
      </div>
    </main>
  );
}
