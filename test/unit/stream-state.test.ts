// The rules that keep the console's progress panel true, on the events a stream delivers: a dropped stream never
// shows "● Live", a state read while it is down ends the panel, and progress of an ended operation is old news.
import { describe, expect, it } from "vitest";
import { applyConnection, applyEvent, applyState, INITIAL_STREAM_STATE, type StreamState } from "@/components/stream-state";
import type { OperationOutcome, OperationProgress } from "@/server/trpc/root";
import type { LockState } from "@/server/locks/backup-locks";

const locks = {} as LockState;
const progress = (phase: OperationProgress["phase"], percent: number): OperationProgress => ({
  operationId: "op-1", kind: "backup", backupNumber: 3, trigger: { kind: "manual", user: "admin" }, archivePath: null,
  startedAt: "2026-12-04T18:00:00.000Z", phase, percent, bytesDone: 0, bytesTotal: 0, filesDone: 0, filesTotal: 0,
  currentFile: null, bytesPerSecond: null, etaSeconds: null, stopping: false, journalPreview: "",
});
const outcome: OperationOutcome = { operationId: "op-1", kind: "backup", trigger: { kind: "manual", user: "admin" }, backupNumber: 3,
  status: 0, statusText: "OK", partial: false, archivePath: "/b/Demo[0003].zip", startingDate: "2026-12-04T18:00:00.000Z", endingDate: "2026-12-04T18:00:12.000Z" };

const live = (): StreamState => applyEvent(applyEvent(INITIAL_STREAM_STATE, { type: "state", running: null, last: null, locks }),
  { type: "progress", progress: progress("snapshot", 3) });

describe("the console's stream state", () => {
  it("is Live only once the stream's first state has come", () => {
    expect(INITIAL_STREAM_STATE.connected).toBe(false);
    expect(live()).toMatchObject({ connected: true, running: { phase: "snapshot" } });
  });

  it("a stream that drops is not Live while it reconnects, and its first state after replaces the panel", () => {
    const dropped = applyConnection(live(), "connecting");
    expect(dropped).toMatchObject({ connected: false, reconnecting: true, running: { phase: "snapshot" } });
    // The outcome came while the stream was down: the state it sends first shows it, and no progress panel.
    const back = applyEvent(dropped, { type: "state", running: null, last: outcome, locks });
    expect(back).toMatchObject({ connected: true, reconnecting: false, running: null, last: { status: 0 } });
  });

  it("a state read while the stream is down ends the panel as soon as the outcome is known", () => {
    const dropped = applyConnection(live(), "connecting");
    expect(applyState(dropped, { running: null, last: outcome, locks })).toMatchObject({ running: null, last: { operationId: "op-1" } });
    // Taken as the outcome was told, before the engine freed the slot: still not running.
    expect(applyState(dropped, { running: progress("shutdown", 100), last: outcome, locks }).running).toBeNull();
  });

  it("progress of an operation whose outcome is known is ignored; finished ends the panel", () => {
    const done = applyEvent(live(), { type: "finished", outcome });
    expect(done.running).toBeNull();
    expect(applyEvent(done, { type: "progress", progress: progress("archive", 40) }).running).toBeNull();
  });
});
