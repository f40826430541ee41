import { HistoryPage } from "@/components/history/history-page";

// Every role sees the history (spec §10); the layout has already checked the session.
export default function Page() {
  return <HistoryPage />;
}
