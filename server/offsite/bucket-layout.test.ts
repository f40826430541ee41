// Object keys: one spelling per kind of object, read back into what it is, and nothing else taken for ours.
import { describe, expect, it } from "vitest";
import { BucketLayout } from "./bucket-layout";

describe("BucketLayout", () => {
  it("names and recognises archives, summaries, log backups and segments", () => {
    const l = new BucketLayout("/backups/prod/");
    expect(l.manifestKey()).toBe("backups/prod/strongbox.json");
    const keys = {
      archive: l.archiveKey("My Db", 12, false),
      enc: l.archiveKey("My Db", 13, true),
      summary: l.summaryKey("My Db", 12),
      logBackup: l.logBackupKey("My Db", 11, false),
      segment: l.segmentKey("My Db", "9f1c-22", 101, 150, true),
    };
    expect(keys).toEqual({
      archive: "backups/prod/My Db/archives/My Db[0012].zip",
      enc: "backups/prod/My Db/archives/My Db[0013].zip.sbxenc",
      summary: "backups/prod/My Db/archives/My Db[0012].json",
      logBackup: "backups/prod/My Db/log-backups/My Db[0011].4BL",
      segment: "backups/prod/My Db/log/9f1c-22/log[101-150].journal.sbxenc",
    });
    expect(l.parse("My Db", keys.archive)).toMatchObject({ kind: "archive", number: 12, encrypted: false });
    expect(l.parse("My Db", keys.enc)).toMatchObject({ kind: "archive", number: 13, encrypted: true });
    expect(l.parse("My Db", keys.summary)).toMatchObject({ kind: "archive-summary", number: 12 });
    expect(l.parse("My Db", keys.logBackup)).toMatchObject({ kind: "log-backup", number: 11 });
    expect(l.parse("My Db", keys.segment)).toMatchObject({ kind: "segment", databaseId: "9f1c-22", firstOperation: 101, lastOperation: 150, encrypted: true });
    expect(l.parse("My Db", "backups/prod/My Db/archives/Other[0001].zip")).toBeNull();
    expect(l.parse("My Db", "backups/prod/My Db/archives/My Db[0012].zip.tmp")).toBeNull();
    expect(l.parse("My Db", "backups/prod/My Dbx/archives/My Dbx[0012].zip")).toBeNull();
    expect(new BucketLayout("").archiveKey("A", 1, false)).toBe("A/archives/A[0001].zip");
  });

  it("a database name that can't be a folder is refused", () => {
    const l = new BucketLayout("p");
    expect(() => l.archiveKey("a/b", 1, false)).toThrow(/can't name a folder in the bucket/);
    expect(() => l.archiveKey("..", 1, false)).toThrow(/can't name a folder/);
    expect(() => l.segmentKey("A", "../x", 1, 2, false)).toThrow(/database id/);
  });
});
