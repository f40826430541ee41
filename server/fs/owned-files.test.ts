// The files the server owns — the backup journal, backupHistory.json, the log file and its segments — with a symbolic
// link (or a FIFO) planted under their names, as a local user with write access to those folders could: the server
// may run as root, so following the link would read /etc/shadow to a viewer, or append a journal block to it. Each
// is refused (or, for a journal file being started, the link replaced) with a clear message; the target is neither
// read nor changed, and a FIFO never blocks. (The settings file has its own tests in backup-settings-file.test.ts.)
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { UnsignedLogRecord } from "../data/write-ops";
import { BackupHistory } from "../history/backup-history";
import { BackupJournal, journalFileName } from "../journal/backup-journal";
import { allJournalsDownload, journalFileDownload } from "../journal/journal-download";
import { JournalReader } from "../journal/journal-reader";
import { OperationLog } from "../log/log-file";
import { formatHeader, formatRecord, scanLog } from "../log/read-log";
import { STATUS } from "../isomorphic/status";
import { listEntries } from "../zip/zip-reader";
import { appendWhole } from "./atomic-write";

let dir: string;
let logs: string;
let secret: string;
const SECRET = "root:$6$secret-hash:19000:0:99999:7:::\n";
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "strongbox-owned-"));
  logs = path.join(dir, "Database", "Logs");
  await fs.mkdir(logs, { recursive: true });
  secret = path.join(dir, "shadow");
  await fs.writeFile(secret, SECRET, { mode: 0o600 });
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

/** The target as it was: same bytes, same modification time. */
async function untouched(file: string, before: { mtimeMs: number }, content = SECRET): Promise<void> {
  expect(await fs.readFile(file, "utf8")).toBe(content);
  expect((await fs.stat(file)).mtimeMs).toBe(before.mtimeMs);
}

const block = "*** Full Backup\nTrigger : manual (alice)\nStarting : 2026-11-26 03:00:01 +01:00\nStatus : 0 OK";

describe("the backup journal", () => {
  it("never appends a block through a link: a journal file started at that name replaces the link", async () => {
    const link = path.join(logs, journalFileName(1));
    await fs.symlink(secret, link);
    const before = await fs.stat(secret);
    const { file } = await new BackupJournal(logs).append(block);
    expect(file).toBe(link);
    expect((await fs.lstat(link)).isFile()).toBe(true);
    expect(await fs.readFile(link, "utf8")).toBe(block + "\n");
    await untouched(secret, before);
  });

  it("never shows a linked file on the Journal page, nor serves it as a download", async () => {
    await fs.symlink(secret, path.join(logs, journalFileName(1)));
    const reader = new JournalReader(logs);
    expect(await reader.files()).toEqual([]);
    expect(await reader.page(undefined, { offset: 0, limit: 10 })).toBeNull();
    expect(await reader.page(1, { offset: 0, limit: 10 })).toBeNull();
    const one = await journalFileDownload(logs, "1");
    expect(one.status).toBe(404);
    expect(await one.text()).not.toContain("secret-hash");
    expect((await allJournalsDownload(logs, { databaseName: "Db", now: new Date() })).status).toBe(404);
  });

  it("leaves a FIFO under a journal's name out, without blocking, and a ZIP of the others still downloads", async () => {
    await new BackupJournal(logs).append(block);
    execFileSync("mkfifo", [path.join(logs, journalFileName(2))]);
    expect((await new JournalReader(logs).files()).map((f) => f.number)).toEqual([1]);
    expect((await journalFileDownload(logs, "2")).status).toBe(404);
    const res = await allJournalsDownload(logs, { databaseName: "Db", now: new Date() });
    const zip = path.join(dir, "all.zip");
    await fs.writeFile(zip, Buffer.from(await res.arrayBuffer()));
    expect((await listEntries(zip)).map((e) => e.name)).toEqual([journalFileName(1)]);
  });
});

