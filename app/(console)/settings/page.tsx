import { SettingsPage } from "@/components/settings/settings-page";

export const dynamic = "force-dynamic";

// Every role sees the settings; the page and the server allow changes to admins only (the webhook tab too).
export default function Page() {
  return <SettingsPage />;
}
