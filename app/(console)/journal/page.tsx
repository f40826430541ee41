import { JournalPage } from "@/components/journal/journal-page";

// Every role reads and downloads the journal; the console layout has checked the session.
export default function Page() {
  return <JournalPage />;
}
