import { describe, expect, it } from "vitest";
import type { OperationRecord } from "../operation";
import { formatBlock, formatRunningBlock } from "../journal/format-block";
import { parseBlock, parseJournalDuration, parseJournalSize, parseJournalTime, summarizeBlock } from "./journal-block";

const TZ = "Europe/Paris";
const SHA = "ab12" + "0".repeat(60);
const verbose = { verbose: true, timeZone: TZ };
const terse = { verbose: false, timeZone: TZ };

function record(over: Partial<OperationRecord> = {}): OperationRecord {
  return {
    operation: "backup",
    backupNumber: 12,
    trigger: { kind: "scheduler", user: null },
    archivePath: "/srv/backups/Demo[0012].zip",
    logBackupPath: "/srv/backups/Demo[0011].4BL",
    structurePath: "/srv/db/Project",
    dataPath: "/srv/db/Data/data.sqlite",
    content: { projectFiles: { count: 312, bytes: 2_300_000 }, dataFile: { bytes: 256_000_000 }, attachmentFiles: null },
    attachments: [
      { attachmentPath: "/srv/files/contracts", found: true },
      { attachmentPath: "/srv/files/missing [1].pdf", found: false },
    ],
    files: [],
    archive: { size: 140_123_456, sha256: SHA, verified: true },
    scheduledDate: new Date("2026-11-26T02:00:00.000Z"),
    startingDate: new Date("2026-11-26T02:00:01.000Z"),
    endingDate: new Date("2026-11-26T02:00:13.000Z"),
    status: 0,
    statusText: "OK",
    partial: false,
    errors: [],
    notes: [],
    ...over,
  };
}

