import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { listEntries, readEntry } from "../zip/zip-reader";
import { BackupJournal, journalFileName } from "./backup-journal";
import { allJournalsDownload, allJournalsFileName, attachmentDisposition, journalFileDownload } from "./journal-download";

describe("journal downloads", () => {
  let dir: string;
  let logs: string;
  const fileN = (n: number) => path.join(logs, journalFileName(n));
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "strongbox-journal-dl-"));
    logs = path.join(dir, "Database", "Logs");
    await mkdir(logs, { recursive: true });
  });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it("sends one file exactly as it is on disk, with its name and type", async () => {
    const journal = new BackupJournal(logs);
    await journal.append("*** Full Backup\nTrigger : manual (zoë)\nStarting : 2026-11-26 03:00:01 +01:00");
    // Bytes that are not valid UTF-8 and a CR: a download is the file, not a re-encoding of it.
    await writeFile(fileN(1), Buffer.concat([await readFile(fileN(1)), Buffer.from([0xff, 0x0d, 0x0a])]), { flag: "w" });
    // Bigger than one read, to go through the streaming loop.
    await writeFile(fileN(2), "*** Full Backup\n" + "x".repeat(200_000) + "\n");
    for (const n of [1, 2]) {
      const res = await journalFileDownload(logs, String(n));
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      const name = journalFileName(n);
      expect(res.headers.get("content-disposition")).toBe(
        `attachment; filename="${name}"; filename*=UTF-8''Backup%20Journal%5B00${n}%5D.txt`,
      );
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.equals(await readFile(fileN(n)))).toBe(true);
      expect(res.headers.get("content-length")).toBe(String(body.length));
    }
    expect((await journalFileDownload(logs, "001")).status).toBe(200);
  });

  it("refuses anything but the number of a listed file, and never reaches outside the Logs folder", async () => {
    await writeFile(fileN(1), "*** Full Backup\n");
    await writeFile(path.join(dir, "secret.txt"), "secret");
    await writeFile(path.join(logs, "Backup Journal[abc].txt"), "not a journal");
    for (const param of ["../x", "..%2F..%2Fetc%2Fpasswd", "../../etc/passwd", "/etc/passwd", "..", "", "0", "000", "1000", "-1", "1.0",
      " 1", "1 ", "0x1", "1e2", "abc", "Backup Journal[001].txt", "../secret.txt", "1/../../secret.txt"]) {
      const res = await journalFileDownload(logs, param);
      expect(res.status, param).toBe(400);
      expect(await res.text()).toContain("named by its number");
    }
    const missing = await journalFileDownload(logs, "2");
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("no journal file number 2");
    // A link under a journal's name is not followed.
    await symlink(path.join(dir, "secret.txt"), fileN(3));
    const linked = await journalFileDownload(logs, "3");
    expect(linked.status).toBe(404);
    expect(await linked.text()).not.toContain("secret");
  });

  it("streams every journal file as one ZIP that unzip opens", async () => {
    const contents = new Map<number, string>();
    for (const n of [1, 2, 3, 999]) {
      const text = `*** Full Backup\nStarting : 2026-11-2${n % 10} 03:00:01 +01:00\n` + `note ${n}\n`.repeat(n * 10);
      contents.set(n, text);
      await writeFile(fileN(n), text);
      await utimes(fileN(n), new Date(`2026-11-0${(n % 9) + 1}T10:00:00Z`), new Date(`2026-11-0${(n % 9) + 1}T10:00:00Z`));
    }
    await writeFile(path.join(logs, "other.txt"), "not a journal");
    await writeFile(path.join(dir, "secret.txt"), "secret");
    await symlink(path.join(dir, "secret.txt"), fileN(4)); // listed by its name, but a link: left out
    const now = new Date("2026-11-26T23:30:00Z");
    const res = await allJournalsDownload(logs, { databaseName: "Démo base", now, timeZone: "Europe/Paris" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    expect(allJournalsFileName("Démo base", now, "Europe/Paris")).toBe("Démo base Backup Journals 2026-11-27.zip");
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="D_mo base Backup Journals 2026-11-27.zip"; filename*=UTF-8''D%C3%A9mo%20base%20Backup%20Journals%202026-11-27.zip`,
    );
    const zip = path.join(dir, "all.zip");
    await writeFile(zip, Buffer.from(await res.arrayBuffer()));

    const entries = await listEntries(zip);
    expect(entries.map((e) => e.name).sort()).toEqual([1, 2, 3, 999].map(journalFileName));
    for (const [n, text] of contents) expect((await readEntry(zip, journalFileName(n))).toString("utf8")).toBe(text);
    expect(entries.find((e) => e.name === journalFileName(2))?.mtime.getTime()).toBe(Date.parse("2026-11-03T10:00:00Z"));
    // And the standard tool agrees.
    const listing = execFileSync("unzip", ["-l", zip], { encoding: "utf8" });
    for (const n of [1, 2, 3, 999]) expect(listing).toContain(journalFileName(n));
    expect(execFileSync("unzip", ["-p", zip, "Backup Journal?999?.txt"], { encoding: "utf8" })).toBe(contents.get(999));
  });

  it("says so when there is no journal to put in a ZIP", async () => {
    const res = await allJournalsDownload(path.join(dir, "no-logs"), { databaseName: "Demo", now: new Date() });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("no backup journal yet");
  });

  it("encodes any file name for Content-Disposition", () => {
    expect(attachmentDisposition(`a "b" \\ c's (1)*.txt`)).toBe(
      `attachment; filename="a _b_ _ c's (1)*.txt"; filename*=UTF-8''a%20%22b%22%20%5C%20c%27s%20%281%29%2A.txt`,
    );
    expect(attachmentDisposition("日本.zip")).toBe(`attachment; filename="__.zip"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.zip`);
  });
});
