import { HistoryPage } from "@/components/history/history-page";

// Every role sees the history (docs/console.md); the layout has already checked the session.
export default function Page() {
  return <HistoryPage />;
}
