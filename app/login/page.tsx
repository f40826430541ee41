import { redirect } from "next/navigation";
import { currentUser } from "@/server/web/current-user";
import { LoginForm } from "@/components/login-form";
import { safeLocalPath } from "@/server/web/safe-redirect";

export const dynamic = "force-dynamic";

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string }> }) {
  if (await currentUser()) redirect("/");
  const { callbackUrl } = await searchParams;
  // Only a path on this site: "//host", "/.//host" or "/\\host" would send the browser to another origin.
  return <LoginLayout callbackUrl={safeLocalPath(callbackUrl)} />;
}

function LoginLayout({ callbackUrl: target }: { callbackUrl: string }) {
  return (
    <main className="flex min-h-screen items-center justify-center p-6">
      <div className="w-full max-w-sm rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
        <h1 className="mb-1 text-2xl font-semibold">Strongbox</h1>
        <p className="mb-6 text-sm text-slate-600">Sign in to the backup console.</p>
        <LoginForm callbackUrl={target} />
      </div>
    </main>
  );
}
