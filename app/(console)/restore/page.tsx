import { currentUser } from "@/server/web/current-user";
import { RestorePage } from "@/components/restore/restore-page";

export const dynamic = "force-dynamic";

// Restore is for admins (docs/console.md); the server checks the role on every procedure too.
export default async function Page() {
  const user = await currentUser();
  if (user?.role !== "admin") {
    return <p role="alert" className="rounded border border-amber-200 bg-amber-50 px-4 py-3">Restores are made by admins. You are signed in as a {user?.role}.</p>;
  }
  return <RestorePage />;
}
