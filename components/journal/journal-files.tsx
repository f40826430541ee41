"use client";
// The journal files (number, size, last change), the current one marked: pick one to read, download one or all.
import type { JournalFileInfo } from "@/server/journal/journal-reader";
import { formatBytes, formatDate } from "../format";

export function JournalFiles({ files, shown, onSelect }: { files: JournalFileInfo[]; shown: number | null; onSelect: (file: JournalFileInfo) => void }) {
  // Most recently written first: after a wrap, [001] is newer than [999].
  const ordered = [...files].sort((a, b) => (a.current ? -1 : b.current ? 1 : b.mtime.localeCompare(a.mtime) || b.number - a.number));
  return (
    <section aria-label="Journal files" className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <div className="mb-2 flex flex-wrap items-center gap-3">
        <h2 className="text-base font-semibold">Journal files</h2>
        <a href="/api/journal/all" download className="ml-auto rounded border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100">
          Download all (ZIP)
        </a>
      </div>
      <table className="w-full text-sm">
        <thead className="text-left text-slate-500">
          <tr><th className="py-1 font-normal">File</th><th className="font-normal">Size</th><th className="font-normal">Last change</th><th><span className="sr-only">Download</span></th></tr>
        </thead>
        <tbody>
          {ordered.map((f) => (
            <tr key={f.number} className={`border-t border-slate-100 ${f.number === shown ? "bg-slate-50" : ""}`}>
              <td className="py-1">
                <button type="button" onClick={() => onSelect(f)} aria-pressed={f.number === shown}
                  className={`text-left hover:underline ${f.number === shown ? "font-semibold" : "text-blue-800"}`}>
                  {f.name}
                </button>
                {f.current && <span className="ml-2 rounded bg-blue-100 px-1.5 py-0.5 text-xs text-blue-900">Current</span>}
              </td>
              <td>{formatBytes(f.size)}</td>
              <td>{formatDate(f.mtime)}</td>
              <td className="text-right">
                <a href={`/api/journal/${f.number}`} download aria-label={`Download ${f.name}`} className="text-blue-800 hover:underline">Download</a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
