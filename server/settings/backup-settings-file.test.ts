import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  loadSettings,
  parseSettings,
  MAX_SETTINGS_BYTES,
  saveSettings,
  serializeSettings,
  settingsFileActivity,
  settingsRevision,
  SettingsFileError,
  SettingsValueError,
  writeDefaultSettingsIfMissing,
} from "./backup-settings-file";
import { defaultSettings } from "./defaults";

const FIXTURE = path.resolve(import.meta.dirname, "../../test/fixtures/4d/AdminWindow-backup.4DSettings");
const DEST = "/srv/strongbox/backups";

const fixture = () => readFile(FIXTURE, "utf8");

/** A settings document with our usual indentation, `settings` being the inside of <Settings>. */
const doc = (settings: string, extra = "") =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Preferences4D>\n  <Backup>\n${extra}    <Settings>\n${settings}\n    </Settings>\n  </Backup>\n</Preferences4D>\n`;

function fileError(xml: string): SettingsFileError {
  try {
    parseSettings(xml, DEST);
  } catch (err) {
    expect(err).toBeInstanceOf(SettingsFileError);
    return err as SettingsFileError;
  }
  throw new Error("expected a SettingsFileError");
}

describe("the settings file 4D wrote (AdminWindow)", () => {
  it("loads, in 4D's own forms", async () => {
    const s = parseSettings(await fixture(), DEST);
    expect(s.databaseName).toBe("AdminWindow"); // from the classic Mac data file path
    expect(s.general.includesFiles).toEqual(["./AdminWindow.4DIndx", "./AdminWindow.4DSyncData", "./AdminWindow.4DSyncHeader"]);
    expect(s.general.destinationFolder).toBe("./");
    expect(s.advanced.backupFailure.tryToBackupAfter).toBeCloseTo(0.561, 6); // a time with milliseconds
    expect(s.advanced.backupFailure.retryCountBeforeAbort).toBe(5);
    expect(s.scheduler.frequency).toBe("Never");
    expect(s.scheduler.hourly.every).toBe(12);
    expect(s.scheduler.weekly.days.Sunday).toEqual({ save: true, hour: 0 });
    expect(s.scheduler.weekly.days.Monday.save).toBe(false);
    expect(s.scheduler.monthly).toEqual({ every: 1, day: 1, hour: 0 });
    expect(s.advanced.compressionRate).toBe("Fast");
    // Ours, absent from 4D's file: defaults.
    expect(s.advanced.dataLockMode).toBe("Snapshot");
    expect(s.advanced.useLog).toBe(true);
    expect(s.scheduler.anchor).toBeNull();
  });

  it("round-trips: parse → serialize → parse gives the same settings, and keeps every element we don't use", async () => {
    const original = await fixture();
    const settings = parseSettings(original, DEST);
    const written = serializeSettings(settings, original);
    expect(parseSettings(written, DEST)).toEqual(settings);
    for (const kept of [
      'xmlns="http://www.4d.com/namespace/reserved/2004/backup"',
      "<AutomaticRestart>True</AutomaticRestart>",
      "<Redundancy>None</Redundancy>",
      "<Interlacing>None</Interlacing>",
      "<DefaultSize>0</DefaultSize>",
      "<IncludeAltStructFile>False</IncludeAltStructFile>",
      "<Item1>Macintosh HD:Users:thomas:Desktop:AdminWindow.4dbase:AdminWindow[0001].4BK</Item1>",
      "<LastBackupDate>",
      "<Item1>0000-00-00T09:43:31</Item1>",
      "<Item1>Macintosh HD:Users:thomas:Desktop:AdminWindow.4dbase:AdminWindow.4DD</Item1>",
      "<TryToBackupAfter>0000-00-00T00:00:00.561</TryToBackupAfter>",
      "<DestinationFolder>./</DestinationFolder>",
    ]) {
      expect(written).toContain(kept);
    }
    // Unknown keys stay in place: AutomaticRestart still sits between AutomaticLogIntegration and BackupIfDataChange.
    expect(written.indexOf("<AutomaticLogIntegration>")).toBeLessThan(written.indexOf("<AutomaticRestart>"));
    expect(written.indexOf("<AutomaticRestart>")).toBeLessThan(written.indexOf("<BackupIfDataChange>"));
    // And our own keys are added.
    expect(written).toContain("<DataLockMode>Snapshot</DataLockMode>");
    expect(written).toContain("<UseLog>True</UseLog>");
  });

  it("saved unchanged, is byte for byte the file 4D wrote, apart from the keys Strongbox adds", async () => {
    const original = await fixture();
    const written = serializeSettings(parseSettings(original, DEST), original);
    const ours = /\s*<(DataLockMode|UseLog|Cron|Anchor)>[^<]*<\/\1>/g;
    expect([...written.matchAll(ours)].map((m) => m[1])).toEqual(["DataLockMode", "UseLog", "Cron", "Anchor"]);
    expect(written.replace(ours, "")).toBe(original);
  });

  it("edits only the values that changed, in the file's own layout (line ends, indentation, spellings)", () => {
    const original = [
      '\uFEFF<?xml version="1.0" encoding="UTF-8"?>',
      "<Preferences4D>",
      "\t<Backup>",
      "\t\t<Settings>",
      "\t\t\t<Advanced>",
      "\t\t\t\t<CompressionRate>fast</CompressionRate>",
      "\t\t\t\t<BackupFailure><TryToBackupAfter>0000-00-00T00:00:00.561</TryToBackupAfter></BackupFailure>",
      "\t\t\t\t<DataLockMode>Snapshot</DataLockMode>",
      "\t\t\t\t<UseLog>true</UseLog>",
      "\t\t\t</Advanced>",
      "\t\t\t<General>",
      "\t\t\t\t<IncludesFiles>",
      "\t\t\t\t\t<ItemsCount>1</ItemsCount>",
      "\t\t\t\t\t<Item1>./a.4DIndx</Item1>",
      "\t\t\t\t</IncludesFiles>",
      "\t\t\t</General>",
      "\t\t\t<Scheduler/>",
      "\t\t</Settings>",
      "\t</Backup>",
      "</Preferences4D>",
      "",
    ].join("\r\n");
    const s = parseSettings(original, DEST);
    s.advanced.setNumber.value = 7;
    s.general.includesFiles.push("/srv/b & c");
    s.scheduler.anchor = "2026-01-05";
    const written = serializeSettings(s, original);
    expect(parseSettings(written, DEST)).toEqual(s);
    // What still says the same keeps its spelling ("fast", "true", the milliseconds); the BOM and CRLF stay.
    expect(written.startsWith("\uFEFF<?xml")).toBe(true);
    expect(written).toContain("\r\n\t\t\t\t<CompressionRate>fast</CompressionRate>\r\n");
    expect(written).toContain("<TryToBackupAfter>0000-00-00T00:00:00.561</TryToBackupAfter>");
    expect(written).toContain("\t\t\t\t<UseLog>true</UseLog>\r\n");
    // The list gets its new item on a line of its own, as its first item had it.
    expect(written).toContain("\t\t\t\t\t<ItemsCount>2</ItemsCount>\r\n\t\t\t\t\t<Item1>./a.4DIndx</Item1>\r\n\t\t\t\t\t<Item2>/srv/b &amp; c</Item2>\r\n\t\t\t\t</IncludesFiles>");
    // New keys go after their last sibling, indented like it; a new group is laid out on lines one level deeper.
    const added = written.slice(written.indexOf("<UseLog>"), written.indexOf("\t\t\t</Advanced>")).split("\r\n").slice(1, -1);
    expect(added.length).toBeGreaterThan(5);
    expect(added.every((line) => /^\t{4,5}<\/?[A-Za-z]+>/.test(line))).toBe(true);
    expect(written).toMatch(/\t{4}<SetNumber>\r\n\t{5}<Enable>True<\/Enable>\r\n\t{5}<Value>7<\/Value>\r\n\t{4}<\/SetNumber>/);
    expect(written).toMatch(/\t\t\t<Scheduler>\r\n\t{4}<Frequency>Never<\/Frequency>\r\n[\s\S]*\t{4}<Anchor>2026-01-05<\/Anchor>\r\n\t\t\t<\/Scheduler>\r\n/);
    expect(written.replace(/\r\n/g, "")).not.toMatch(/\n/);
  });

  it("updates our keys in place when settings change", async () => {
    const original = await fixture();
    const s = parseSettings(original, DEST);
    s.scheduler.frequency = "Daily";
    s.scheduler.daily.hour = 2 * 3600 + 30 * 60;
    s.general.includesFiles = [...s.general.includesFiles, "/srv/files/contracts"];
    s.advanced.backupFailure.tryToBackupAfter = 300;
    s.databaseName = "Admin Window";
    const written = serializeSettings(s, original);
    expect(parseSettings(written, DEST)).toEqual(s);
    expect(written).toContain("<Frequency>Daily</Frequency>");
    expect(written).toMatch(/<Daily>\s*<Every>1<\/Every>\s*<Hour>0000-00-00T02:30:00\.000<\/Hour>/);
    expect(written).toMatch(/<ItemsCount>4<\/ItemsCount>[\s\S]*<Item4>\/srv\/files\/contracts<\/Item4>/);
    expect(written).toContain("<TryToBackupAfter>0000-00-00T00:05:00.000</TryToBackupAfter>");
    expect(written).toContain("<DatabaseName>Admin Window</DatabaseName>");
    expect(written).toContain("<AutomaticRestart>True</AutomaticRestart>");
    expect(written).toContain("<LastBackupPath>");
  });
});

describe("parsing", () => {
  it("gives 4D's defaults (and our destination) for every missing key", () => {
    expect(parseSettings("<Preferences4D><Backup/></Preferences4D>", DEST)).toEqual(defaultSettings(DEST));
    const s = defaultSettings(DEST);
    expect(s.general).toEqual({ includeStructureFile: true, includeDataFile: true, destinationFolder: DEST, includesFiles: [] });
    expect(s.advanced.setNumber).toEqual({ enable: true, value: 3 });
    expect(s.advanced.compressionRate).toBe("Fast");
    expect(s.advanced.checkArchiveFileDuringBackup).toBe(true);
    expect(s.advanced.backupJournalVerboseMode).toBe(true);
    expect(s.scheduler.frequency).toBe("Never");
  });

  it("reads times as 4D writes them, with or without milliseconds", () => {
    const s = parseSettings(
      doc(`      <Scheduler>
        <Daily><Hour>0000-00-00T02:30:00.000</Hour></Daily>
        <Hourly><StartingAt>0000-00-00T09:43:31</StartingAt></Hourly>
        <Monthly><Hour>23:59</Hour></Monthly>
      </Scheduler>
      <Advanced><BackupFailure><TryToBackupAfter>0000-00-00T00:30:00.000</TryToBackupAfter></BackupFailure></Advanced>`),
      DEST,
    );
    expect(s.scheduler.daily.hour).toBe(9000);
    expect(s.scheduler.hourly.startingAt).toBe(9 * 3600 + 43 * 60 + 31);
    expect(s.scheduler.monthly.hour).toBe(23 * 3600 + 59 * 60);
    expect(s.advanced.backupFailure.tryToBackupAfter).toBe(1800);
  });

  it.each([
    ["plain text", "<DatabaseName>Invoices 2024</DatabaseName>", "Invoices 2024"],
    ["a classic Mac path", "<DatabaseName><ItemsCount>1</ItemsCount><Item1>Macintosh HD:Users:me:Base.4dbase:Base.4DD</Item1></DatabaseName>", "Base"],
    ["a Windows path", "<DatabaseName><ItemsCount>1</ItemsCount><Item1>C:\\Bases\\Sales.v2.4DD</Item1></DatabaseName>", "Sales.v2"],
    ["a POSIX path", "<DatabaseName><ItemsCount>1</ItemsCount><Item1>/srv/db/Data/data.sqlite</Item1></DatabaseName>", "data"],
    ["an empty element", "<DatabaseName/>", null],
  ])("reads DataBase/DatabaseName as %s", (_, xml, name) => {
    expect(parseSettings(doc("", `    <DataBase>${xml}</DataBase>\n`), DEST).databaseName).toBe(name);
  });

  it("accepts VerboseMode for BackupJournalVerboseMode, and writes back to the key the file uses", () => {
    const original = doc("      <Advanced><VerboseMode>False</VerboseMode></Advanced>");
    const s = parseSettings(original, DEST);
    expect(s.advanced.backupJournalVerboseMode).toBe(false);
    s.advanced.backupJournalVerboseMode = true;
    const written = serializeSettings(s, original);
    expect(written).toContain("<VerboseMode>True</VerboseMode>");
    expect(written).not.toContain("BackupJournalVerboseMode");
  });
});

describe("malformed files", () => {
  const base = (advanced: string, scheduler = "") =>
    doc(`      <Advanced>
