// Words for the History page: operation names, triggers, ages ("3 h 12 min ago"), outcome colours.
import type { Outcome } from "@/server/history/history-view";

const OPERATIONS: Record<string, string> = {
  backup: "Backup", restore: "Restore", automaticRestore: "Automatic restore", logIntegration: "Log integration",
};

export function operationLabel(operation: string): string {
  return OPERATIONS[operation] ?? operation;
}

/** A time span in the largest two units that matter: "2 days 3 h", "45 min", "20 s". */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86_400), h = Math.floor((s % 86_400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d) return `${d} day${d > 1 ? "s" : ""}${h ? ` ${h} h` : ""}`;
  if (h) return `${h} h${m ? ` ${m} min` : ""}`;
  if (m) return `${m} min`;
  return `${s} s`;
}

export const OUTCOME_TEXT: Record<Outcome, string> = { success: "text-emerald-700", partial: "text-amber-800", failed: "text-red-700" };