describe("parseBlock", () => {
  it("reads every line of a verbose successful backup", () => {
    const b = parseBlock(formatBlock(record(), verbose));
    expect(b).toEqual({
      header: "Full Backup",
      kind: "backup",
      aborted: false,
      trigger: { text: "scheduler", kind: "scheduler", user: null },
      archivePath: "/srv/backups/Demo[0012].zip",
      logBackupPath: "/srv/backups/Demo[0011].4BL",
      content: "project files (312 files, 2.3 MB), data file (256.0 MB)",
      attachments: [
        { path: "/srv/files/contracts", found: true },
        { path: "/srv/files/missing [1].pdf", found: false },
      ],
      archive: { size: "140.1 MB", sizeBytes: 140_100_000, sha256: SHA, verified: true },
      notes: [],
      scheduled: { text: "2026-11-26 03:00:00 +01:00", iso: "2026-11-26T02:00:00.000Z" },
      starting: { text: "2026-11-26 03:00:01 +01:00", iso: "2026-11-26T02:00:01.000Z" },
      ending: { text: "2026-11-26 03:00:13 +01:00", iso: "2026-11-26T02:00:13.000Z" },
      duration: { text: "00:00:12", ms: 12_000 },
      errors: [],
      status: "ok",
    });
  });

  it("reads a non-verbose block: header and Starting only", () => {
    const b = parseBlock(formatBlock(record({ notes: ["hook said hi"] }), terse));
    expect(b).toMatchObject({ kind: "backup", aborted: false, trigger: null, archivePath: null, attachments: [], notes: [], status: "ok" });
    expect(b.starting).toEqual({ text: "2026-11-26 03:00:01 +01:00", iso: "2026-11-26T02:00:01.000Z" });
    expect(b.ending).toBeNull();
  });

  it("reads a partial backup (1409, archive kept) as partial, verbose and not", () => {
    const text = "Partial backup: attachment(s) not found: /srv/files/missing [1].pdf";
    const partial = record({
      trigger: { kind: "command", user: "ci token (nightly)" },
      status: 1409, statusText: text, partial: true, errors: [{ code: 1409, text }],
    });
    for (const opts of [verbose, terse]) {
      const b = parseBlock(formatBlock(partial, opts));
      expect(b.status).toBe("partial");
      expect(b.aborted).toBe(false);
      expect(b.errors).toEqual([{ code: 1409, text }]);
    }
    const b = parseBlock(formatBlock(partial, verbose));
    expect(b.trigger).toEqual({ text: "command (ci token (nightly))", kind: "command", user: "ci token (nightly)" });
    expect(b.attachments.find((a) => !a.found)?.path).toBe("/srv/files/missing [1].pdf");
    expect(b.archive?.verified).toBe(true);
  });

  it("reads an aborted backup with several errors as failed, verbose and not", () => {
    const failed = record({
      trigger: { kind: "manual", user: "alice" },
      logBackupPath: null, attachments: [], archive: null, scheduledDate: null,
      endingDate: new Date("2026-11-26T02:00:03.400Z"),
      status: 1407, statusText: "Destination folder not valid",
      errors: [
        { code: 1407, text: "Destination folder not valid: /srv/backups is not writable" },
        { code: 1409, text: "Error during backup" },
        { code: -9976, text: "" },
      ],
      notes: ["onBackupShutdown: exit 0"],
    });
    for (const opts of [verbose, terse]) {
      const b = parseBlock(formatBlock(failed, opts));
      expect(b).toMatchObject({ header: "Full Backup aborted", kind: "backup", aborted: true, status: "failed" });
      expect(b.errors).toEqual([
        { code: 1407, text: "Destination folder not valid: /srv/backups is not writable" },
        { code: 1409, text: "Error during backup" },
        { code: -9976, text: "" },
      ]);
    }
    const b = parseBlock(formatBlock(failed, verbose));
    expect(b.notes).toEqual(["onBackupShutdown: exit 0"]);
    expect(b.trigger).toEqual({ text: "manual (alice)", kind: "manual", user: "alice" });
    expect(b.scheduled).toBeNull();
    expect(b.duration).toEqual({ text: "00:00:02", ms: 2000 });
    expect(b.archive).toBeNull();
  });

  it("reads a stop with no recorded errors: the final status is the error line", () => {
    const b = parseBlock(formatBlock(record({ archive: null, status: 1406, statusText: "Backup canceled by user" }), terse));
    expect(b.status).toBe("failed");
    expect(b.errors).toEqual([{ code: 1406, text: "Backup canceled by user" }]);
  });

  it("reads every other kind the engine writes", () => {
    const cases: Array<[Partial<OperationRecord>, string, string]> = [
      [{ operation: "restore", logBackupPath: null }, "restore", "ok"],
      [{ operation: "automaticRestore" }, "automaticRestore", "ok"],
      [{ operation: "logIntegration", archivePath: null }, "logIntegration", "ok"],
      [{ operation: "logIntegration", status: 1416, statusText: "Log file does not belong to this database" }, "logIntegration", "failed"],
      [{ operation: "postponed", status: -9976, statusText: "A backup is in progress", errors: [{ code: -9976, text: "A backup is in progress" }] }, "postponed", "postponed"],
      [{ operation: "postponed", archive: null, notes: ["The data file has not been modified since the last backup."] }, "postponed", "postponed"],
      [{ trigger: { kind: "retry", user: null } }, "backup", "ok"],
    ];
    for (const [over, kind, status] of cases) {
      for (const opts of [verbose, terse]) {
        const b = parseBlock(formatBlock(record(over), opts));
        expect(b.kind, JSON.stringify(over)).toBe(kind);
        expect(b.status, JSON.stringify(over)).toBe(status);
      }
    }
    const restore = parseBlock(formatBlock(record({ operation: "restore", logBackupPath: null }), verbose));
    expect(restore.header).toBe("Full Backup Restore");
    expect(restore.archivePath).toBe("/srv/backups/Demo[0012].zip");
    const integration = parseBlock(formatBlock(record({ operation: "logIntegration", archivePath: null }), verbose));
    expect(integration.logBackupPath).toBe("/srv/backups/Demo[0011].4BL");
    const retry = parseBlock(formatBlock(record({ trigger: { kind: "retry", user: null } }), verbose));
    expect(retry.trigger).toEqual({ text: "retry", kind: "retry", user: null });
  });

  it("keeps hook output and remarks as notes, a note starting with *** included, and never lets one pass for a field", () => {
    const notes = [
      "onBackupStartup: exit 0 (0.2 s)",
      "  copying to tape\n\n  *** tape ready ***",
      "*** looks like a header",
      "Trigger : not the trigger",
      "Archive : not an archive line",
      "Attachment refused: / (the root folder)",
    ];
    const text = formatBlock(record({ notes }), verbose);
    expect(text).toContain("\n ***"); // format-block indents it…
    const b = parseBlock(text);
    expect(b.notes).toEqual([
      "onBackupStartup: exit 0 (0.2 s)",
      "  copying to tape",
      "  *** tape ready ***",
      "*** looks like a header", // …and the parser gives it back
      "Trigger : not the trigger",
      "Archive : not an archive line",
      "Attachment refused: / (the root folder)",
    ]);
    expect(b.trigger?.text).toBe("scheduler");
    expect(b.archive?.sha256).toBe(SHA);
  });

  it("reads a running block (no Ending, never aborted) as far as it goes", () => {
    const b = parseBlock(formatRunningBlock({
      operation: "backup", trigger: { kind: "manual", user: "bob" }, startingDate: new Date("2026-07-01T10:00:00.000Z"),
      archivePath: "/b/Demo[0003].zip", errors: [{ code: 1409, text: "attachment not found: /x" }],
    }, verbose));
    expect(b).toMatchObject({ kind: "backup", aborted: false, archivePath: "/b/Demo[0003].zip", ending: null, duration: null, status: "partial" });
    expect(b.starting?.iso).toBe("2026-07-01T10:00:00.000Z");
  });

  it("tolerates unknown lines, CRLF, an unknown header, text before any header and a cut last line", () => {
    const b = parseBlock("\r\n*** Full Backup\r\nTrigger : manual (eve)\r\nSomething new : 42\r\n\tstray tab line\r\nStarting : 2026-11-26 03:0");
    expect(b).toMatchObject({ kind: "backup", trigger: { kind: "manual", user: "eve" }, status: "ok" });
    expect(b.notes).toEqual(["Something new : 42", "\tstray tab line"]);
    expect(b.starting).toEqual({ text: "2026-11-26 03:0", iso: null });

    const cut = parseBlock("*** Full Backup aborted\nStarting : 2026-11-26 03:00:01 +01:00\nError reported : 14");
    expect(cut).toMatchObject({ status: "failed", errors: [{ code: 14, text: "" }] });

    expect(parseBlock("*** Verify Backup\nStarting : x")).toMatchObject({ header: "Verify Backup", kind: null, status: "ok" });
    expect(parseBlock("*** Full Backup aborted\n")).toMatchObject({ kind: "backup", aborted: true, status: "failed" });
    expect(parseBlock("some text an editor left\nat the top")).toMatchObject({ header: "", kind: null, notes: ["some text an editor left", "at the top"] });
    expect(parseBlock("")).toMatchObject({ header: "", kind: null, notes: [] });
    expect(parseBlock("*** Full Backup\nAttachment(s):\n\t/a [OK]\n\t/b [MAYBE]\nEnding : 2026-11-26 03:00:13 +01:00")).toMatchObject({
      attachments: [{ path: "/a", found: true }], notes: ["\t/b [MAYBE]"], duration: null, ending: { iso: "2026-11-26T02:00:13.000Z" },
    });
  });
});