describe("appendWhole", () => {
  it("refuses a link or a FIFO with a clear error, appending nothing", async () => {
    const link = path.join(dir, "record.txt");
    await fs.symlink(secret, link);
    const before = await fs.stat(secret);
    await expect(appendWhole(link, "appended\n")).rejects.toThrow(/record\.txt is a symbolic link: the server does not follow links/);
    await untouched(secret, before);
    const fifo = path.join(dir, "fifo.txt");
    execFileSync("mkfifo", [fifo]);
    await expect(appendWhole(fifo, "appended\n")).rejects.toThrow(/fifo\.txt is a FIFO \(named pipe\), not a regular file/);
  });
});

describe("backupHistory.json", () => {
  it("refuses a link in the destination, reading nothing through it and writing nothing over it", async () => {
    const destination = path.join(dir, "backups");
    await fs.mkdir(destination);
    const target = path.join(dir, "other.json");
    const theirs = JSON.stringify({ "/other/Project": [{ backupNumber: 1, status: 0, secret: "secret-hash" }] });
    await fs.writeFile(target, theirs);
    const before = await fs.stat(target);
    await fs.symlink(target, path.join(destination, "backupHistory.json"));
    const history = new BackupHistory(destination, "/db/Project", { rebuild: async () => [] });
    await expect(history.read()).rejects.toThrow(/backupHistory\.json is a symbolic link: the server does not follow links for this file/);
    await expect(history.append({} as never)).rejects.toThrow(/symbolic link/);
    expect((await fs.lstat(path.join(destination, "backupHistory.json"))).isSymbolicLink()).toBe(true);
    await untouched(target, before, theirs);
  });

  it("refuses a FIFO at once", async () => {
    const destination = path.join(dir, "backups");
    await fs.mkdir(destination);
    execFileSync("mkfifo", [path.join(destination, "backupHistory.json")]);
    await expect(new BackupHistory(destination, "/db/Project").read()).rejects.toThrow(/is a FIFO/);
  });
});

describe("the log file", () => {
  const DB = "0f6c1f8e-7d2b-4c0a-9a51-3e1f2d4c5b6a";
  const rec = (op: number) => ({ op, time: "2026-11-26T10:00:01.000Z", user: "alice", kind: "delete", table: "t", key: op }) as UnsignedLogRecord;

  it("refuses a link in place of Data/data.journal (1403), leaving its target as it was, even one with a torn last line", async () => {
    const target = path.join(dir, "elsewhere.journal");
    // A log whose last line is torn: following the link, the server would cut it back (a write to the target).
    const text = formatHeader({ type: "header", format: 1, databaseId: DB, firstOperation: 1, createdAt: "2026-11-26T10:00:00.000Z" }) + "\n" +
      formatRecord(rec(1)).line + "\n" + '{"op":2,"ti';
    await fs.writeFile(target, text);
    const before = await fs.stat(target);
    const logFile = path.join(dir, "Data", "data.journal");
    await fs.mkdir(path.dirname(logFile));
    await fs.symlink(target, logFile);
    const opened = OperationLog.open({ logFile, segmentsDir: path.join(logs, "Log segments"), databaseId: DB, lastOperation: 1 });
    await expect(opened).rejects.toMatchObject({ status: STATUS.NO_LOG_FILE, message: expect.stringMatching(/data\.journal is a symbolic link/) });
    await expect(scanLog(logFile, { allowTornTail: true })).rejects.toMatchObject({ status: STATUS.NO_LOG_FILE });
    await untouched(target, before, text);
  });

  it("refuses a FIFO in place of a log file at once (1403)", async () => {
    const fifo = path.join(dir, "data.journal");
    execFileSync("mkfifo", [fifo]);
    await expect(scanLog(fifo, { allowTornTail: true })).rejects.toMatchObject({ status: STATUS.NO_LOG_FILE, message: expect.stringMatching(/FIFO/) });
  });

  it("refuses a file without line breaks past the line cap instead of holding it in memory (1403)", async () => {
    const file = path.join(dir, "noise.journal");
    const fh = await fs.open(file, "w");
    const chunk = Buffer.alloc(8 << 20, "x");
    for (let i = 0; i < 9; i++) await fh.write(chunk);
    await fh.close();
    await expect(scanLog(file, { allowTornTail: true })).rejects.toMatchObject({ status: STATUS.NO_LOG_FILE, message: expect.stringMatching(/line 1 is longer than 64 MiB/) });
  });
});
