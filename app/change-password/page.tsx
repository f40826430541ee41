import { redirect } from "next/navigation";
import { ChangePasswordForm } from "@/components/change-password-form";
import { currentUser } from "@/server/web/current-user";

export const dynamic = "force-dynamic";

// Outside the console's shell: a user whose password an admin set lands here after signing in and can do nothing
// else (every page sends them here, the API refuses them) until they have chosen their own.
export default async function ChangePasswordPage() {
  const user = await currentUser();
  if (!user) redirect("/login");
  return (
    <main className="flex min-h-screen items-center justify-center p-6">
      <div className="w-full max-w-sm rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
        <h1 className="mb-1 text-2xl font-semibold">Change password</h1>
        {user.mustChangePassword ? (
          <p role="status" className="mb-6 rounded border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
            An admin set a new password for <strong>{user.username}</strong>. Choose your own to go on: the console is
            available once it is changed.
          </p>
        ) : <p className="mb-6 text-sm text-slate-600">Signed in as <strong>{user.username}</strong>. Your other sessions end when the password changes.</p>}
        <ChangePasswordForm username={user.username} forced={user.mustChangePassword} />
      </div>
    </main>
  );
}
