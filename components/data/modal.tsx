"use client";
// A modal dialog on the native <dialog> element: showModal() gives focus trapping, the top layer and an inert
// page for free, and the element has the dialog role; its name comes from its heading (aria-labelledby).
import { useEffect, useId, useRef } from "react";

export function Modal({ title, onClose, children, wide }: {
  title: string;
  /** Escape and the close button; the dialog is shown as long as it is rendered. */
  onClose: () => void;
  children: React.ReactNode;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => { if (d?.open) d.close(); };
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={titleId}
      // Escape: the owner decides (a waiting write is cancelled, a form is closed); the element never closes itself.
      onCancel={(e) => { e.preventDefault(); onClose(); }}
      className={`m-auto w-full ${wide ? "max-w-3xl" : "max-w-lg"} rounded-lg border border-slate-200 bg-white p-0 text-slate-900 shadow-xl backdrop:bg-slate-900/40`}>
      <div className="space-y-4 p-5">
        <h2 id={titleId} className="text-lg font-semibold">{title}</h2>
        {children}
      </div>
    </dialog>
  );
}

export const buttonClass = {
  primary: "rounded bg-blue-700 px-4 py-1.5 text-sm text-white hover:bg-blue-800 disabled:cursor-not-allowed disabled:opacity-60",
  secondary: "rounded border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 disabled:cursor-not-allowed disabled:opacity-50",
  danger: "rounded bg-red-700 px-4 py-1.5 text-sm text-white hover:bg-red-800 disabled:cursor-not-allowed disabled:opacity-60",
  small: "rounded border border-slate-300 px-2 py-0.5 text-xs hover:bg-slate-100",
} as const;

export const inputClass = "rounded border border-slate-300 px-2 py-1 text-sm disabled:bg-slate-50 disabled:text-slate-500";
