import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mkdtemp, mkdir, open, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { appendWhole, writeFileAtomic } from "./atomic-write";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "strongbox-atomic-"));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

/** Spies on FileHandle.prototype.write (the class is not exported; reach it through a handle). */
async function spyOnHandleWrite() {
  const probe = await open(path.join(dir, "probe"), "w");
  const proto = Object.getPrototypeOf(probe) as { write: (...a: unknown[]) => unknown };
  await probe.close();
  return vi.spyOn(proto, "write");
}

describe("writeFileAtomic", () => {
  it("creates and then replaces a file, leaving no temporary file behind", async () => {
    const target = path.join(dir, "backupHistory.json");
    await writeFileAtomic(target, "first");
    await writeFileAtomic(target, Buffer.from("second"));
    expect(await readFile(target, "utf8")).toBe("second");
    expect((await readdir(dir)).filter((n) => n !== "probe")).toEqual(["backupHistory.json"]);
  });

  it("keeps the old content and removes its temporary file when the rename fails", async () => {
    const target = path.join(dir, "taken");
    await mkdir(target); // a folder with content: rename of a file over it fails
    await writeFile(path.join(target, "inside"), "x");
    await expect(writeFileAtomic(target, "data")).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(["taken"]);
  });

  it("fails without creating anything when the folder is missing", async () => {
    await expect(writeFileAtomic(path.join(dir, "missing", "f.json"), "x")).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("appendWhole", () => {
  it("creates the file, then appends records after each other", async () => {
    const target = path.join(dir, "journal.txt");
    await appendWhole(target, "one\n");
    await appendWhole(target, "two\n");
    expect(await readFile(target, "utf8")).toBe("one\ntwo\n");
  });

  it("hands a record to the kernel in a single write call", async () => {
    const target = path.join(dir, "journal.txt");
    const spy = await spyOnHandleWrite();
    const record = "x".repeat(256 * 1024) + "\n";
    await appendWhole(target, record);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(await readFile(target, "utf8")).toBe(record);
  });
});
