import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultSettings } from "./defaults";
import type { BackupSettings } from "./model";
import { describeAttachments, diskProblems, localDate, settingsToSave, settingsWarnings, validateSettingsInput } from "./settings-input";

const TODAY = "2031-05-06";
const current = () => {
  const s = defaultSettings("/srv/backups");
  s.databaseName = "Invoices";
  s.scheduler.anchor = "2020-01-01";
  return s;
};
/** The input the console sends: the settings without DatabaseName. */
const input = (edit: (s: BackupSettings) => void = () => {}) => {
  const { databaseName: _, ...rest } = current();
  edit(rest as BackupSettings);
  return rest;
};
const messages = (r: ReturnType<typeof settingsToSave>) => r.problems.map((p) => p.message);

describe("settingsToSave", () => {
  it("accepts the current settings unchanged, keeping DatabaseName and the anchor", () => {
    const r = settingsToSave(input(), current(), TODAY);
    expect(r.problems).toEqual([]);
    expect(r.settings?.databaseName).toBe("Invoices");
    expect(r.settings?.scheduler.anchor).toBe("2020-01-01");
  });

  it.each([
    ["Hourly every 30", (s: BackupSettings) => (s.scheduler.hourly.every = 30), "Hourly: every … hours must be a whole number from 1 to 24."],
    ["Hourly every 0", (s: BackupSettings) => (s.scheduler.hourly.every = 0), "from 1 to 24"],
    ["Daily every 1000", (s: BackupSettings) => (s.scheduler.daily.every = 1000), "Daily: every … days must be a whole number from 1 to 999."],
    ["Weekly every 1.5", (s: BackupSettings) => (s.scheduler.weekly.every = 1.5), "Weekly: every … weeks"],
    ["Monthly day 32", (s: BackupSettings) => (s.scheduler.monthly.day = 32), "day of the month must be a whole number from 1 to 31"],
    ["keep last 0", (s: BackupSettings) => (s.advanced.setNumber.value = 0), "from 1 to 9999"],
    ["retry count -1", (s: BackupSettings) => (s.advanced.backupFailure.retryCountBeforeAbort = -1), "from 0 to 9999"],
    ["a time of 24:00", (s: BackupSettings) => (s.scheduler.weekly.days.Monday.hour = 86400), "The time on Monday must be a time of day"],
    ["an empty number (NaN → null)", (s: BackupSettings) => ((s.scheduler.daily as { every: unknown }).every = null), "Daily: every … days"],
    ["an empty destination", (s: BackupSettings) => (s.general.destinationFolder = "  "), "The destination folder is required."],
    ["an empty attachment", (s: BackupSettings) => (s.general.includesFiles = [""]), "An attachment path is empty."],
    ["retry after half a second", (s: BackupSettings) => (s.advanced.backupFailure.tryToBackupAfter = 0.5), "Try again after must be at least 1 second."],
  ])("refuses %s with a clear message", (_, edit, message) => {
    const r = settingsToSave(input(edit), current(), TODAY);
    expect(r.settings).toBeNull();
    expect(messages(r).join("\n")).toContain(message);
  });

  it("keeps a retry delay under 1 second that the file already holds (4D writes 0.561 s), and accepts seconds", () => {
    const was = current();
    was.advanced.backupFailure.tryToBackupAfter = 0.561;
    const kept = settingsToSave(input((s) => { s.advanced.backupFailure.tryToBackupAfter = 0.561; s.advanced.compressionRate = "Compact"; }), was, TODAY);
    expect(kept.problems).toEqual([]);
    expect(kept.settings?.advanced.backupFailure.tryToBackupAfter).toBe(0.561);
    expect(settingsToSave(input((s) => (s.advanced.backupFailure.tryToBackupAfter = 0.6)), was, TODAY).problems.map((p) => p.path))
      .toEqual(["advanced.backupFailure.tryToBackupAfter"]);
    expect(settingsToSave(input((s) => (s.advanced.backupFailure.tryToBackupAfter = 5)), current(), TODAY).problems).toEqual([]);
  });

  it("requires a 5-field cron expression when the frequency is Cron", () => {
    expect(messages(settingsToSave(input((s) => (s.scheduler.frequency = "Cron")), current(), TODAY))).toEqual([
      expect.stringContaining("Cron: the expression must have 5 fields"),
    ]);
    const six = settingsToSave(input((s) => { s.scheduler.frequency = "Cron"; s.scheduler.cron = "0 30 2 * * 1"; }), current(), TODAY);
    expect(messages(six)).toHaveLength(1);
    const ok = settingsToSave(input((s) => { s.scheduler.frequency = "Cron"; s.scheduler.cron = " 30  2 * * 1-5 "; }), current(), TODAY);
    expect(ok.settings?.scheduler.cron).toBe("30 2 * * 1-5");
  });

  it("sets the anchor to today when the schedule changes, and only then", () => {
    const weekly = settingsToSave(input((s) => { s.scheduler.frequency = "Weekly"; s.scheduler.weekly.days.Monday.save = true; }), current(), TODAY);
    expect(weekly.settings?.scheduler.anchor).toBe(TODAY);

    const was = current();
    was.scheduler.frequency = "Daily";
    const same = input((s) => { s.scheduler.frequency = "Daily"; s.advanced.compressionRate = "Compact"; s.scheduler.hourly.every = 5; });
    // Other settings, or another frequency's numbers, leave the anchor alone.
    expect(settingsToSave(same, was, TODAY).settings?.scheduler.anchor).toBe("2020-01-01");
    const every = input((s) => { s.scheduler.frequency = "Daily"; s.scheduler.daily.every = 2; });
    expect(settingsToSave(every, was, TODAY).settings?.scheduler.anchor).toBe(TODAY);
    // The client's anchor is ignored.
    expect(settingsToSave(input((s) => (s.scheduler.anchor = "1999-01-01")), current(), TODAY).settings?.scheduler.anchor).toBe("2020-01-01");
  });

  it("anchors a schedule that never had an anchor", () => {
    const was = current();
    was.scheduler.frequency = "Daily";
    was.scheduler.anchor = null;
    expect(settingsToSave(input((s) => (s.scheduler.frequency = "Daily")), was, TODAY).settings?.scheduler.anchor).toBe(TODAY);
  });

  it("formats the server's local date", () => {
    expect(localDate(new Date(2024, 0, 9, 23, 59))).toBe("2024-01-09");
  });
});

