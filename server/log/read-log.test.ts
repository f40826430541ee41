// Reading a log file: the format round-trips, a torn last line is told apart from damage, and damage, gaps,
// disorder and another database's id are refused with the status and the line they concern.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { LogHeader } from "../data/write-ops";
import { formatHeader, formatRecord, readLog, recordChecksum, type UnsignedLogRecord } from "./read-log";

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "strongbox-readlog-"));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const DB = "11111111-2222-3333-4444-555555555555";
const header = (firstOperation: number, databaseId = DB): LogHeader =>
  ({ type: "header", format: 1, databaseId, firstOperation, createdAt: "2026-11-26T10:00:00.000Z" });
const rec = (op: number, extra: Partial<{ value: string }> = {}): UnsignedLogRecord =>
  ({ op, time: "2026-11-26T10:00:01.000Z", user: "alice", kind: "update", table: "customers", key: op, values: { name: extra.value ?? `n${op}` } }) as UnsignedLogRecord;
const line = (r: UnsignedLogRecord) => formatRecord(r).line + "\n";

async function logFile(content: string, name = "data.journal"): Promise<string> {
  const p = path.join(dir, name);
  await fs.writeFile(p, content);
  return p;
}

describe("formatRecord", () => {
  it("writes op, time, user, the write, then a checksum of everything before it", () => {
    const { line: text, record } = formatRecord({ user: "bob", kind: "insert", table: "t", values: { a: 1 }, key: 9, time: "T", op: 3 } as UnsignedLogRecord);
    expect(Object.keys(JSON.parse(text))).toEqual(["op", "time", "user", "kind", "table", "values", "key", "checksum"]);
    const { checksum, ...unsigned } = JSON.parse(text);
    expect(checksum).toMatch(/^[0-9a-f]{32}$/);
    expect(recordChecksum(unsigned)).toBe(checksum);
    expect(record.checksum).toBe(checksum);
  });

  it("refuses a record the reader would refuse (a bad write, a non-finite number)", () => {
    expect(() => formatRecord({ ...rec(1), table: "bad name" } as UnsignedLogRecord)).toThrow(/can't be logged/);
    expect(() => formatRecord({ ...rec(1), values: { a: Number.NaN } } as UnsignedLogRecord)).toThrow(/can't be logged/);
    expect(() => formatRecord({ ...rec(1), op: 0 })).toThrow(/positive whole number/);
  });
});

describe("readLog", () => {
  it("reads back the header and the records in order", async () => {
    const p = await logFile(formatHeader(header(5)) + "\n" + line(rec(5)) + line(rec(6)) + line(rec(7)));
    const log = await readLog(p, { allowTornTail: false, expectDatabaseId: DB });
    expect(log.header).toEqual(header(5));
    expect(log.records.map((r) => r.op)).toEqual([5, 6, 7]);
    expect(log.records[1]).toMatchObject({ kind: "update", table: "customers", key: 6, values: { name: "n6" }, user: "alice" });
    expect(log.lastOperation).toBe(7);
    expect(log.tornTail).toBe(false);
    expect(log.validLength).toBe((await fs.stat(p)).size);
  });

  it("reads a header-only log as holding no operation", async () => {
    const p = await logFile(formatHeader(header(42)) + "\n");
    const log = await readLog(p, { allowTornTail: false });
    expect(log).toMatchObject({ count: 0, lastOperation: 41, records: [], lastRecordOffset: null });
  });

  it("reads records longer than its read buffer and lines across buffer boundaries", async () => {
    const big = "x".repeat(1_500_000);
    const small = Array.from({ length: 3000 }, (_, i) => line(rec(i + 2, { value: "y".repeat(500) }))).join("");
    const p = await logFile(formatHeader(header(1)) + "\n" + line(rec(1, { value: big })) + small);
    const log = await readLog(p, { allowTornTail: false });
    expect(log.count).toBe(3001);
    expect((log.records[0] as unknown as { values: { name: string } }).values.name).toBe(big);
    expect(log.lastOperation).toBe(3001);
  });

  it("ignores a torn last line when allowed, and says where the whole lines end", async () => {
    const whole = formatHeader(header(1)) + "\n" + line(rec(1)) + line(rec(2));
    const p = await logFile(whole + line(rec(3)).slice(0, 40));
    const log = await readLog(p, { allowTornTail: true });
    expect(log.records.map((r) => r.op)).toEqual([1, 2]);
    expect(log).toMatchObject({ tornTail: true, tornLine: 4, validLength: Buffer.byteLength(whole), lastOperation: 2 });
    expect(log.lastRecordOffset).toBe(Buffer.byteLength(formatHeader(header(1)) + "\n" + line(rec(1))));
  });

  it("refuses a torn last line when not allowed (1403, with the line)", async () => {
    const p = await logFile(formatHeader(header(1)) + "\n" + line(rec(1)) + line(rec(2)).slice(0, 30));
    await expect(readLog(p, { allowTornTail: false })).rejects.toMatchObject({ status: 1403, message: expect.stringMatching(/line 3: the last line is incomplete/) });
  });

  it("treats a whole line that was altered as damage, not as a torn tail (1403, with the line)", async () => {
    const altered = line(rec(2)).replace('"n2"', '"n9"');
    const p = await logFile(formatHeader(header(1)) + "\n" + line(rec(1)) + altered + line(rec(3)));
    const err = await readLog(p, { allowTornTail: true }).catch((e) => e);
    expect(err).toMatchObject({ name: "DomainError", status: 1403 });
    expect(err.message).toContain(`${p} is damaged at line 3: the record does not match its checksum`);
    expect(err.message).toContain("operations up to 1");
    // Even as the last line: a line with its newline was written whole, so a bad one is damage.
    const p2 = await logFile(formatHeader(header(1)) + "\n" + line(rec(1)) + altered, "last.journal");
    await expect(readLog(p2, { allowTornTail: true })).rejects.toMatchObject({ status: 1403 });
  });

  it("refuses lines that are not JSON, not records, or not valid writes", async () => {
    const h = formatHeader(header(1)) + "\n";
    const cases: Array<[string, RegExp]> = [
      ["{not json\n", /line 2: the line is not valid JSON/],
      ['["a"]\n', /line 2: the line is not a log record/],
      ["\n", /line 2: the line is not valid JSON/],
    ];
    // A record whose checksum is right but whose write is not one the data API makes.
    const bogus = { op: 1, time: "T", user: null, kind: "drop", table: "t" };
    cases.push([JSON.stringify({ ...bogus, checksum: recordChecksum(bogus) }) + "\n", /line 2: it does not hold a valid write/]);
    for (const [body, re] of cases) {
      const p = await logFile(h + body);
      await expect(readLog(p, { allowTornTail: true })).rejects.toMatchObject({ status: 1403, message: expect.stringMatching(re) });
    }
  });

  it("refuses a missing, empty or headerless file (1403)", async () => {
    await expect(readLog(path.join(dir, "nope.journal"), { allowTornTail: true })).rejects.toMatchObject({ status: 1403, message: expect.stringMatching(/does not exist/) });
    await expect(readLog(await logFile(""), { allowTornTail: true })).rejects.toMatchObject({ status: 1403, message: expect.stringMatching(/empty/) });
    await expect(readLog(await logFile(line(rec(1))), { allowTornTail: true })).rejects.toMatchObject({ status: 1403, message: expect.stringMatching(/line 1: the first line is not a log header/) });
    const future = JSON.stringify({ ...header(1), format: 2 }) + "\n";
    await expect(readLog(await logFile(future), { allowTornTail: true })).rejects.toMatchObject({ status: 1403, message: expect.stringMatching(/format 2/) });
    await expect(readLog(dir, { allowTornTail: true })).rejects.toMatchObject({ status: 1403, message: expect.stringMatching(/is a folder, not a regular file/) });
  });

  it("refuses a gap in the numbering (1416), also right after the header", async () => {
    const p = await logFile(formatHeader(header(1)) + "\n" + line(rec(1)) + line(rec(2)) + line(rec(4)));
    await expect(readLog(p, { allowTornTail: true })).rejects.toMatchObject({ status: 1416, message: expect.stringMatching(/has a gap between operation 2 and 4 \(line 4\)/) });
    const p2 = await logFile(formatHeader(header(10)) + "\n" + line(rec(12)), "late.journal");
    await expect(readLog(p2, { allowTornTail: true })).rejects.toMatchObject({ status: 1416, message: expect.stringMatching(/gap between operation 9 and 12/) });
  });

  it("refuses operations out of order or repeated (1416)", async () => {
    const p = await logFile(formatHeader(header(1)) + "\n" + line(rec(1)) + line(rec(2)) + line(rec(2)));
    await expect(readLog(p, { allowTornTail: true })).rejects.toMatchObject({ status: 1416, message: expect.stringMatching(/operation 2 after operation 2 .*out of order/) });
  });

  it("refuses another database's log (1416), naming both ids", async () => {
    const p = await logFile(formatHeader(header(1, "other-db")) + "\n" + line(rec(1)));
    const err = await readLog(p, { allowTornTail: true, expectDatabaseId: DB }).catch((e) => e);
    expect(err).toMatchObject({ status: 1416 });
    expect(err.message).toContain("other-db");
    expect(err.message).toContain(DB);
  });
});
