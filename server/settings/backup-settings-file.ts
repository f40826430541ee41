// Settings/Backup.4DSettings (spec §6): read into BackupSettings, and written back by editing the original
// document in place, so keys we don't use (4D's AutomaticRestart, Redundancy, DataBase/LastBackup…, or anything
// newer) survive. A malformed file is an error with its line and reason, never a silent fall-back to defaults.
import { createHash, randomBytes } from "node:crypto";
import { link, open, unlink } from "node:fs/promises";
import path from "node:path";
import { databaseLayout } from "../database/layout";
import { DomainError } from "../errors";
import { fsyncDir, writeFileAtomic } from "../fs/atomic-write";
import { formatLimit, isUnsafeFileError, makePrivateDir, openNoFollow, PRIVATE_FILE_MODE, readOpened } from "../fs/safe-open";
import { int, ValueError } from "./codecs";
import { defaultSettings } from "./defaults";
import { FIELDS, nameFromDataFilePath, type ListField, type ScalarField } from "./fields";
import type { BackupSettings } from "./model";
import {
  buildXml,
  child,
  childrenOf,
  elements,
  ensure,
  find,
  lineAt,
  newElement,
  offsetOf,
  parseXml,
  setText,
  tagOf,
  textOf,
  XmlSyntaxError,
  type XmlChildren,
  type XmlEntry,
} from "./xml-tree";

export const SETTINGS_FILE_LABEL = "Settings/Backup.4DSettings";
const NAMESPACE = "http://www.4d.com/namespace/reserved/2004/backup";

/** The settings file can't be used as it is: `line` (1-based, when known) and `reason` say why. */
export class SettingsFileError extends DomainError {
  readonly line: number | undefined;
  readonly reason: string;
  constructor(reason: string, line?: number, options?: { cause?: unknown }) {
    // PRECONDITION_FAILED: the request was fine, the file must be fixed by hand first.
    super(null, `${SETTINGS_FILE_LABEL}${line ? ` line ${line}` : ""}: ${reason}`, { code: "PRECONDITION_FAILED", cause: options?.cause });
    this.name = "SettingsFileError";
    this.line = line;
    this.reason = reason;
  }
}

export interface SettingsProblem {
  /** The key as 4D names it, e.g. "Scheduler/Hourly/Every". */
  key: string;
  reason: string;
}

/** Settings that can't be written (a value out of range, a Cron schedule without an expression…). */
export class SettingsValueError extends DomainError {
  constructor(readonly problems: SettingsProblem[]) {
    super(null, `Invalid backup settings: ${problems.map((p) => `${p.key}: ${p.reason}`).join("; ")}`, { code: "BAD_REQUEST" });
    this.name = "SettingsValueError";
  }
}

// ---------------------------------------------------------------------------------------------- the document

interface Doc {
  doc: XmlChildren;
  /** Children of <Preferences4D><Backup>. */
  backup: XmlChildren;
  source: string;
}

function openDocument(xml: string): Doc {
  const source = xml.replace(/^\uFEFF/, "");
  let doc: XmlChildren;
  try {
    doc = parseXml(source);
  } catch (err) {
    if (err instanceof XmlSyntaxError) throw new SettingsFileError(err.reason, err.line, { cause: err });
    throw err;
  }
  const root = elements(doc)[0];
  if (!root) throw new SettingsFileError("the file holds no XML element", 1);
  if (tagOf(root) !== "Preferences4D") {
    throw new SettingsFileError(
      `the root element is <${tagOf(root)}>, expected <Preferences4D> (this is not a 4D backup settings file)`,
      lineOf(source, root),
    );
  }
  const backup = child(childrenOf(root), "Backup");
  if (!backup) {
    throw new SettingsFileError("<Preferences4D> has no <Backup> element (this is not a 4D backup settings file)", lineOf(source, root));
  }
  return { doc, backup: childrenOf(backup), source };
}

function freshDocument(): Doc {
  const doc: XmlChildren = [
    { "?xml": [{ "#text": "" }], ":@": { "@_version": "1.0", "@_encoding": "UTF-8", "@_standalone": "no" } },
    { Preferences4D: [{ Backup: [] }], ":@": { "@_xmlns": NAMESPACE } },
  ];
  return { doc, backup: childrenOf(elements(childrenOf(doc[1]))[0]), source: "" };
}

function lineOf(source: string, entry: XmlEntry): number | undefined {
  const offset = offsetOf(entry);
  return offset === undefined || source === "" ? undefined : lineAt(source, offset);
}

const settingsPath = (key: string) => ["Settings", ...key.split("/")];

/** The element holding a scalar field, under its own name or an alias; with the key it was found under. */
function locate(backup: XmlChildren, field: ScalarField): { key: string; entry: XmlEntry } | undefined {
  for (const key of [field.key, ...(field.aliases ?? [])]) {
    const entry = find(backup, settingsPath(key));
    if (entry) return { key, entry };
  }
  return undefined;
}