describe("diskProblems / describeAttachments", () => {
  let root: string;
  let ctx: { databaseDir: string; home: string; dataFile: string };
  const settings = (edit: (s: BackupSettings) => void) => {
    const s = defaultSettings(path.join(root, "home/backups"));
    edit(s);
    return s;
  };

  beforeAll(async () => {
    root = await realpath(await mkdtemp(path.join(tmpdir(), "strongbox-settings-input-")));
    for (const d of ["db/Project", "db/Settings", "db/Data", "home/backups", "files/contracts"]) await mkdir(path.join(root, d), { recursive: true });
    await writeFile(path.join(root, "db/Data/data.sqlite"), "");
    await writeFile(path.join(root, "files/notes.txt"), "x");
    ctx = { databaseDir: path.join(root, "db"), home: path.join(root, "home"), dataFile: path.join(root, "db/Data/data.sqlite") };
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("accepts an existing destination and existing, allowed attachments", async () => {
    const s = settings((s) => (s.general.includesFiles = [path.join(root, "files/contracts"), "../files/notes.txt"]));
    expect(await diskProblems(s, ctx)).toEqual({ problems: [], warnings: [] });
    expect(await describeAttachments(s, ctx)).toEqual([
      { path: path.join(root, "files/contracts"), absolute: path.join(root, "files/contracts"), exists: true, kind: "folder", refused: null },
      { path: "../files/notes.txt", absolute: path.join(root, "files/notes.txt"), exists: true, kind: "file", refused: null },
    ]);
  });

  it("refuses a missing destination, or a file as destination", async () => {
    const missing = (await diskProblems(settings((s) => (s.general.destinationFolder = path.join(root, "nowhere"))), ctx)).problems;
    expect(missing.map((p) => p.message)).toEqual([`Destination folder ${path.join(root, "nowhere")} does not exist on the server. Create it first, or choose an existing folder.`]);
    const file = (await diskProblems(settings((s) => (s.general.destinationFolder = "../files/notes.txt")), ctx)).problems;
    expect(file[0]?.message).toContain("is a file, not a folder");
  });

  it("refuses a destination inside the database, the home itself or a system folder, on the destination field", async () => {
    for (const [destination, says] of [
      ["./Project", "is inside the database folder"], ["./", "is the database folder itself"],
      [path.join(root, "home"), "is STRONGBOX_HOME"], ["/etc", "is the system folder /etc"], ["/", "is the root of the file system"],
    ] as const) {
      const { problems } = await diskProblems(settings((s) => (s.general.destinationFolder = destination)), ctx);
      expect(problems.map((p) => p.path), destination).toEqual(["general.destinationFolder"]);
      expect(problems[0]!.message).toMatch(new RegExp(`^Destination folder .* is refused: it ${says}`));
    }
    // The default, a folder inside the home, stays allowed.
    expect(await diskProblems(settings(() => {}), ctx)).toEqual({ problems: [], warnings: [] });
  });

  it("refuses refused places, naming the path; a missing attachment is only a warning (the backup is partial)", async () => {
    const s = settings((s) => (s.general.includesFiles = [path.join(root, "files/gone"), "./Project", root]));
    const { problems, warnings } = await diskProblems(s, ctx);
    expect(problems.map((p) => p.message)).toEqual([
      `Attachment ./Project (${path.join(root, "db/Project")}) is refused: it is the structure folder Project/, which the backup already saves.`,
      expect.stringContaining(`Attachment ${root} is refused: it contains the database folder`),
    ]);
    expect(warnings).toEqual([{
      path: "general.includesFiles.0",
      message: `Attachment ${path.join(root, "files/gone")} was not found on the server. Backups save everything else and end as partial backups (1409) until it exists or is removed from the list.`,
    }]);
  });

  it("never refuses a destination or an attachment the file already holds: it is a warning saying what backups will do", async () => {
    // As in 4D's own files: the destination "./" (the database folder, refused for a new value) and an attachment refused.
    const held = settings((s) => { s.general.destinationFolder = "./"; s.general.includesFiles = ["./Project"]; });
    const edited = settings((s) => { s.general.destinationFolder = "./"; s.general.includesFiles = ["./Project"]; s.advanced.compressionRate = "Compact"; });
    const r = await validateSettingsInput(edited, held, TODAY, ctx);
    expect(r.problems).toEqual([]);
    expect(r.settings?.advanced.compressionRate).toBe("Compact");
    expect(r.warnings.map((w) => w.path)).toEqual(["general.destinationFolder", "general.includesFiles.0"]);
    expect(r.warnings[0]!.message).toBe(`Destination folder ${path.join(root, "db")} is refused: it is the database folder itself: each archive would hold the archives before it. Choose a folder outside the database. Backups fail with 1407 (destination folder not valid) until it is changed.`);
    // The same values new are still refused.
    const fresh = await validateSettingsInput(edited, settings(() => {}), TODAY, ctx);
    expect(fresh.problems.map((p) => p.path)).toEqual(["general.destinationFolder", "general.includesFiles.0"]);
    // What the page shows for the settings as they are.
    expect((await settingsWarnings(held, ctx)).map((w) => w.path)).toEqual(["general.destinationFolder", "general.includesFiles.0"]);
  });

  it("reports a bad number, and a missing attachment as a warning", async () => {
    const s = settings((s) => { s.scheduler.hourly.every = 30; s.general.includesFiles = [path.join(root, "files/gone")]; });
    const r = await validateSettingsInput(s, settings(() => {}), TODAY, ctx);
    expect(r.settings).toBeNull();
    expect(r.problems.map((p) => p.path)).toEqual(["scheduler.hourly.every"]);
    expect(r.warnings.map((p) => p.path)).toEqual(["general.includesFiles.0"]);
    const ok = await validateSettingsInput(settings(() => {}), settings(() => {}), TODAY, ctx);
    expect(ok.problems).toEqual([]);
  });

  it("marks only the later copy of a repeated attachment as refused", async () => {
    const dir = path.join(root, "files/contracts");
    const info = await describeAttachments(settings((s) => (s.general.includesFiles = [dir, dir])), ctx);
    expect(info.map((a) => a.refused)).toEqual([null, expect.stringContaining("listed twice")]);
  });
});
