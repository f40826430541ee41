"use client";
// Every write of the Data page goes through here (docs/log-file.md): it carries a fresh request id; if the server is still
// holding it after a moment (a backup holds the data write lock), the waiting dialog offers Cancel operation, which
// asks the server to drop that request, so the write fails with -9976 and nothing is applied. When the backup
// ends first, the write completes and the dialog closes by itself.
import { useMutation } from "@tanstack/react-query";
import { TRPCClientError } from "@trpc/client";
import { useCallback, useRef, useState } from "react";
import { STATUS } from "@/server/isomorphic/status";
import { useEventStream } from "../event-stream";
import { useTRPC } from "../trpc";
import { buttonClass, Modal } from "./modal";

/**
 * A write that meets no lock answers in a few milliseconds; one still pending after this long is waiting for the
 * backup. Shorter would flash the dialog on a slow request; longer would leave a click without visible effect.
 */
export const WAITING_DIALOG_DELAY_MS = 300;

export type WriteOutcome<T> =
  | { ok: true; value: T }
  /** `cancelled`: the write was refused with -9976 (cancelled while it waited): the page shows why, nothing changed. */
  | { ok: false; cancelled: boolean; message: string };

/** A request id, from crypto.randomUUID where the page is a secure context, else from getRandomValues (plain http on a LAN). */
export function newRequestId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The status code of docs/operations.md the server attached to an error (init.ts's errorFormatter), if any. */
function backupStatusOf(err: unknown): number | null {
  if (!(err instanceof TRPCClientError)) return null;
  const status = (err.data as { backupStatus?: unknown } | undefined)?.backupStatus;
  return typeof status === "number" ? status : null;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

interface Waiting { requestId: string; what: string }

export function useWaitingWrite() {
  const trpc = useTRPC();
  // A slow write is not necessarily a waiting one (a busy machine): the dialog is for writes held by the data write
  // lock, as the tab's event stream reports it (while the stream hasn't said, a slow write is assumed to wait).
  const { locks } = useEventStream();
  const [waiting, setWaiting] = useState<Waiting | null>(null);
  const [cancelled, setCancelled] = useState<string | null>(null);
  const cancel = useMutation(trpc.data.cancel.mutationOptions());
  const cancelRef = useRef(cancel);
  cancelRef.current = cancel;

  /** Runs `write` with a fresh request id; `what` names the change in the dialog and messages ("the change to row 3 of customers"). */
  const run = useCallback(async <T,>(what: string, write: (requestId: string) => Promise<T>): Promise<WriteOutcome<T>> => {
    const requestId = newRequestId();
    setCancelled(null);
    const timer = setTimeout(() => setWaiting({ requestId, what }), WAITING_DIALOG_DELAY_MS);
    try {
      return { ok: true, value: await write(requestId) };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (backupStatusOf(err) === STATUS.BACKUP_IN_PROGRESS) {
        setCancelled(`Error ${STATUS.BACKUP_IN_PROGRESS}: ${message}. ${capitalize(what)} was cancelled: nothing was changed.`);
        return { ok: false, cancelled: true, message };
      }
      return { ok: false, cancelled: false, message };
    } finally {
      clearTimeout(timer);
      setWaiting((w) => (w?.requestId === requestId ? null : w));
      cancelRef.current.reset();
    }
  }, []);

  const dialog = waiting && (locks === null || locks.data.held) && (
    <WaitingDialog what={waiting.what} cancelling={cancel.isPending || cancel.data?.cancelled === true}
      cancelError={cancel.error?.message ?? (cancel.data?.cancelled === false ? "The change was no longer waiting: it is being applied." : null)}
      onCancel={() => { if (!cancel.isPending) cancel.mutate({ requestId: waiting.requestId }); }} />
  );
  return { run, dialog, cancelled, dismissCancelled: () => setCancelled(null) };
}

function WaitingDialog({ what, cancelling, cancelError, onCancel }: {
  what: string; cancelling: boolean; cancelError: string | null; onCancel: () => void;
}) {
  const { running } = useEventStream();
  return (
    // Escape counts as Cancel operation: the dialog never just disappears while the change still waits.
    <Modal title="Waiting for the backup to end" onClose={onCancel}>
      <p className="text-sm">
        The database backup is in progress and holds the data write lock: {what} will be applied as soon as the
        backup ends. Reading goes on meanwhile.
      </p>
      {running && (
        <p className="text-sm text-slate-600" aria-live="polite">
          Backup{running.backupNumber ? ` #${running.backupNumber}` : ""}: {running.phase}, {Math.floor(running.percent)}% done.
        </p>
      )}
      <p className="text-sm text-slate-600">Cancel the operation to give up the change: nothing will be changed.</p>
      {cancelError && <p className="text-sm text-amber-800">{cancelError}</p>}
      <div className="flex items-center gap-3">
        <span aria-hidden className="inline-block h-4 w-4 animate-spin rounded-full border-2 border-slate-300 border-t-blue-700" />
        <button type="button" onClick={onCancel} disabled={cancelling} className={`${buttonClass.secondary} ml-auto`}>
          {cancelling ? "Cancelling…" : "Cancel operation"}
        </button>
      </div>
    </Modal>
  );
}
