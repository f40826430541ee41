"use client";
// WAI-ARIA tabs: a tablist with roving focus (arrows, Home, End); every panel stays mounted (hidden when not
// selected) so the form's fields keep their values and the Save button sends all tabs at once.
import { useId, useRef, useState } from "react";

export interface Tab {
  label: string;
  content: React.ReactNode;
  /** Something on this tab needs attention: a problem that stopped a save, or a warning. */
  mark?: "error" | "warning";
}

/** `selected`/`onSelect` let the page switch tabs itself (to the tab of a problem); otherwise the tabs keep their own. */
export function Tabs({ label, tabs, selected: controlled, onSelect }: { label: string; tabs: Tab[]; selected?: number; onSelect?: (i: number) => void }) {
  const base = useId();
  const [own, setOwn] = useState(0);
  const selected = controlled ?? own;
  const setSelected = (i: number) => { setOwn(i); onSelect?.(i); };
  const refs = useRef<Array<HTMLButtonElement | null>>([]);
  const select = (i: number) => {
    const next = (i + tabs.length) % tabs.length;
    setSelected(next);
    refs.current[next]?.focus();
  };
  function onKeyDown(e: React.KeyboardEvent) {
    const moves: Record<string, number> = { ArrowRight: selected + 1, ArrowLeft: selected - 1, Home: 0, End: tabs.length - 1 };
    if (e.key in moves) { e.preventDefault(); select(moves[e.key]!); }
  }
  return (
    <div>
      <div role="tablist" aria-label={label} onKeyDown={onKeyDown} className="flex gap-1 border-b border-slate-200">
        {tabs.map((t, i) => (
          <button key={t.label} type="button" role="tab" id={`${base}-tab-${i}`} aria-controls={`${base}-panel-${i}`}
            aria-selected={i === selected} tabIndex={i === selected ? 0 : -1} ref={(el) => { refs.current[i] = el; }}
            onClick={() => setSelected(i)}
            className={`-mb-px rounded-t border px-4 py-2 text-sm ${i === selected ? "border-slate-200 border-b-white bg-white font-semibold" : "border-transparent text-slate-600 hover:bg-slate-100"}`}>
            {t.label}
            {t.mark && (
              <span className={`ml-1.5 inline-block h-2 w-2 rounded-full align-middle ${t.mark === "error" ? "bg-red-600" : "bg-amber-500"}`}>
                <span className="sr-only">{t.mark === "error" ? " (has problems)" : " (has warnings)"}</span>
              </span>
            )}
          </button>
        ))}
      </div>
      {tabs.map((t, i) => (
        <div key={t.label} role="tabpanel" id={`${base}-panel-${i}`} aria-labelledby={`${base}-tab-${i}`} hidden={i !== selected} tabIndex={0}
          className="rounded-b-lg border border-t-0 border-slate-200 bg-white p-5 shadow-sm">
          {t.content}
        </div>
      ))}
    </div>
  );
}