// --------------------------------------------------------------------------------------------------- reading

type Fail = (reason: string, entry: XmlEntry) => never;

function failer(source: string): Fail {
  return (reason, entry) => {
    throw new SettingsFileError(reason, lineOf(source, entry));
  };
}

function readScalar(field: ScalarField, found: { key: string; entry: XmlEntry }, fail: Fail): { value: unknown } | undefined {
  const text = textOf(found.entry);
  if (text === null) return fail(`${found.key}: expected ${field.codec.expected}, found a list of elements`, found.entry);
  if (text === "" && field.emptyIsDefault) return undefined;
  try {
    return { value: field.codec.decode(text) };
  } catch (err) {
    if (err instanceof ValueError) return fail(`${found.key}: ${err.message}`, found.entry);
    throw err;
  }
}

const itemsCount = int(0, 100_000);

/** A 4D list: ItemsCount says how many of Item1…ItemN count; without it, every ItemN in number order. */
function readList(entry: XmlEntry, key: string, fail: Fail): string[] {
  if (textOf(entry) === "") return [];
  if (textOf(entry) !== null) return fail(`${key}: expected a list (ItemsCount, Item1…ItemN), found text`, entry);
  const items = new Map<number, XmlEntry>();
  let countEntry: XmlEntry | undefined;
  for (const e of elements(childrenOf(entry))) {
    const tag = tagOf(e)!;
    const m = /^Item(\d+)$/.exec(tag);
    if (m) items.set(Number(m[1]), e);
    else if (tag === "ItemsCount") countEntry = e;
  }
  let numbers = [...items.keys()].sort((a, b) => a - b);
  if (countEntry) {
    let count: number;
    try {
      count = itemsCount.decode(textOf(countEntry) ?? "");
    } catch (err) {
      if (err instanceof ValueError) return fail(`${key}/ItemsCount: ${err.message}`, countEntry);
      throw err;
    }
    numbers = Array.from({ length: count }, (_, i) => i + 1);
    const missing = numbers.find((n) => !items.has(n));
    if (missing !== undefined) return fail(`${key}: ItemsCount is ${count} but Item${missing} is missing`, countEntry);
  }
  return numbers.map((n) => {
    const item = items.get(n)!;
    const text = textOf(item);
    if (!text) return fail(`${key}/Item${n}: expected a path, found ${text === "" ? "an empty value" : "a list of elements"}`, item);
    return text;
  });
}

/** DataBase/DatabaseName: plain text, or (as 4D writes it) a list holding the data file's path. */
function readDatabaseName(backup: XmlChildren, fail: Fail): string | null {
  const entry = find(backup, ["DataBase", "DatabaseName"]);
  if (!entry) return null;
  const text = textOf(entry);
  if (text !== null) return text === "" ? null : text;
  const [first] = readList(entry, "DataBase/DatabaseName", fail);
  const name = first === undefined ? "" : nameFromDataFilePath(first);
  return name === "" ? null : name;
}

/** Reads a settings document; keys it doesn't hold take their defaults. Throws SettingsFileError, and only that. */
export function parseSettings(xml: string, defaultDestination: string): BackupSettings {
  try {
    return readSettings(xml, defaultDestination);
  } catch (err) {
    // Whatever a file's content can make fail is a problem of the file, said as such (never a 500).
    if (err instanceof SettingsFileError) throw err;
    throw new SettingsFileError(`can't be read as backup settings (${(err as Error)?.message ?? String(err)})`, undefined, { cause: err });
  }
}

function readSettings(xml: string, defaultDestination: string): BackupSettings {
  const { backup, source } = openDocument(xml);
  const fail = failer(source);
  const settings = defaultSettings(defaultDestination);
  settings.databaseName = readDatabaseName(backup, fail);
  for (const field of FIELDS) {
    if (field.kind === "list") {
      const entry = find(backup, settingsPath(field.key));
      if (entry) field.set(settings, readList(entry, field.key, fail));
      continue;
    }
    const found = locate(backup, field);
    const read = found && readScalar(field, found, fail);
    if (read) field.set(settings, read.value);
  }
  // A schedule we can't run is an error, not a guess (spec §6).
  if (settings.scheduler.frequency === "Cron" && settings.scheduler.cron === "") {
    fail("Scheduler/Frequency is Cron but Scheduler/Cron holds no expression", find(backup, settingsPath("Scheduler/Frequency"))!);
  }
  return settings;
}

// --------------------------------------------------------------------------------------------------- writing

