import { redirect } from "next/navigation";
import { currentUser } from "@/server/web/current-user";
import { ConsoleShell } from "@/components/console-shell";

export const dynamic = "force-dynamic";

// Every console page checks the session and the user's current record on the server. A user whose password an
// admin set goes to the change-password page first, whatever page they asked for.
export default async function ConsoleLayout({ children }: { children: React.ReactNode }) {
  const user = await currentUser();
  if (!user) redirect("/login");
  if (user.mustChangePassword) redirect("/change-password");
  return <ConsoleShell user={{ username: user.username, role: user.role }}>{children}</ConsoleShell>;
}
