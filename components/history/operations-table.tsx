"use client";
// The operations of backupHistory.json, newest first, a page at a time; "Details" opens one operation below. The
// attempts at one backup number (failed and stopped ones reuse the number) are one group, the committed one marked.
import type { HistoryOperation } from "@/server/history/history-view";
import { plural } from "@/server/isomorphic/plural";
import { formatBytes, formatDate, formatDuration } from "../format";
import { operationLabel, OUTCOME_TEXT } from "./history-format";

export const PAGE_SIZE = 20;

/** The server lists a group's attempts together, newest first: a group starts at an operation that is no attempt
 * or is the newest attempt at its number. */
function groupsOf(operations: HistoryOperation[]): HistoryOperation[][] {
  const groups: HistoryOperation[][] = [];
  for (const o of operations) {
    if (!o.attempt || o.attempt.index === o.attempt.of || groups.length === 0) groups.push([o]);
    else groups.at(-1)!.push(o);
  }
  return groups;
}

interface Props {
  operations: HistoryOperation[];
  total: number;
  offset: number;
  onOffset: (offset: number) => void;
  selectedId: string | null;
  onSelect: (id: string) => void;
  detailsId: string;
}

const th = "px-3 py-2 font-medium";
const td = "px-3 py-2 align-top";

export function OperationsTable({ operations, total, offset, onOffset, selectedId, onSelect, detailsId }: Props) {
  // The server pages by groups (the attempts at one number count as one).
  const last = Math.min(total, offset + groupsOf(operations).length);
  return (
    <div>
      <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
        <table className="w-full text-sm">
          <caption className="sr-only">Operations in backupHistory.json, newest first</caption>
          <thead className="bg-slate-100 text-left">
            <tr>
              <th scope="col" className={th}>Number</th>
              <th scope="col" className={th}>Operation</th>
              <th scope="col" className={th}>Trigger</th>
              <th scope="col" className={th}>User</th>
              <th scope="col" className={th}>Started</th>
              <th scope="col" className={th}>Duration</th>
              <th scope="col" className={th}>Size</th>
              <th scope="col" className={th}>Status</th>
              <th scope="col" className={th}><span className="sr-only">Actions</span></th>
            </tr>
          </thead>
          {groupsOf(operations).map((group) => {
            const many = group.length > 1;
            const first = group[0]!;
            return (
              <tbody key={first.id} aria-label={many ? `Backup #${first.number}: ${plural(group.length, "attempt")}` : undefined}
                className={many ? "border-y-2 border-slate-200" : undefined}>
                {group.map((o) => {
                  const selected = o.id === selectedId;
                  return (
                    <tr key={o.id} onClick={() => onSelect(o.id)}
                      className={`cursor-pointer border-t border-slate-100 ${selected ? "bg-blue-50" : "hover:bg-slate-50"}`}>
                      <td className={`${td} font-medium`}>
                        {o === first ? (o.number || "—") : <span className="sr-only">{o.number}</span>}
                        {many && (
                          <div className="whitespace-nowrap text-xs font-normal">
                            {o.committed ? <span className="rounded bg-emerald-100 px-1.5 py-0.5 text-emerald-800">committed</span>
                              : <span className="text-slate-500">attempt {o.attempt!.index} of {o.attempt!.of}</span>}
                          </div>
                        )}
                      </td>
                      <td className={td}>{operationLabel(o.operation)}</td>
                      <td className={td}>{o.trigger ?? "—"}</td>
                      <td className={td}>{o.user ?? "—"}</td>
                      <td className={`${td} whitespace-nowrap`}>{formatDate(o.startingDate)}</td>
                      <td className={`${td} whitespace-nowrap`}>{formatDuration(o.duration)}</td>
                      <td className={`${td} whitespace-nowrap`}>{formatBytes(o.archiveSize)}</td>
                      <td className={`${td} ${OUTCOME_TEXT[o.outcome]}`}>
                        <span className="line-clamp-2 max-w-xs" title={o.statusText}>
                          {o.status} — {o.statusText}
                        </span>
                      </td>
                      <td className={`${td} text-right`}>
                        {/* The row is clickable for a mouse; the button is the keyboard's and the screen reader's way in. */}
                        <button type="button" onClick={(e) => { e.stopPropagation(); onSelect(o.id); }}
                          aria-expanded={selected} aria-controls={selected ? detailsId : undefined}
                          aria-label={`Details of ${operationLabel(o.operation).toLowerCase()} #${o.number}${many ? ` (${o.committed ? "committed" : `attempt ${o.attempt!.index} of ${o.attempt!.of}`})` : ""}, ${formatDate(o.startingDate)}`}
                          className="rounded border border-slate-300 px-3 py-1 hover:bg-slate-100">
                          Details
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            );
          })}
        </table>
      </div>
      <nav aria-label="Operations pages" className="mt-2 flex items-center gap-3 text-sm">
        <span className="text-slate-600">Operations {total ? offset + 1 : 0}–{last} of {total}</span>
        <button type="button" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - PAGE_SIZE))}
          className="ml-auto rounded border border-slate-300 px-3 py-1 hover:bg-slate-100 disabled:opacity-40">Newer</button>
        <button type="button" disabled={last >= total} onClick={() => onOffset(offset + PAGE_SIZE)}
          className="rounded border border-slate-300 px-3 py-1 hover:bg-slate-100 disabled:opacity-40">Older</button>
      </nav>
    </div>
  );
}