/** What would stop these settings from being written, in plain English; empty when they are fine. */
export function checkSettings(settings: BackupSettings): SettingsProblem[] {
  const problems: SettingsProblem[] = [];
  for (const field of FIELDS) {
    if (field.kind === "list") {
      field.get(settings).forEach((item, i) => {
        if (typeof item !== "string" || item.trim() === "") problems.push({ key: `${field.key}/Item${i + 1}`, reason: "a path is required" });
      });
      continue;
    }
    try {
      // A value is writable when the text we would write reads back.
      field.codec.decode(field.codec.encode(field.get(settings)));
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      problems.push({ key: field.key, reason: err.message });
    }
  }
  if (settings.general.destinationFolder.trim() === "") {
    problems.push({ key: "General/DestinationFolder", reason: "a destination folder is required" });
  }
  if (settings.scheduler.frequency === "Cron" && settings.scheduler.cron.trim() === "") {
    problems.push({ key: "Scheduler/Cron", reason: "a cron expression is required when the frequency is Cron" });
  }
  return problems;
}

/** True when the text already in the file says the same as `value` (then the file's own spelling is kept). */
function sameScalar(field: ScalarField, text: string | null, value: unknown): boolean {
  if (text === null) return false;
  try {
    return field.codec.encode(field.codec.decode(text)) === field.codec.encode(value);
  } catch {
    return false;
  }
}

function writeScalar(backup: XmlChildren, field: ScalarField, settings: BackupSettings): void {
  const value = field.get(settings);
  const found = locate(backup, field);
  if (found && sameScalar(field, textOf(found.entry), value)) return;
  setText(found?.entry ?? ensure(backup, settingsPath(field.key)), field.codec.encode(value));
}

const ignore: Fail = (reason) => {
  throw new Error(reason);
};

function replaceList(entry: XmlEntry, items: string[]): void {
  const tag = tagOf(entry)!;
  const isListPart = (e: XmlEntry) => "#text" in e || tagOf(e) === "ItemsCount" || /^Item\d+$/.test(tagOf(e) ?? "");
  entry[tag] = [
    ...childrenOf(entry).filter((e) => !isListPart(e)),
    newElement("ItemsCount", [{ "#text": String(items.length) }]),
    ...items.map((item, i) => newElement(`Item${i + 1}`, [{ "#text": item }])),
  ];
}

function writeList(backup: XmlChildren, field: ListField, settings: BackupSettings): void {
  const items = field.get(settings);
  const entry = find(backup, settingsPath(field.key));
  if (entry) {
    let current: string[] | undefined;
    try {
      current = readList(entry, field.key, ignore);
    } catch {
      current = undefined;
    }
    if (current && current.length === items.length && current.every((c, i) => c === items[i])) return;
  }
  replaceList(entry ?? ensure(backup, settingsPath(field.key)), items);
}

function writeDatabaseName(backup: XmlChildren, name: string | null): void {
  const entry = find(backup, ["DataBase", "DatabaseName"]);
  if (entry) {
    let current: string | null | undefined;
    try {
      current = readDatabaseName(backup, ignore);
    } catch {
      current = undefined;
    }
    if (current === name) return; // keeps 4D's list form when it still says the same
    if (name === null) {
      const parent = childrenOf(find(backup, ["DataBase"])!);
      parent.splice(parent.indexOf(entry), 1);
      return;
    }
  }
  if (name === null) return;
  setText(entry ?? ensure(backup, ["DataBase", "DatabaseName"]), name);
}

/**
 * The settings as a Backup.4DSettings document. With `originalXml`, that document is edited in place: values that
 * still say the same keep their spelling, every other element (and the root's namespace) stays where it was.
 * Throws SettingsValueError for settings that can't be written, SettingsFileError when the original is unreadable.
 */
export function serializeSettings(settings: BackupSettings, originalXml?: string): string {
  const problems = checkSettings(settings);
  if (problems.length > 0) throw new SettingsValueError(problems);
  const { doc, backup } = originalXml === undefined ? freshDocument() : openDocument(originalXml);
  writeDatabaseName(backup, settings.databaseName);
  for (const field of FIELDS) {
    if (field.kind === "list") writeList(backup, field, settings);
    else writeScalar(backup, field, settings);
  }
  return `${buildXml(doc).trim()}\n`;
}

// ------------------------------------------------------------------------------------------------------ disk

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/** A real 4D settings file is about 4 KB; anything past this is not one, and is refused rather than read. */
export const MAX_SETTINGS_BYTES = 1 << 20;

/** One version of a settings file, identified by its inode and times, with what it parsed to (per default destination). */
interface FileVersion {
  key: string;
  xml: string;
  revision: string;
  parsed: Map<string, { settings: BackupSettings } | { error: SettingsFileError }>;
}

/**
 * The last version read of each settings file. Every viewer request reads the settings: the file is fstat'ed each
 * time, but read and parsed again only when it changed (a save renames a new file into place: a new inode).
 */
