import { describe, expect, it } from "vitest";
import { classify, decideAfterFailure } from "./failure-policy";

const now = new Date("2026-11-26T10:00:00Z");
const next = new Date("2026-11-27T02:00:00Z");
const policy = { tryBackupAtTheNextScheduledDate: false, tryToBackupAfter: 600, abortIfBackupFail: false, retryCountBeforeAbort: 3 };

describe("classify", () => {
  it("never retries a user Stop or a hook's own cancel; partial backups are successes", () => {
    expect(classify(0, false)).toBe("success");
    expect(classify(1409, true)).toBe("success");
    expect(classify(1406, false)).toBe("canceled");
    expect(classify(7, false)).toBe("canceled");
    expect(classify(1407, false)).toBe("impossible");
    expect(classify(1409, false)).toBe("impossible");
    expect(classify(1411, false)).toBe("impossible");
  });
});

describe("decideAfterFailure", () => {
  it("by default: one more attempt after the delay, then an alert", () => {
    expect(decideAfterFailure(1, policy, now, next)).toEqual({ kind: "retry", at: new Date("2026-11-26T10:10:00Z"), alert: false });
    expect(decideAfterFailure(2, policy, now, next)).toEqual({ kind: "alert" });
  });

  it("retries at the next scheduled time when asked, and never sooner than a second", () => {
    expect(decideAfterFailure(1, { ...policy, tryBackupAtTheNextScheduledDate: true }, now, next)).toMatchObject({ kind: "retry", at: next });
    expect(decideAfterFailure(1, { ...policy, tryToBackupAfter: 0.561 }, now, next)).toMatchObject({ at: new Date(now.getTime() + 1000) });
  });

  it("with AbortIfBackupFail: retries until RetryCountBeforeAbort attempts have failed, alerting from the second", () => {
    const abort = { ...policy, abortIfBackupFail: true };
    expect(decideAfterFailure(1, abort, now, next)).toMatchObject({ kind: "retry", alert: false });
    expect(decideAfterFailure(2, abort, now, next)).toMatchObject({ kind: "retry", alert: true });
    expect(decideAfterFailure(3, abort, now, next)).toEqual({ kind: "abort" });
  });
});