${advanced}
      </Advanced>
      <Scheduler>
        <Frequency>Hourly</Frequency>
        <Hourly>
          <Every>${scheduler || "6"}</Every>
        </Hourly>
      </Scheduler>`);

  it.each([
    // [what, xml, line, words of the reason]
    ["a value of the wrong type", base("", "abc"), 11, ["Scheduler/Hourly/Every", "whole number from 1 to 24", '"abc"']],
    ["a value out of range", base("", "25"), 11, ["Scheduler/Hourly/Every", "found 25"]],
    ["a CompressionRate not in the list", base("        <CompressionRate>Ultra</CompressionRate>"), 6, ["Advanced/CompressionRate", "None, Fast, Compact", '"Ultra"']],
    ["a boolean that isn't one", base("        <UseLog>yes</UseLog>"), 6, ["Advanced/UseLog", "True or False"]],
    ["a time that isn't one", base("        <BackupFailure><TryToBackupAfter>soon</TryToBackupAfter></BackupFailure>"), 6, ["TryToBackupAfter", "0000-00-00THH:MM:SS.000"]],
    ["an impossible time of day", doc("      <Scheduler><Daily><Hour>0000-00-00T24:00:00.000</Hour></Daily></Scheduler>"), 5, ["Scheduler/Daily/Hour", "below"]],
    ["a list whose count lies", doc("      <General>\n        <IncludesFiles><ItemsCount>2</ItemsCount><Item1>/a</Item1></IncludesFiles>\n      </General>"), 6, ["ItemsCount is 2", "Item2 is missing"]],
    ["a Cron schedule without an expression", doc("      <Scheduler>\n        <Frequency>Cron</Frequency>\n      </Scheduler>"), 6, ["Cron"]],
    ["XML that is not well-formed", "<Preferences4D>\n<Backup>\n<Settings>\n</Backup>\n</Preferences4D>", 4, ["not well-formed", "Settings"]],
    ["the wrong root", '<?xml version="1.0"?>\n\n<plist><dict/></plist>', 3, ["<plist>", "Preferences4D"]],
    ["a root without <Backup>", "<Preferences4D>\n  <Other/>\n</Preferences4D>", 1, ["no <Backup>"]],
  ])("%s → line and reason", (_, xml, line, words) => {
    const err = fileError(xml);
    expect(err.line).toBe(line);
    for (const w of words) expect(err.reason).toContain(w);
    expect(err.message).toBe(`Settings/Backup.4DSettings line ${line}: ${err.reason}`);
  });

  it("counts lines the same with CRLF line ends", () => {
    expect(fileError(base("", "abc").replace(/\n/g, "\r\n")).line).toBe(11);
  });

  it("reports a file that is not XML at all", () => {
    expect(fileError("").reason).toContain("not well-formed");
    expect(fileError("Hourly=6").line).toBe(1);
  });

  it.each([
    // Well-formed XML the parser itself refuses: each a file error with its line (not a crash, not a 500).
    ["an element named __proto__", doc("      <General>\n        <__proto__>1</__proto__>\n      </General>"), 6, ["__proto__"]],
    ["an element named constructor", doc("      <constructor/>"), 5, ["constructor"]],
    ["two DOCTYPEs", '<?xml version="1.0"?>\n<!DOCTYPE a>\n<!DOCTYPE b>\n<Preferences4D><Backup/></Preferences4D>', 3, ["DOCTYPE"]],
    ["an external entity", '<?xml version="1.0"?>\n<!DOCTYPE p [\n<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<Preferences4D><Backup/></Preferences4D>', 3, ["External entities"]],
    ["too many entities", `<?xml version="1.0"?>\n<!DOCTYPE p [${Array.from({ length: 1200 }, (_, i) => `<!ENTITY e${i} "x">`).join("")}]>\n<Preferences4D><Backup/></Preferences4D>`, 2, ["Entity count"]],
    ["elements nested too deep", doc("<a>".repeat(5000) + "</a>".repeat(5000)), undefined, ["nested"]],
  ])("%s → a file error, never a crash", (_, xml, line, words) => {
    const err = fileError(xml);
    expect(err.line).toBe(line);
    for (const w of words) expect(err.reason).toContain(w);
    // Saving over such a file is refused the same way.
    expect(() => serializeSettings(defaultSettings(DEST), xml)).toThrow(SettingsFileError);
  });

  it("turns any mutation of 4D's own file into settings or a file error, and nothing else (a little fuzzing)", async () => {
    const original = await fixture();
    const pieces = ["<", ">", "</", "&", "&#0;", "&#xFFFFFFFF;", "<!DOCTYPE x>", "<!ENTITY a \"b\">", "&a;", "<![CDATA[x]]>", "<Item1>x</Item1>",
      "<a/>", "99999999999999999999999", "-1", "1e400", "\u0000", "<?pi x?>", "<!-- c -->", "\"", "]]>", "<Settings>", "</Settings>", "<General/>",
      "<ItemsCount>5</ItemsCount>", "<ItemsCount>99999999999</ItemsCount>", "<__proto__>1</__proto__>", "<constructor/>", " a=\"1\"", "#text"];
    let seed = 20261126;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    const others: string[] = [];
    for (let i = 0; i < 1500; i++) {
      let xml = original;
      for (let k = 1 + rnd(3); k > 0; k--) {
        const at = rnd(xml.length);
        const op = rnd(3);
        if (op === 0) xml = xml.slice(0, at) + pieces[rnd(pieces.length)] + xml.slice(at);
        else if (op === 1) xml = xml.slice(0, at) + xml.slice(at + 1 + rnd(20));
        else { const from = rnd(xml.length); xml = xml.slice(0, at) + xml.slice(from, from + rnd(200)) + xml.slice(at); }
      }
      for (const read of [() => parseSettings(xml, DEST), () => serializeSettings(defaultSettings(DEST), xml)]) {
        try {
          read();
        } catch (err) {
          if (!(err instanceof SettingsFileError) && (err as Error).name !== "SettingsValueError") others.push(`${(err as Error).name}: ${(err as Error).message}`);
        }
      }
    }
    expect(others).toEqual([]);
  });
});

describe("writing", () => {
  it("writes a fresh 4D-style document when there is no original", () => {
    const xml = serializeSettings(defaultSettings(DEST));
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8" standalone="no"?>')).toBe(true);
    expect(xml).toContain('<Preferences4D xmlns="http://www.4d.com/namespace/reserved/2004/backup">');
    expect(xml).toContain(`<DestinationFolder>${DEST}</DestinationFolder>`);
    expect(xml).toContain("<TryToBackupAfter>0000-00-00T00:30:00.000</TryToBackupAfter>");
    expect(parseSettings(xml, "/elsewhere")).toEqual(defaultSettings(DEST));
  });

  it("keeps unknown keys, comments and attributes where they were", () => {
    const original = doc(
      `      <!-- edited by hand -->
      <Advanced>
        <FutureKey level="2">x &amp; y</FutureKey>
        <CompressionRate>Compact</CompressionRate>
        <Nested><Deep>1</Deep></Nested>
      </Advanced>`,
      "    <Vendor>Acme</Vendor>\n",
    );
    const s = parseSettings(original, DEST);
    s.advanced.compressionRate = "None";
    s.scheduler.anchor = "2026-01-05";
    const written = serializeSettings(s, original);
    expect(written).toContain("<!-- edited by hand -->");
    expect(written).toContain('<FutureKey level="2">x &amp; y</FutureKey>');
    expect(written).toMatch(/<Nested>\s*<Deep>1<\/Deep>\s*<\/Nested>/);
    expect(written).toContain("<Vendor>Acme</Vendor>");
    expect(written.indexOf("<FutureKey")).toBeLessThan(written.indexOf("<CompressionRate>None</CompressionRate>"));
    expect(written).toContain("<Anchor>2026-01-05</Anchor>");
    expect(parseSettings(written, DEST)).toEqual(s);
  });

  it("rewrites a bad value the user has corrected", () => {
    const original = doc("      <Scheduler><Hourly><Every>abc</Every></Hourly></Scheduler>");
    const s = defaultSettings(DEST);
    s.scheduler.hourly.every = 4;
    expect(parseSettings(serializeSettings(s, original), DEST).scheduler.hourly.every).toBe(4);
  });

  it("refuses settings it could not read back, naming the key", () => {
    const s = defaultSettings(DEST);
    s.scheduler.hourly.every = 0;
    s.scheduler.daily.hour = 86_400;
    s.scheduler.frequency = "Cron";
    let err: unknown;
    try {
      serializeSettings(s);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SettingsValueError);
    expect((err as SettingsValueError).problems.map((p) => p.key)).toEqual(["Scheduler/Hourly/Every", "Scheduler/Daily/Hour", "Scheduler/Cron"]);
  });
});

describe("on disk", () => {
  let dir: string;
  let settingsFile: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "strongbox-settings-"));
    settingsFile = path.join(dir, "Settings", "Backup.4DSettings");
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("writes the defaults only when the file is missing, atomically", async () => {
    expect(await writeDefaultSettingsIfMissing(dir, DEST)).toEqual({ written: true });
    expect(await loadSettings(dir, "/other")).toEqual(defaultSettings(DEST));
    const first = await readFile(settingsFile, "utf8");
    expect(await writeDefaultSettingsIfMissing(dir, "/somewhere/else")).toEqual({ written: false });
    expect(await readFile(settingsFile, "utf8")).toBe(first);
    expect(await readdir(path.join(dir, "Settings"))).toEqual(["Backup.4DSettings"]); // no temp file left
  });

  it("loads the defaults when there is no file, without writing one", async () => {
    expect(await loadSettings(dir, DEST)).toEqual(defaultSettings(DEST));
    await expect(readdir(dir)).resolves.toEqual([]);
  });

  it("reports a malformed file with its line and leaves it unchanged", async () => {
    const bad = doc("      <Scheduler>\n        <Hourly><Every>abc</Every></Hourly>\n      </Scheduler>");
    await mkdir(path.dirname(settingsFile), { recursive: true });
    await writeFile(settingsFile, bad);
    await expect(loadSettings(dir, DEST)).rejects.toMatchObject({ name: "SettingsFileError", line: 6 });
    expect(await writeDefaultSettingsIfMissing(dir, DEST)).toEqual({ written: false });
    expect(await readFile(settingsFile, "utf8")).toBe(bad);
  });

  it("won't save over a file that is not well-formed", async () => {
    const broken = "<Preferences4D><Backup><Settings></Backup>";
    await mkdir(path.dirname(settingsFile), { recursive: true });
    await writeFile(settingsFile, broken);
    await expect(saveSettings(dir, defaultSettings(DEST))).rejects.toBeInstanceOf(SettingsFileError);
    expect(await readFile(settingsFile, "utf8")).toBe(broken);
  });

  it("refuses a symbolic link in place of the file, naming it, without reading or changing the link's target", async () => {
    const target = path.join(dir, "elsewhere.4DSettings");
    const secret = doc("      <General>\n        <DestinationFolder>/secret/place</DestinationFolder>\n      </General>");
    await writeFile(target, secret);
    const before = await stat(target);
    await mkdir(path.dirname(settingsFile), { recursive: true });
    await symlink(target, settingsFile);
    const err = await loadSettings(dir, DEST).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SettingsFileError);
    expect((err as SettingsFileError).message).toMatch(/Backup\.4DSettings: is a symbolic link: the server does not follow links for this file/);
    expect((err as SettingsFileError).message).not.toContain("/secret/place");
    await expect(saveSettings(dir, defaultSettings(DEST))).rejects.toBeInstanceOf(SettingsFileError);
    expect(await settingsRevision(dir)).toBe("unreadable");
    expect(await readFile(target, "utf8")).toBe(secret);
    expect((await stat(target)).mtimeMs).toBe(before.mtimeMs);
  });

  it("refuses a link to /dev/zero, a FIFO and an oversized file at once, each with a clear file error", async () => {
    await mkdir(path.dirname(settingsFile), { recursive: true });
    await symlink("/dev/zero", settingsFile);
    await expect(loadSettings(dir, DEST)).rejects.toThrow(/is a symbolic link/);
    await rm(settingsFile);
    execFileSync("mkfifo", [settingsFile]); // nobody writes to it: a blocking open would never return
    await expect(loadSettings(dir, DEST)).rejects.toThrow(/Backup\.4DSettings: is a FIFO \(named pipe\), not a regular file/);
    await rm(settingsFile);
    await writeFile(settingsFile, doc(`<!-- ${"x".repeat(MAX_SETTINGS_BYTES)} -->`));
    await expect(loadSettings(dir, DEST)).rejects.toThrow(/Backup\.4DSettings: is larger than 1 MiB \(a 4D settings file is a few KB\)/);
  });

  it("reads and parses the file once per change, not once per request", async () => {
    await mkdir(path.dirname(settingsFile), { recursive: true });
    await writeFile(settingsFile, await fixture());
    const before = { ...settingsFileActivity };
    const first = await loadSettings(dir, DEST);
    for (let i = 0; i < 20; i++) expect(await loadSettings(dir, DEST)).toEqual(first);
    await settingsRevision(dir);
    expect(settingsFileActivity).toEqual({ reads: before.reads + 1, parses: before.parses + 1 });
    // A caller changing what it got changes nothing for the next one.
    first.advanced.setNumber.value = 99;
    expect((await loadSettings(dir, DEST)).advanced.setNumber.value).not.toBe(99);
    // A save is a change: read and parsed again, once.
    await saveSettings(dir, first);
    expect((await loadSettings(dir, DEST)).advanced.setNumber.value).toBe(99);
    expect(await loadSettings(dir, DEST)).toEqual(first);
    expect(settingsFileActivity).toEqual({ reads: before.reads + 2, parses: before.parses + 2 });
  });

  it("saves into the existing file, keeping 4D's keys", async () => {
    await mkdir(path.dirname(settingsFile), { recursive: true });
    await writeFile(settingsFile, await fixture());
    const s = await loadSettings(dir, DEST);
    s.advanced.setNumber.value = 7;
    await saveSettings(dir, s);
    const written = await readFile(settingsFile, "utf8");
    expect(written).toContain("<Value>7</Value>");
    expect(written).toContain("<AutomaticRestart>True</AutomaticRestart>");
    expect(await loadSettings(dir, DEST)).toEqual(s);
  });
});
