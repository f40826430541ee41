import { currentUser } from "@/server/web/current-user";
import { TokensPage } from "@/components/tokens/tokens-page";

export const dynamic = "force-dynamic";

export default async function Page() {
  const user = await currentUser();
  if (user?.role !== "admin") {
    return <p role="alert" className="rounded border border-amber-200 bg-amber-50 px-4 py-3">API tokens are managed by admins. You are signed in as a {user?.role}.</p>;
  }
  return <TokensPage />;
}
