import { SettingsPage } from "@/components/settings/settings-page";

// Every role sees the settings; the page and the server allow changes to admins only.
export default function Page() {
  return <SettingsPage />;
}