const versions = new Map<string, FileVersion>();

/** How often a settings file was really read and parsed (the tests check that a request doesn't do either). */
export const settingsFileActivity = { reads: 0, parses: 0 };

/**
 * The settings file as it is now, or undefined when there is none. Only a regular file is read (a link, a FIFO or
 * a device is refused without blocking), up to MAX_SETTINGS_BYTES; every refusal is a SettingsFileError.
 */
async function currentVersion(file: string): Promise<FileVersion | undefined> {
  let fh;
  try {
    fh = await openNoFollow(file, "read");
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    if (isUnsafeFileError(err)) throw new SettingsFileError(err.reason, undefined, { cause: err });
    throw new SettingsFileError(`cannot be read (${errnoCode(err) ?? (err as Error).message})`, undefined, { cause: err });
  }
  try {
    const st = await fh.stat();
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    const known = versions.get(file);
    if (known?.key === key) return known;
    let data: Buffer;
    try {
      data = await readOpened(fh, file, MAX_SETTINGS_BYTES, st.size);
    } catch (err) {
      if (isUnsafeFileError(err)) {
        throw new SettingsFileError(`is larger than ${formatLimit(MAX_SETTINGS_BYTES)} (a 4D settings file is a few KB): it is not a backup settings file. Replace it by the right file, or remove it.`, undefined, { cause: err });
      }
      throw new SettingsFileError(`cannot be read (${errnoCode(err) ?? (err as Error).message})`, undefined, { cause: err });
    }
    settingsFileActivity.reads++;
    const version: FileVersion = { key, xml: data.toString("utf8"), revision: createHash("sha256").update(data).digest("hex").slice(0, 16), parsed: new Map() };
    versions.set(file, version);
    return version;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** The database's settings; the defaults when the file doesn't exist. Throws SettingsFileError when malformed. */
export async function loadSettings(databaseDir: string, defaultDestination: string): Promise<BackupSettings> {
  const version = await currentVersion(databaseLayout(databaseDir).settingsFile);
  if (!version) return defaultSettings(defaultDestination);
  let result = version.parsed.get(defaultDestination);
  if (!result) {
    settingsFileActivity.parses++;
    try {
      result = { settings: parseSettings(version.xml, defaultDestination) };
    } catch (err) {
      if (!(err instanceof SettingsFileError)) throw err;
      result = { error: err };
    }
    version.parsed.set(defaultDestination, result);
  }
  if ("error" in result) throw result.error;
  // A copy: callers may change what they get, the cached version stays as the file says.
  return structuredClone(result.settings);
}

/**
 * A fingerprint of the settings file as it is now ("none" when there is none, "unreadable" when it can't be read),
 * so a save can't silently overwrite a change made meanwhile.
 */
export async function settingsRevision(databaseDir: string): Promise<string> {
  return currentVersion(databaseLayout(databaseDir).settingsFile).then((v) => v?.revision ?? "none", () => "unreadable");
}

/**
 * Writes `settings` into the database's settings file atomically, keeping what the existing file holds beyond
 * our keys. An existing file that isn't well-formed is not replaced (SettingsFileError): fix or remove it first.
 */
export async function saveSettings(databaseDir: string, settings: BackupSettings): Promise<void> {
  const { settingsDir, settingsFile } = databaseLayout(databaseDir);
  const xml = serializeSettings(settings, (await currentVersion(settingsFile))?.xml);
  await makePrivateDir(settingsDir);
  await writeFileAtomic(settingsFile, xml);
}

/** Creates `file` with `data` only if it doesn't exist, never exposing a partial file: link(2) fails on EEXIST. */
async function createIfAbsent(file: string, data: string): Promise<boolean> {
  const dir = path.dirname(file);
  await makePrivateDir(dir);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const fh = await open(tmp, "wx", PRIVATE_FILE_MODE);
  try {
    await fh.writeFile(data, "utf8");
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, file);
  } catch (err) {
    if (errnoCode(err) === "EEXIST") return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
  await fsyncDir(dir);
  return true;
}

/** Writes the default settings file when the database has none (spec §1); an existing file is never touched. */
export async function writeDefaultSettingsIfMissing(
  databaseDir: string,
  defaultDestination: string,
): Promise<{ written: boolean }> {
  const xml = serializeSettings(defaultSettings(defaultDestination));
  return { written: await createIfAbsent(databaseLayout(databaseDir).settingsFile, xml) };
}

/** Writes a whole settings file when the database has none (the demo's own settings). */
export async function writeSettingsIfMissing(databaseDir: string, settings: BackupSettings): Promise<{ written: boolean }> {
  return { written: await createIfAbsent(databaseLayout(databaseDir).settingsFile, serializeSettings(settings)) };
}
