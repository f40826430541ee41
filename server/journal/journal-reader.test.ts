import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { OperationRecord } from "../operation";
import { BackupJournal, JOURNAL_MAX_BYTES, journalFileName, splitBlocks } from "./backup-journal";
import { formatBlock } from "./format-block";
import { JournalReader } from "./journal-reader";
import type { BlockStatus } from "../isomorphic/journal-block";

const TZ = "Europe/Paris";
const T0 = Date.parse("2026-01-01T00:00:00.000Z");

/** The n-th operation of a generated journal: a mix of every kind and outcome the engine writes. */
function operation(n: number): { record: OperationRecord; verbose: boolean; status: BlockStatus } {
  const startingDate = new Date(T0 + n * 60_000);
  const base: OperationRecord = {
    operation: "backup", backupNumber: n, trigger: n % 3 === 0 ? { kind: "scheduler", user: null } : { kind: "manual", user: "alice" },
    archivePath: `/srv/backups/Demo[${String(n).padStart(6, "0")}].zip`, logBackupPath: `/srv/backups/Demo[${n - 1}].4BL`,
    structurePath: "/srv/db/Project", dataPath: "/srv/db/Data/data.sqlite",
    content: { projectFiles: { count: 312, bytes: 2_300_000 }, dataFile: { bytes: 256_000_000 }, attachmentFiles: null },
    attachments: [{ attachmentPath: "/srv/files/contracts", found: true }],
    files: [], archive: { size: 140_123_456 + n, sha256: n.toString(16).padStart(64, "0"), verified: true },
    scheduledDate: null, startingDate, endingDate: new Date(startingDate.getTime() + 12_000),
    status: 0, statusText: "OK", partial: false, errors: [], notes: [],
  };
  const verbose = n % 10 !== 7;
  switch (n % 10) {
    case 1: {
      const text = "Partial backup: attachment(s) not found: /srv/files/missing.pdf";
      const record = { ...base, attachments: [...base.attachments, { attachmentPath: "/srv/files/missing.pdf", found: false }],
        status: 1409, statusText: text, partial: true, errors: [{ code: 1409, text }] };
      return { record, verbose, status: "partial" };
    }
    case 4:
      return { record: { ...base, archive: null, status: 1407, statusText: "Destination folder not valid",
        errors: [{ code: 1407, text: "Destination folder not valid" }, { code: 1409, text: "Error during backup" }] }, verbose, status: "failed" };
    case 5:
      return { record: { ...base, operation: "postponed", archive: null, notes: ["*** the data file has not changed"] }, verbose, status: "postponed" };
    case 8:
      return { record: { ...base, operation: n % 20 === 8 ? "restore" : "logIntegration" }, verbose, status: "ok" };
    default:
      return { record: { ...base, notes: n % 10 === 2 ? ["onBackupShutdown: exit 0", "  hook output line"] : [] }, verbose, status: "ok" };
  }
}

const blockText = (n: number) => {
  const { record, verbose } = operation(n);
  return formatBlock(record, { verbose, timeZone: TZ });
};

/** The file as BackupJournal writes it: blocks separated by one blank line, ending in a newline. */
const journalText = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => blockText(from + i)).join("\n\n") + "\n";

