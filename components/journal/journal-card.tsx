"use client";
// One journal block as a readable card: header and status, trigger, times, archive, attachments with OK/NOT FOUND,
// errors in red, notes and the block as written folded away.
import type { BlockStatus, JournalTime, ParsedBlock } from "@/server/isomorphic/journal-block";
import { formatDate } from "../format";

export const KIND_LABELS = {
  backup: "Full backup",
  restore: "Full backup restore",
  automaticRestore: "Automatic full backup restore",
  logIntegration: "Log integration",
  verification: "Archive verification",
  postponed: "Backup postponed",
} as const;

export const STATUS_LABELS: Record<BlockStatus, string> = { ok: "OK", partial: "Partial", failed: "Failed", postponed: "Postponed" };

const BADGE: Record<BlockStatus | "running", string> = {
  ok: "bg-emerald-100 text-emerald-900",
  partial: "bg-amber-100 text-amber-900",
  failed: "bg-red-100 text-red-900",
  postponed: "bg-slate-200 text-slate-800",
  running: "bg-blue-100 text-blue-900",
};

/** The title a card carries: the kind in words, else the header as written. */
export function blockTitle(block: ParsedBlock): string {
  if (block.kind) return KIND_LABELS[block.kind];
  return block.header || "Text outside any block";
}

/** A journal time in the browser's words, the journal's own text on hover. */
function When({ time }: { time: JournalTime }) {
  return <span title={time.text}>{time.iso ? formatDate(time.iso) : time.text}</span>;
}

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <>
      <dt className="text-slate-500">{label}</dt>
      <dd className="min-w-0 break-all">{children}</dd>
    </>
  );
}

export function JournalCard({ block, text, running = false }: { block: ParsedBlock; text: string; running?: boolean }) {
  const title = blockTitle(block);
  const when = block.starting ? (block.starting.iso ? formatDate(block.starting.iso) : block.starting.text) : null;
  const badge = running ? "running" : block.status;
  const label = `${running ? "Running: " : ""}${title}${when ? `, ${when}` : ""}`;
  const border = running ? "border-blue-300" : block.status === "failed" ? "border-red-200" : block.status === "partial" ? "border-amber-200" : "border-slate-200";
  return (
    <article aria-label={label} className={`rounded-lg border ${border} bg-white p-4 shadow-sm`}>
      <div className="mb-2 flex flex-wrap items-baseline gap-3">
        <h3 className="font-semibold">{title}</h3>
        <span className={`rounded px-2 py-0.5 text-xs font-medium ${BADGE[badge]}`}>
          {running ? "Running" : STATUS_LABELS[block.status]}
        </span>
        {when && <span className="text-sm text-slate-600">{when}</span>}
      </div>
      <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-0.5 text-sm">
        {block.trigger && <Row label="Trigger">{block.trigger.text}</Row>}
        {block.scheduled && <Row label="Scheduled"><When time={block.scheduled} /></Row>}
        {block.starting && <Row label="Started"><When time={block.starting} /></Row>}
        {block.ending && <Row label="Ended"><When time={block.ending} /></Row>}
        {block.duration && <Row label="Duration">{block.duration.text}</Row>}
        {block.archivePath && <Row label="Archive">{block.archivePath}</Row>}
        {block.logBackupPath && <Row label="Log backup">{block.logBackupPath}</Row>}
        {block.content && <Row label="Content">{block.content}</Row>}
        {block.archive && (
          <Row label="Archive file">
            {block.archive.size}, {block.archive.verified ? "verified" : <span className="text-amber-800">not verified</span>}
            <span className="block font-mono text-xs text-slate-500" title="SHA-256 of the archive">sha256 {block.archive.sha256}</span>
          </Row>
        )}
        {block.attachments.length > 0 && (
          <Row label="Attachments">
            <ul aria-label="Attachments">
              {block.attachments.map((a, i) => (
                <li key={i}>
                  {a.path}{" "}
                  {a.found ? <span className="font-medium text-emerald-700">[OK]</span> : <span className="font-medium text-red-700">[NOT FOUND]</span>}
                </li>
              ))}
            </ul>
          </Row>
        )}
      </dl>
      {block.errors.length > 0 && (
        <ul aria-label="Errors" className="mt-2 space-y-0.5 text-sm text-red-700">
          {block.errors.map((e, i) => <li key={i}><span className="font-medium">Error {e.code}</span>{e.text ? ` — ${e.text}` : ""}</li>)}
        </ul>
      )}
      {block.notes.length > 0 && (
        <details className="mt-2 text-sm">
          <summary className="cursor-pointer text-slate-600">Notes ({block.notes.length})</summary>
          <pre className="mt-1 overflow-x-auto whitespace-pre-wrap rounded bg-slate-50 p-2 text-xs">{block.notes.join("\n")}</pre>
        </details>
      )}
      <details className="mt-1 text-sm">
        <summary className="cursor-pointer text-slate-500">As written in the journal</summary>
        <pre className="mt-1 overflow-x-auto whitespace-pre-wrap rounded bg-slate-50 p-2 text-xs">{text}</pre>
      </details>
    </article>
  );
}
