import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mkdir, mkdtemp, open, readFile, rm, truncate, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { OperationRecord } from "../operation";
import {
  BackupJournal,
  JOURNAL_MAX_BYTES,
  formatBlock,
  formatLocalTime,
  formatRunningBlock,
  formatSize,
  journalFileName,
  pickCurrent,
  splitBlocks,
  type JournalFile,
} from "./backup-journal";

const TZ = "Europe/Paris";
const SHA = "ab12" + "0".repeat(60);

function backupRecord(over: Partial<OperationRecord> = {}): OperationRecord {
  return {
    operation: "backup",
    backupNumber: 12,
    trigger: { kind: "scheduler", user: null },
    archivePath: "/srv/backups/Demo[0012].zip",
    logBackupPath: "/srv/backups/Demo[0011].4BL",
    structurePath: "/srv/db/Project",
    dataPath: "/srv/db/Data/data.sqlite",
    content: {
      projectFiles: { count: 312, bytes: 2_300_000 },
      dataFile: { bytes: 256_000_000 },
      attachmentFiles: null,
    },
    attachments: [
      { attachmentPath: "/srv/files/contracts", found: true },
      { attachmentPath: "/srv/files/missing.pdf", found: false },
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

describe("formatBlock", () => {
  it("renders a scheduled full backup exactly as docs/journal.md shows it", () => {
    expect(formatBlock(backupRecord(), { verbose: true, timeZone: TZ })).toBe(
      [
        "*** Full Backup",
        "Trigger : scheduler",
        "Creating archive : /srv/backups/Demo[0012].zip",
        "Creating log backup : /srv/backups/Demo[0011].4BL",
        "Content : project files (312 files, 2.3 MB), data file (256.0 MB)",
        "Attachment(s):",
        "\t/srv/files/contracts [OK]",
        "\t/srv/files/missing.pdf [NOT FOUND]",
        `Archive : 140.1 MB, sha256 ${SHA}, verified`,
        "Scheduled : 2026-11-26 03:00:00 +01:00",
        "Starting : 2026-11-26 03:00:01 +01:00",
        "Ending : 2026-11-26 03:00:13 +01:00 (00:00:12)",
      ].join("\n"),
    );
  });

  it("keeps only the header and the Starting line when not verbose", () => {
    expect(formatBlock(backupRecord({ notes: ["hook said hi"] }), { verbose: false, timeZone: TZ })).toBe(
      "*** Full Backup\nStarting : 2026-11-26 03:00:01 +01:00",
    );
  });

  it("marks a failed manual backup aborted, with its errors, and omits lines that don't apply", () => {
    const failed = backupRecord({
      trigger: { kind: "manual", user: "alice" },
      logBackupPath: null,
      content: { projectFiles: null, dataFile: { bytes: 1_500 }, attachmentFiles: null },
      attachments: [],
      archive: null,
      scheduledDate: null,
      endingDate: new Date("2026-11-26T02:00:03.400Z"),
      status: 1407,
      statusText: "Destination folder not valid",
      errors: [
        { code: 1407, text: "Destination folder not valid: /srv/backups is not writable" },
        { code: 1409, text: "Error during backup" },
      ],
      notes: ["onBackupShutdown: exit 0"],
    });
    expect(formatBlock(failed, { verbose: true, timeZone: TZ })).toBe(
      [
        "*** Full Backup aborted",
        "Trigger : manual (alice)",
        "Creating archive : /srv/backups/Demo[0012].zip",
        "Content : data file (1.5 KB)",
        "onBackupShutdown: exit 0",
        "Starting : 2026-11-26 03:00:01 +01:00",
        "Ending : 2026-11-26 03:00:03 +01:00 (00:00:02)",
        "Error reported : 1407 Destination folder not valid: /srv/backups is not writable",
        "Error reported : 1409 Error during backup",
      ].join("\n"),
    );
    expect(formatBlock(failed, { verbose: false, timeZone: TZ })).toBe(
      [
        "*** Full Backup aborted",
        "Starting : 2026-11-26 03:00:01 +01:00",
        "Error reported : 1407 Destination folder not valid: /srv/backups is not writable",
        "Error reported : 1409 Error during backup",
      ].join("\n"),
    );
  });

  it("prints the final status as the error when a failure carries no error lines", () => {
    const stopped = backupRecord({ archive: null, status: 1406, statusText: "Backup canceled by user", errors: [] });
    expect(formatBlock(stopped, { verbose: false, timeZone: TZ })).toBe(
      "*** Full Backup aborted\nStarting : 2026-11-26 03:00:01 +01:00\nError reported : 1406 Backup canceled by user",
    );
  });

  it("shows a partial backup as kept (not aborted), with NOT FOUND and its 1409 line", () => {
    const text = "Error during backup: attachment not found: /srv/files/missing.pdf";
    const partial = backupRecord({
      trigger: { kind: "command", user: "ci-token" },
      scheduledDate: null,
      content: {
        projectFiles: { count: 1, bytes: 999 },
        dataFile: { bytes: 999_960 },
        attachmentFiles: { count: 40, bytes: 1_234_567_890 },
      },
      status: 1409,
      statusText: text,
      partial: true,
      errors: [{ code: 1409, text }],
    });
    expect(formatBlock(partial, { verbose: true, timeZone: TZ })).toBe(
      [
        "*** Full Backup",
        "Trigger : command (ci-token)",
        "Creating archive : /srv/backups/Demo[0012].zip",
        "Creating log backup : /srv/backups/Demo[0011].4BL",
        "Content : project files (1 file, 999 B), data file (1.0 MB), attachments (40 files, 1.2 GB)",
        "Attachment(s):",
        "\t/srv/files/contracts [OK]",
        "\t/srv/files/missing.pdf [NOT FOUND]",
        `Archive : 140.1 MB, sha256 ${SHA}, verified`,
        "Starting : 2026-11-26 03:00:01 +01:00",
        "Ending : 2026-11-26 03:00:13 +01:00 (00:00:12)",
        `Error reported : 1409 ${text}`,
      ].join("\n"),
    );
    expect(formatBlock(partial, { verbose: false, timeZone: TZ })).toBe(
      `*** Full Backup\nStarting : 2026-11-26 03:00:01 +01:00\nError reported : 1409 ${text}`,
    );
  });

  it("uses the other headers, and a retry trigger", () => {
    const opts = { verbose: false, timeZone: TZ };
    const head = (over: Partial<OperationRecord>) => formatBlock(backupRecord(over), opts).split("\n")[0];
    expect(head({ operation: "restore" })).toBe("*** Full Backup Restore");
    expect(head({ operation: "automaticRestore" })).toBe("*** Automatic Full Backup Restore");
    expect(head({ operation: "logIntegration" })).toBe("*** Log Integration");
    expect(head({ operation: "logIntegration", status: 1416, statusText: "x" })).toBe("*** Log Integration aborted");
    expect(head({ operation: "postponed", status: -9976, statusText: "in progress" })).toBe("*** Backup postponed");
    const retry = formatBlock(backupRecord({ trigger: { kind: "retry", user: null }, notes: ["attempt 2 of 3"] }), {
      verbose: true,
      timeZone: TZ,
    });
    expect(retry).toContain("\nTrigger : retry\n");
    expect(retry).toContain("\nattempt 2 of 3\nScheduled : ");
    const restore = formatBlock(backupRecord({ operation: "restore", logBackupPath: null }), { verbose: true, timeZone: TZ });
    expect(restore).toContain("\nRestoring archive : /srv/backups/Demo[0012].zip\n");
  });

  it("renders a whole record as running when asked (the engine's live preview)", () => {
    const rec = backupRecord({ status: 1409, statusText: "x", errors: [{ code: 1409, text: "so far" }] });
    const text = formatBlock(rec, { verbose: true, timeZone: TZ, running: true });
    expect(text.startsWith("*** Full Backup\n")).toBe(true);
    expect(text).not.toContain("Ending :");
    expect(text.endsWith("Starting : 2026-11-26 03:00:01 +01:00\nError reported : 1409 so far")).toBe(true);
  });

  it("renders a running block: lines known so far, never aborted, no Ending", () => {
    const running = formatRunningBlock(
      {
        operation: "backup",
        trigger: { kind: "manual", user: "bob" },
        startingDate: new Date("2026-07-01T10:00:00.000Z"),
        archivePath: "/b/Demo[0003].zip",
        errors: [{ code: 1409, text: "attachment not found: /x" }],
      },
      { verbose: true, timeZone: TZ },
    );
    expect(running).toBe(
      [
        "*** Full Backup",
        "Trigger : manual (bob)",
        "Creating archive : /b/Demo[0003].zip",
        "Starting : 2026-07-01 12:00:00 +02:00",
        "Error reported : 1409 attachment not found: /x",
      ].join("\n"),
    );
  });
});

describe("formatting helpers", () => {
  it("prints decimal sizes with one decimal", () => {
    expect(formatSize(0)).toBe("0 B");
    expect(formatSize(999)).toBe("999 B");
    expect(formatSize(1000)).toBe("1.0 KB");
    expect(formatSize(999_949)).toBe("999.9 KB");
    expect(formatSize(999_999)).toBe("1.0 MB");
    expect(formatSize(2_300_000)).toBe("2.3 MB");
    expect(formatSize(5_000_000_000_000)).toBe("5000.0 GB");
  });

  it("prints local time with the offset in force at that instant", () => {
    const d = new Date("2026-03-29T00:59:59.999Z"); // one second before Paris springs forward
    expect(formatLocalTime(d, TZ)).toBe("2026-03-29 01:59:59 +01:00");
    expect(formatLocalTime(new Date("2026-03-29T01:00:00Z"), TZ)).toBe("2026-03-29 03:00:00 +02:00");
    expect(formatLocalTime(new Date("2026-01-05T05:06:07Z"), "America/New_York")).toBe("2026-01-05 00:06:07 -05:00");
    expect(formatLocalTime(new Date("2026-01-05T05:06:07Z"), "Asia/Kolkata")).toBe("2026-01-05 10:36:07 +05:30");
    expect(formatLocalTime(new Date("2026-01-05T00:00:00Z"), "UTC")).toBe("2026-01-05 00:00:00 +00:00");
  });

  it("splits a journal file into its blocks", () => {
    expect(splitBlocks("*** A\nx\n\n*** B aborted\ny\n")).toEqual(["*** A\nx", "*** B aborted\ny"]);
  });
});

describe("BackupJournal", () => {
  let dir: string;
  let logs: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "strongbox-journal-"));
    logs = path.join(dir, "Logs");
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  const at = (p: string, iso: string) => utimes(p, new Date(iso), new Date(iso));
  const fileN = (n: number) => path.join(logs, journalFileName(n));

  it("creates Logs/ and [001], with one blank line between blocks", async () => {
    const journal = new BackupJournal(logs);
    expect(await journal.currentFile()).toBeNull();
    expect(await journal.append("*** Full Backup\nStarting : a\n")).toEqual({ file: fileN(1) });
    await journal.append("*** Full Backup aborted\nStarting : b");
    expect(await readFile(fileN(1), "utf8")).toBe("*** Full Backup\nStarting : a\n\n*** Full Backup aborted\nStarting : b\n");
    expect(await journal.currentFile()).toBe(fileN(1));
    const [only] = await journal.list();
    expect(only).toMatchObject({ number: 1, name: "Backup Journal[001].txt", path: fileN(1) });
  });

  it("restores the blank line when the file was left without a final newline", async () => {
    await mkdir(logs);
    await writeFile(fileN(1), "*** Log Integration\nStarting : a");
    await new BackupJournal(logs).append("*** Full Backup");
    expect(await readFile(fileN(1), "utf8")).toBe("*** Log Integration\nStarting : a\n\n*** Full Backup\n");
  });

  it("starts the next file once the current one reaches maxBytes, leaving it untouched", async () => {
    const journal = new BackupJournal(logs, { maxBytes: 100 });
    const big = "*** Full Backup\n" + "x".repeat(120);
    await journal.append(big); // goes whole into [001] even though it passes the limit
    expect((await readFile(fileN(1), "utf8")).length).toBe(big.length + 1);
    const { file } = await journal.append("*** Full Backup\nsecond");
    expect(file).toBe(fileN(2));
    expect(await readFile(fileN(1), "utf8")).toBe(big + "\n");
    expect(await readFile(fileN(2), "utf8")).toBe("*** Full Backup\nsecond\n");
  });

  it("rotates at the real 10,485,760-byte default, not a byte before", async () => {
    expect(JOURNAL_MAX_BYTES).toBe(10_485_760);
    await mkdir(logs);
    await writeFile(fileN(1), "");
    await truncate(fileN(1), 10_485_759); // sparse: fast, and only the size matters
    const journal = new BackupJournal(logs);
    expect((await journal.append("*** Full Backup\none")).file).toBe(fileN(1));
    await truncate(fileN(1), 10_485_760);
    expect((await journal.append("*** Full Backup\ntwo")).file).toBe(fileN(2));
    expect(await readFile(fileN(2), "utf8")).toBe("*** Full Backup\ntwo\n");
  });

  it("wraps after [999] to [001], replacing it, and then keeps writing [001]", async () => {
    await mkdir(logs);
    for (const [n, iso] of [
      [1, "2020-01-01T00:00:00Z"],
      [2, "2020-01-02T00:00:00Z"],
      [998, "2021-01-01T00:00:00Z"],
      [999, "2021-02-01T00:00:00Z"],
    ] as const) {
      await writeFile(fileN(n), `*** Full Backup\nold ${n}\n` + "x".repeat(200));
      await at(fileN(n), iso);
    }
    const journal = new BackupJournal(logs, { maxBytes: 100 });
    expect(await journal.currentFile()).toBe(fileN(999)); // highest mtime, though [998] is also full
    expect((await journal.append("*** Full Backup\nnew")).file).toBe(fileN(1));
    expect(await readFile(fileN(1), "utf8")).toBe("*** Full Backup\nnew\n");
    expect(await journal.currentFile()).toBe(fileN(1));
    expect((await journal.append("*** Full Backup\nnext")).file).toBe(fileN(1));
    expect(await readFile(fileN(1), "utf8")).toBe("*** Full Backup\nnew\n\n*** Full Backup\nnext\n");
    expect((await readFile(fileN(2), "utf8")).startsWith("*** Full Backup\nold 2")).toBe(true);
  });

  it("on equal mtimes takes the later file in the wrapping order", () => {
    const f = (number: number, iso: string): JournalFile => ({ number, name: "", path: String(number), size: 0, mtime: new Date(iso) });
    const t = "2026-01-01T00:00:00Z";
    expect(pickCurrent([f(1, t), f(999, t)])?.number).toBe(1);
    expect(pickCurrent([f(2, t), f(3, t), f(998, "2025-01-01T00:00:00Z")])?.number).toBe(3);
    expect(pickCurrent([f(5, "2025-01-01T00:00:00Z"), f(4, t)])?.number).toBe(4);
    expect(pickCurrent([])).toBeNull();
  });

  it("writes each block in one write call, and never splits one across files", async () => {
    const probe = await open(path.join(dir, "probe"), "w");
    const proto = Object.getPrototypeOf(probe) as { write: (...a: unknown[]) => unknown };
    await probe.close();
    const journal = new BackupJournal(logs, { maxBytes: 1000 });
    await journal.append("*** Full Backup\nfirst");
    const spy = vi.spyOn(proto, "write");
    const block = "*** Full Backup\n" + "y".repeat(5000);
    expect((await journal.append(block)).file).toBe(fileN(1));
    expect(spy).toHaveBeenCalledTimes(1);
    expect(await readFile(fileN(1), "utf8")).toBe(`*** Full Backup\nfirst\n\n${block}\n`);
  });

  it("serialises concurrent appends: every block whole, in call order", async () => {
    const journal = new BackupJournal(logs, { maxBytes: 300 });
    const blocks = Array.from({ length: 20 }, (_, i) => `*** Full Backup\nblock ${i}\n${"z".repeat(40)}`);
    await Promise.all(blocks.map((b) => journal.append(b)));
    const files = await journal.list();
    expect(files.length).toBeGreaterThan(1);
    const all: string[] = [];
    for (const f of files) all.push(...splitBlocks(await readFile(f.path, "utf8")));
    expect(all).toEqual(blocks);
  });
});