describe("JournalReader on small journals", () => {
  let dir: string;
  let logs: string;
  const fileN = (n: number) => path.join(logs, journalFileName(n));
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "strongbox-reader-"));
    logs = path.join(dir, "Logs");
    await mkdir(logs);
  });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it("lists the files with the current one marked, and finds none without a Logs folder", async () => {
    expect(await new JournalReader(path.join(dir, "missing")).files()).toEqual([]);
    expect(await new JournalReader(path.join(dir, "missing")).page(undefined, { offset: 0, limit: 10 })).toBeNull();
    await writeFile(fileN(1), journalText(1, 3));
    await writeFile(fileN(2), journalText(4, 4));
    await writeFile(path.join(logs, "notes.txt"), "not a journal");
    await utimes(fileN(1), new Date("2026-02-01T00:00:00Z"), new Date("2026-02-01T00:00:00Z"));
    await utimes(fileN(2), new Date("2026-01-01T00:00:00Z"), new Date("2026-01-01T00:00:00Z"));
    const files = await new JournalReader(logs).files();
    expect(files.map((f) => [f.number, f.name, f.current])).toEqual([[1, "Backup Journal[001].txt", true], [2, "Backup Journal[002].txt", false]]);
    expect(files[0].size).toBe((await stat(fileN(1))).size);
    expect(files[0].mtime).toBe("2026-02-01T00:00:00.000Z");
  });

  it("pages newest first, filters by kind and status, and searches words in any case", async () => {
    await writeFile(fileN(1), journalText(1, 25));
    const reader = new JournalReader(logs);
    const first = await reader.page(undefined, { offset: 0, limit: 10 });
    expect(first?.file).toMatchObject({ number: 1, current: true });
    expect(first?.total).toBe(25);
    expect(first?.totalInFile).toBe(25);
    expect(first?.blocks.map((b) => b.position)).toEqual([25, 24, 23, 22, 21, 20, 19, 18, 17, 16]);
    expect(first?.blocks[0].text).toBe(blockText(25));
    const last = await reader.page(1, { offset: 20, limit: 10 });
    expect(last?.blocks.map((b) => b.position)).toEqual([5, 4, 3, 2, 1]);
    expect(last?.blocks[4].block.archivePath).toBe("/srv/backups/Demo[000001].zip");

    const failed = await reader.page(1, { offset: 0, limit: 10, status: "failed" });
    expect(failed?.blocks.map((b) => b.position)).toEqual([24, 14, 4]);
    expect(failed?.blocks.every((b) => b.block.aborted && b.block.errors.length === 2)).toBe(true);
    expect((await reader.page(1, { offset: 0, limit: 10, status: "partial" }))?.blocks.map((b) => b.position)).toEqual([21, 11, 1]);
    expect((await reader.page(1, { offset: 0, limit: 10, kind: "postponed" }))?.blocks.map((b) => b.position)).toEqual([25, 15, 5]);
    expect((await reader.page(1, { offset: 0, limit: 10, kind: "restore" }))?.blocks.map((b) => b.position)).toEqual([8]);
    expect((await reader.page(1, { offset: 0, limit: 10, kind: "logIntegration", status: "ok" }))?.blocks.map((b) => b.position)).toEqual([18]);
    expect((await reader.page(1, { offset: 0, limit: 10, kind: "logIntegration", status: "failed" }))?.total).toBe(0);

    const search = await reader.page(1, { offset: 0, limit: 10, search: "  missing.PDF   not found " });
    expect(search?.blocks.map((b) => b.position)).toEqual([21, 11, 1]);
    expect((await reader.page(1, { offset: 0, limit: 10, search: "Demo[000016].zip" }))?.blocks.map((b) => b.position)).toEqual([16]);
    expect((await reader.page(1, { offset: 0, limit: 10, search: "missing.pdf", status: "failed" }))?.total).toBe(0);
    expect((await reader.page(1, { offset: 0, limit: 10, search: "no such words anywhere" }))?.blocks).toEqual([]);
    expect(await reader.page(2, { offset: 0, limit: 10 })).toBeNull();
  });

  it("shows a file that ends in a cut line, then the whole block once it is written, without counting it twice", async () => {
    const whole = blockText(3);
    const cut = whole.slice(0, whole.indexOf("Starting : ") + 23);
    await writeFile(fileN(1), journalText(1, 2) + "\n" + cut);
    const reader = new JournalReader(logs);
    let page = await reader.page(1, { offset: 0, limit: 10 });
    expect(page?.total).toBe(3);
    expect(page?.blocks[0]).toMatchObject({ position: 3, text: cut });
    expect(page?.blocks[0].block.starting).toEqual({ text: "2026-01-01 0", iso: null });
    expect(page?.blocks[1].text).toBe(blockText(2));

    await appendFile(fileN(1), whole.slice(cut.length) + "\n");
    page = await reader.page(1, { offset: 0, limit: 10 });
    expect(page?.total).toBe(3);
    expect(page?.blocks.map((b) => b.text)).toEqual([blockText(3), blockText(2), blockText(1)]);
    expect(page?.blocks[0].block.starting?.iso).toBe("2026-01-01T00:03:00.000Z");
  });

  it("follows appends by BackupJournal, a cut header between two reads, and files replaced or rewritten", async () => {
    const journal = new BackupJournal(logs);
    const reader = new JournalReader(logs);
    await journal.append(blockText(1));
    expect((await reader.page(undefined, { offset: 0, limit: 5 }))?.total).toBe(1);
    await journal.append(blockText(4));
    await appendFile(fileN(1), "\n*"); // half a separator: a block is being written
    let page = await reader.page(undefined, { offset: 0, limit: 5, status: "failed" });
    expect(page?.blocks.map((b) => b.position)).toEqual([2]);
    expect((await reader.page(1, { offset: 0, limit: 5 }))?.total).toBe(2);
    await appendFile(fileN(1), "** Full Backup aborted\nStarting : 2026-01-01 01:00:00 +01:00\nError reported : 1406 Backup canceled by user\n");
    page = await reader.page(1, { offset: 0, limit: 5, status: "failed" });
    expect(page?.blocks.map((b) => [b.position, b.block.errors[0].code])).toEqual([[3, 1406], [2, 1407]]);
    // Every block the file holds, in order, matches what BackupJournal's own splitter sees.
    const all = await reader.page(1, { offset: 0, limit: 50 });
    expect(all?.blocks.map((b) => b.text).reverse()).toEqual(splitBlocks(await readFile(fileN(1), "utf8")));

    // Replaced by a different, longer file (a wrap rewrites [001]): read anew, nothing of the old one is left.
    await writeFile(fileN(1) + ".new", journalText(10, 14));
    await import("node:fs/promises").then((fs) => fs.rename(fileN(1) + ".new", fileN(1)));
    page = await reader.page(1, { offset: 0, limit: 50 });
    expect(page?.blocks.map((b) => b.text)).toEqual([14, 13, 12, 11, 10].map(blockText));
    // Rewritten in place, longer, with a different start: read anew too.
    await writeFile(fileN(1), journalText(20, 26));
    page = await reader.page(1, { offset: 0, limit: 50 });
    expect(page?.blocks.map((b) => b.position)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(page?.blocks[6].text).toBe(blockText(20));
    // Shrunk (truncated by hand): read anew.
    await writeFile(fileN(1), journalText(30, 30));
    expect((await reader.page(1, { offset: 0, limit: 50 }))?.blocks.map((b) => b.text)).toEqual([blockText(30)]);
  });

  it("keeps text before the first block and ignores blank lines; an empty file has no blocks", async () => {
    await writeFile(fileN(1), "\n\n");
    const reader = new JournalReader(logs);
    expect(await reader.page(1, { offset: 0, limit: 5 })).toMatchObject({ total: 0, totalInFile: 0, blocks: [] });
    await writeFile(fileN(1), "written by hand\n\n" + journalText(1, 1));
    const page = await reader.page(1, { offset: 0, limit: 5 });
    expect(page?.blocks.map((b) => [b.position, b.block.kind])).toEqual([[2, "backup"], [1, null]]);
    expect(page?.blocks[1].block.notes).toEqual(["written by hand"]);
  });
});

