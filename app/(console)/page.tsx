import { BackupPage } from "@/components/backup/backup-page";

export default function Page() {
  return <BackupPage />;
}
