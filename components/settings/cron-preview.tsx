"use client";
// Slot for the cron preview (the next run times of an expression). The scheduler work fills this in with its
// next-run function; until then it only says what the five fields are.
export function CronPreview({ expression }: { expression: string }) {
  return (
    <p data-slot="cron-preview" className="text-xs text-slate-500">
      {expression.trim() === "" ? "Five fields: minute hour day-of-month month day-of-week, in the server's local time." : "Times are the server's local time."}
    </p>
  );
}