describe("JournalReader on a full 10 MB journal", () => {
  let dir: string;
  let logs: string;
  let count: number;
  const expected = { failed: 0, partial: 0, postponed: 0, ok: 0 };
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "strongbox-reader-big-"));
    logs = path.join(dir, "Logs");
    await mkdir(logs);
    // Generated in BackupJournal's format (blocks from formatBlock, one blank line between) up to just under the
    // rotation size, so that BackupJournal itself appends the next block to this same file.
    const parts: string[] = [];
    let bytes = 0;
    for (let n = 1; ; n++) {
      const text = blockText(n);
      const add = Buffer.byteLength(text) + 2;
      // Stop within 100 bytes of the limit: the block appended later (longer than that) takes the file past it.
      if (bytes + add + 100 > JOURNAL_MAX_BYTES) break;
      parts.push(text);
      bytes += add;
      expected[operation(n).status]++;
    }
    count = parts.length;
    await writeFile(path.join(logs, journalFileName(1)), parts.join("\n\n") + "\n");
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it("pages through it from either end, and through its filters", async () => {
    expect(count).toBeGreaterThan(20_000);
    const { size } = await stat(path.join(logs, journalFileName(1)));
    expect(size).toBeGreaterThan(10_000_000);
    const reader = new JournalReader(logs);
    const first = await reader.page(1, { offset: 0, limit: 50 });
    expect(first?.total).toBe(count);
    expect(first?.blocks).toHaveLength(50);
    expect(first?.blocks[0]).toMatchObject({ position: count, text: blockText(count) });
    const last = await reader.page(1, { offset: count - 3, limit: 50 });
    expect(last?.blocks.map((b) => b.text)).toEqual([3, 2, 1].map(blockText));
    const middle = await reader.page(1, { offset: 10_000, limit: 2 });
    expect(middle?.blocks.map((b) => b.text)).toEqual([count - 10_000, count - 10_001].map(blockText));

    for (const status of ["failed", "partial", "postponed", "ok"] as const) {
      const page = await reader.page(1, { offset: 0, limit: 20, status });
      expect(page?.total, status).toBe(expected[status]);
      expect(page?.blocks.every((b) => b.block.status === status)).toBe(true);
    }
    const restores = await reader.page(1, { offset: 0, limit: 100, kind: "restore" });
    expect(restores?.total).toBe(Math.floor((count - 8) / 20) + 1);
    expect(restores?.blocks.every((b) => b.block.kind === "restore" && b.position % 20 === 8)).toBe(true);
  });

  it("searches it, pages through the results, and follows a block BackupJournal appends", async () => {
    const reader = new JournalReader(logs);
    const one = await reader.page(1, { offset: 0, limit: 10, search: "demo[012345].ZIP" });
    expect(one?.blocks.map((b) => b.position)).toEqual([12345]);
    const missing = await reader.page(1, { offset: 0, limit: 10, search: "missing.pdf" });
    expect(missing?.total).toBe(expected.partial);
    const next = await reader.page(1, { offset: 10, limit: 10, search: "missing.pdf" });
    expect(next?.blocks[0].position).toBe(missing!.blocks[9].position - 10);
    // Words from different lines, with a status filter: the aborted scheduled backups.
    const scheduledFailures = await reader.page(1, { offset: 0, limit: 5, search: "trigger : scheduler", status: "failed" });
    expect(scheduledFailures?.total).toBe(Array.from({ length: count }, (_, i) => i + 1).filter((n) => n % 10 === 4 && n % 3 === 0 && n % 10 !== 7).length);

    const journal = new BackupJournal(logs);
    const appended = formatBlock({ ...operation(4).record, archivePath: "/srv/backups/Demo[appended].zip" }, { verbose: true, timeZone: TZ });
    expect((await journal.append(appended)).file).toBe(path.join(logs, journalFileName(1)));
    const after = await reader.page(1, { offset: 0, limit: 2 });
    expect(after?.total).toBe(count + 1);
    expect(after?.blocks.map((b) => b.text)).toEqual([appended, blockText(count)]);
    expect((await reader.page(1, { offset: 0, limit: 5, search: "demo[appended]" }))?.blocks.map((b) => b.position)).toEqual([count + 1]);
    expect((await reader.page(1, { offset: 0, limit: 5, status: "failed" }))?.total).toBe(expected.failed + 1);
    // The file is now over 10 MiB: the next block starts [002], which becomes the current file.
    await journal.append(blockText(1));
    const files = await reader.files();
    expect(files.map((f) => [f.number, f.current])).toEqual([[1, false], [2, true]]);
    expect((await reader.page(undefined, { offset: 0, limit: 5 }))?.blocks.map((b) => b.text)).toEqual([blockText(1)]);
  });
});
