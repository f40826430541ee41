import { Suspense } from "react";
import { DataPage } from "@/components/data/data-page";

// The Data page reads the selected table from the URL (?table=), which needs a Suspense boundary in the App Router.
export default function Page() {
  return (
    <Suspense fallback={<p className="text-slate-500">Loading…</p>}>
      <DataPage />
    </Suspense>
  );
}
