"use client";
// The Journal page (docs/console.md): the journal files, the selected file's operations newest first as cards, filters by
// operation and status, text search and paging — all done on the server, a page at a time — and the running
// operation's block live at the top of the current file's first page.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import type { JournalFileInfo } from "@/server/journal/journal-reader";
import type { BlockStatus } from "@/server/isomorphic/journal-block";
import type { OperationKind } from "@/server/operation";
import { useTRPC } from "../trpc";
import { JournalCard, KIND_LABELS, STATUS_LABELS } from "./journal-card";
import { JournalFiles } from "./journal-files";
import { useLiveBlock } from "./use-live-block";

/** Cards per page: a screenful or two; the server allows up to 100. */
const PAGE_SIZE = 20;
/** Typing pauses this long before the search goes to the server. */
const SEARCH_DELAY_MS = 300;

const selectClass = "rounded border border-slate-300 px-2 py-1";

export function JournalPage() {
  const trpc = useTRPC();
  /** The file picked by the user; null follows the current file (the one new blocks go to). */
  const [picked, setPicked] = useState<number | null>(null);
  const [offset, setOffset] = useState(0);
  const [kind, setKind] = useState<OperationKind | "">("");
  const [status, setStatus] = useState<BlockStatus | "">("");
  const [searchText, setSearchText] = useState("");
  const [search, setSearch] = useState("");
  const ids = { kind: useId(), status: useId(), search: useId() };

  useEffect(() => {
    const timer = setTimeout(() => {
      setSearch(searchText.trim());
      setOffset(0);
    }, SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [searchText]);

  const files = useQuery(trpc.journal.files.queryOptions());
  const page = useQuery(trpc.journal.page.queryOptions(
    { number: picked ?? undefined, offset, limit: PAGE_SIZE, kind: kind || undefined, status: status || undefined, search: search || undefined },
    { placeholderData: keepPreviousData },
  ));
  const data = page.data;
  const shown = data?.file.number ?? null;
  const onCurrentFirstPage = (data ? data.file.current : files.data?.length === 0) && offset === 0;
  const live = useLiveBlock(onCurrentFirstPage ? data?.blocks ?? [] : undefined);
  // The running block shows where its finished block will: not under filters that the finished one may not pass.
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  const liveShown = live && onCurrentFirstPage && !status && (!kind || kind === live.block.kind)
    && words.every((w) => live.text.toLowerCase().includes(w));

  const select = (f: JournalFileInfo) => {
    setPicked(f.current ? null : f.number);
    setOffset(0);
  };
  const filtered = !!(kind || status || search);
  const total = data?.total ?? 0;

  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-semibold">Journal</h1>

      {files.error && <p role="alert" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-red-800">The journal files can't be listed: {files.error.message}</p>}
      {files.data && files.data.length > 0 && <JournalFiles files={files.data} shown={shown} onSelect={select} />}

      <section aria-label="Operations" className="space-y-3">
        <div className="flex flex-wrap items-end gap-4 text-sm">
          <h2 className="mr-auto text-base font-semibold">
            {data ? <>Operations in {data.file.name}</> : "Operations"}
          </h2>
          <div className="flex flex-col gap-1">
            <label htmlFor={ids.kind}>Operation</label>
            <select id={ids.kind} value={kind} className={selectClass}
              onChange={(e) => { setKind(e.target.value as OperationKind | ""); setOffset(0); }}>
              <option value="">All operations</option>
              {(Object.keys(KIND_LABELS) as OperationKind[]).map((k) => <option key={k} value={k}>{KIND_LABELS[k]}</option>)}
            </select>
          </div>
          <div className="flex flex-col gap-1">
            <label htmlFor={ids.status}>Status</label>
            <select id={ids.status} value={status} className={selectClass}
              onChange={(e) => { setStatus(e.target.value as BlockStatus | ""); setOffset(0); }}>
              <option value="">Any status</option>
              {(Object.keys(STATUS_LABELS) as BlockStatus[]).map((s) => <option key={s} value={s}>{STATUS_LABELS[s]}</option>)}
            </select>
          </div>
          <div className="flex flex-col gap-1">
            <label htmlFor={ids.search}>Search the journal</label>
            <input id={ids.search} type="search" value={searchText} onChange={(e) => setSearchText(e.target.value)}
              placeholder="path, error code, user…" className={`${selectClass} w-64`} />
          </div>
        </div>

        {page.error && (
          <p role="alert" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-red-800">
            The journal can't be read: {page.error.message}
          </p>
        )}
        {liveShown && <JournalCard block={live.block} text={live.text} running />}
        {page.isLoading ? <p className="text-sm text-slate-600">Loading…</p>
          : data === null && !liveShown ? (
            <p className="text-sm text-slate-600">
              No backup journal yet. A block is written to <code>Logs/Backup Journal[001].txt</code> when the first backup ends.
            </p>
          ) : data && data.blocks.length === 0 && !liveShown ? (
            <p className="text-sm text-slate-600">
              {filtered ? "No operation in this file matches these filters." : "This journal file holds no operation."}
            </p>
          ) : null}
        {data?.blocks.map((e) => <JournalCard key={`${data.file.number}-${e.position}`} block={e.block} text={e.text} />)}

        {data && total > 0 && (
          <nav aria-label="Pages" className="flex flex-wrap items-center gap-3 text-sm">
            <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}
              className="rounded border border-slate-300 px-3 py-1 hover:bg-slate-100 disabled:opacity-50">Newer</button>
            <span aria-live="polite">
              {Math.min(offset + 1, total)}–{Math.min(offset + data.blocks.length, total)} of {total}
              {filtered ? ` matching (${data.totalInFile} in the file)` : ""}
            </span>
            <button type="button" disabled={offset + PAGE_SIZE >= total} onClick={() => setOffset(offset + PAGE_SIZE)}
              className="rounded border border-slate-300 px-3 py-1 hover:bg-slate-100 disabled:opacity-50">Older</button>
          </nav>
        )}
      </section>
    </div>
  );
}
