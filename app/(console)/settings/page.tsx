import { SettingsPage } from "@/components/settings/settings-page";
import { WebhookForm } from "@/components/settings/webhook-form";
import { currentUser } from "@/server/web/current-user";

export const dynamic = "force-dynamic";

// Every role sees the settings; the page and the server allow changes to admins only. The webhook is an admin's.
export default async function Page() {
  const user = await currentUser();
  return (
    <div className="space-y-6">
      <SettingsPage />
      {user?.role === "admin" && <WebhookForm />}
    </div>
  );
}