describe("summarizeBlock", () => {
  it("gives the kind and status parseBlock gives, for every kind of block and odd text", () => {
    const texts = [
      formatBlock(record(), verbose),
      formatBlock(record({ status: 1409, statusText: "p", partial: true, errors: [{ code: 1409, text: "p" }] }), verbose),
      formatBlock(record({ status: 1409, statusText: "p", partial: true, errors: [{ code: 1409, text: "p" }] }), terse),
      formatBlock(record({ status: 1407, statusText: "d", errors: [] }), terse),
      formatBlock(record({ operation: "postponed", status: -9976, statusText: "busy" }), verbose),
      formatBlock(record({ operation: "logIntegration", status: 1416, statusText: "foreign" }), verbose),
      formatBlock(record({ operation: "automaticRestore" }), terse),
      formatBlock(record({ notes: ["a hook printed Error reported : 12 in the middle", "Error reported : nothing"] }), verbose),
      "*** Full Backup\r\nStarting : x\r\nError reported : 1409 cut\r\n",
      "\n\n*** Full Backup aborted\n",
      "  *** Full Backup\nError reported : 1",
      "Error reported : 1 before any header",
      "*** Something else\nError reported : -1",
      "*** Full Backup\nStarting : 2026-11-26 03:0",
      "",
    ];
    for (const text of texts) {
      const { kind, status } = parseBlock(text);
      expect(summarizeBlock(text), JSON.stringify(text)).toEqual({ kind, status });
    }
    expect(summarizeBlock(texts[7])).toEqual({ kind: "backup", status: "ok" });
    expect(summarizeBlock(texts[8])).toEqual({ kind: "backup", status: "partial" });
  });
});

describe("journal values", () => {
  it("reads times with their offset, durations and decimal sizes", () => {
    expect(parseJournalTime("2026-01-05 00:06:07 -05:00")).toBe("2026-01-05T05:06:07.000Z");
    expect(parseJournalTime("2026-01-05 10:36:07 +05:30")).toBe("2026-01-05T05:06:07.000Z");
    expect(parseJournalTime("2026-13-05 10:36:07 +05:30")).toBeNull();
    expect(parseJournalTime("yesterday")).toBeNull();
    expect(parseJournalDuration("123:04:05")).toBe((123 * 3600 + 4 * 60 + 5) * 1000);
    expect(parseJournalDuration("00:61:00")).toBeNull();
    expect(parseJournalSize("512 B")).toBe(512);
    expect(parseJournalSize("1.2 GB")).toBe(1_200_000_000);
    expect(parseJournalSize("big")).toBeNull();
  });
});
