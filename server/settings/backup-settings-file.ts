// Settings/Backup.4DSettings (docs/settings.md): read into BackupSettings, and written back by editing the original
// document's text in place (only what changed), so keys we don't use (4D's AutomaticRestart, Redundancy, DataBase/LastBackup…, or anything
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
  buildCompact,
  buildXml,
  child,
  childrenOf,
  elementRange,
  elements,
  ensure,
  escapeText,
  find,
  lineAt,
  newElement,
  offsetOf,
  parseXml,
  setText,
  tagOf,
  textOf,
  XmlSyntaxError,
  type ElementRange,
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
  /** The file's text (without a byte order mark), which the parser's offsets point into. */
  source: string;
  /** The file began with a UTF-8 byte order mark, which a rewrite keeps. */
  bom: boolean;
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
  return { doc, backup: childrenOf(backup), source, bom: source.length !== xml.length };
}

function freshDocument(): Doc {
  const doc: XmlChildren = [
    { "?xml": [{ "#text": "" }], ":@": { "@_version": "1.0", "@_encoding": "UTF-8", "@_standalone": "no" } },
    { Preferences4D: [{ Backup: [] }], ":@": { "@_xmlns": NAMESPACE } },
  ];
  return { doc, backup: childrenOf(elements(childrenOf(doc[1]))[0]), source: "", bom: false };
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
  // A schedule we can't run is an error, not a guess (docs/settings.md).
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

/**
 * What writing changed in a document read from a file, so that only those places of its text are edited (see
 * renderEdited). Elements created meanwhile need no record: they are the ones the parser gave no offset.
 */
interface Changes {
  /** Elements of the file whose content was replaced: a value, or a list's items. */
  content: Set<XmlEntry>;
  /** Elements of the file that were taken out. */
  removed: XmlEntry[];
}

function writeScalar(backup: XmlChildren, field: ScalarField, settings: BackupSettings, changes: Changes): void {
  const value = field.get(settings);
  const found = locate(backup, field);
  if (found && sameScalar(field, textOf(found.entry), value)) return;
  const entry = found?.entry ?? ensure(backup, settingsPath(field.key));
  setText(entry, field.codec.encode(value));
  changes.content.add(entry);
}

const ignore: Fail = (reason) => {
  throw new Error(reason);
};

function replaceList(entry: XmlEntry, items: string[], changes: Changes): void {
  const tag = tagOf(entry)!;
  const isListPart = (e: XmlEntry) => "#text" in e || tagOf(e) === "ItemsCount" || /^Item\d+$/.test(tagOf(e) ?? "");
  entry[tag] = [
    ...childrenOf(entry).filter((e) => !isListPart(e)),
    newElement("ItemsCount", [{ "#text": String(items.length) }]),
    ...items.map((item, i) => newElement(`Item${i + 1}`, [{ "#text": item }])),
  ];
  changes.content.add(entry);
}

function writeList(backup: XmlChildren, field: ListField, settings: BackupSettings, changes: Changes): void {
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
  replaceList(entry ?? ensure(backup, settingsPath(field.key)), items, changes);
}

function writeDatabaseName(backup: XmlChildren, name: string | null, changes: Changes): void {
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
      changes.removed.push(entry);
      return;
    }
  }
  if (name === null) return;
  const target = entry ?? ensure(backup, ["DataBase", "DatabaseName"]);
  setText(target, name);
  changes.content.add(target);
}

/** The blanks just before `at` (the indentation in front of an element), as the file has them. */
function blanksBefore(source: string, at: number): string {
  let i = at;
  while (i > 0 && /\s/.test(source[i - 1]!)) i--;
  return source.slice(i, at);
}

/**
 * A new element as text, after `indent` (the blanks its siblings have in front of them). In a file laid out on
 * lines, an element with children is laid out on lines too, one level per tab or two spaces as the file indents;
 * in a file on one line, it stays on one line.
 */
function laidOut(entry: XmlEntry, indent: string): string {
  const nl = indent.lastIndexOf("\n");
  if (nl < 0 || elements(childrenOf(entry)).length === 0) return indent + buildCompact([entry]);
  const eol = indent[nl - 1] === "\r" ? "\r\n" : "\n";
  const base = indent.slice(nl + 1);
  const unit = indent.includes("\t") ? "\t" : "  ";
  return buildXml([entry]).trim().split("\n")
    .map((line) => eol + base + line.replace(/^((?:  )*)/, (lead) => unit.repeat(lead.length / 2)))
    .join("");
}

/**
 * The document's text with only the changed places edited: a changed value is replaced between its tags, a changed
 * list gets new items in the list's own layout, a new element is added after its last sibling with that sibling's
 * indentation. Everything else — line ends, indentation, spellings, comments, unknown keys — stays byte for byte as
 * the file had it, so a file 4D wrote and saved unchanged from the console is the same file.
 */
function renderEdited(doc: Doc, changes: Changes): string | null {
  const { source } = doc;
  const lost = new Error("an element's place in the text was not found");
  const edits: Array<{ start: number; end: number; text: string }> = [];
  const placed = (e: XmlEntry) => offsetOf(e) !== undefined;
  const textOfEntry = (e: XmlEntry) => {
    const r = elementRange(source, e);
    return r ? source.slice(r.start, r.end) : buildCompact([e]);
  };
  /** `content` between the element's tags; a self-closing element is opened and closed around it. */
  const setContent = (entry: XmlEntry, range: ElementRange, content: string) => {
    if (!range.selfClosing) return edits.push({ start: range.contentStart, end: range.contentEnd, text: content });
    const open = source.slice(range.start, range.end).replace(/\s*\/>$/, ">");
    edits.push({ start: range.start, end: range.end, text: `${open}${content}</${tagOf(entry)}>` });
  };
  const visit = (entry: XmlEntry) => {
    const range = elementRange(source, entry);
    if (!range) throw lost;
    const kids = elements(childrenOf(entry));
    if (changes.content.has(entry)) {
      if (kids.length === 0) return setContent(entry, range, escapeText(textOf(entry) ?? ""));
      // A list: its items on the lines its first item had, the end tag where it was.
      const inside = source.slice(range.contentStart, range.contentEnd);
      const lead = inside.trim() === "" ? "" : /^\s*/.exec(inside)![0];
      const trail = inside.trim() === "" ? "" : /\s*$/.exec(inside)![0];
      return setContent(entry, range, kids.map((k) => lead + textOfEntry(k)).join("") + trail);
    }
    const old = kids.filter(placed);
    for (const k of old) visit(k);
    const fresh = kids.filter((k) => !placed(k));
    if (fresh.length === 0) return;
    const last = old.at(-1);
    const lastRange = last && elementRange(source, last);
    if (!lastRange) {
      // The first children of an empty element: one level deeper than it, the end tag back at its level.
      const outer = blanksBefore(source, range.start);
      const inner = outer.includes("\n") ? outer + (outer.includes("\t") ? "\t" : "  ") : "";
      return setContent(entry, range, fresh.map((k) => laidOut(k, inner)).join("") + (inner ? outer : ""));
    }
    const indent = blanksBefore(source, lastRange.start);
    edits.push({ start: lastRange.end, end: lastRange.end, text: fresh.map((k) => laidOut(k, indent)).join("") });
  };
  try {
    for (const root of elements(doc.doc)) visit(root);
  } catch (err) {
    if (err === lost) return null;
    throw err;
  }
  for (const gone of changes.removed) {
    const r = elementRange(source, gone);
    if (r) edits.push({ start: r.start - blanksBefore(source, r.start).length, end: r.end, text: "" });
  }
  // From the end of the text backwards, so each edit's offsets still hold; at one offset, the wider edit first.
  edits.sort((a, b) => b.start - a.start || b.end - a.end);
  let out = source;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return (doc.bom ? "\uFEFF" : "") + out;
}

/**
 * The settings as a Backup.4DSettings document. With `originalXml`, that document's text is edited in place: only
 * the values that changed are rewritten, new keys are added next to their siblings, and every other byte stays as it
 * was (see renderEdited). Without it, a fresh document in 4D's layout.
 * Throws SettingsValueError for settings that can't be written, SettingsFileError when the original is unreadable.
 */
export function serializeSettings(settings: BackupSettings, originalXml?: string): string {
  const problems = checkSettings(settings);
  if (problems.length > 0) throw new SettingsValueError(problems);
  const document = originalXml === undefined ? freshDocument() : openDocument(originalXml);
  const changes: Changes = { content: new Set(), removed: [] };
  writeDatabaseName(document.backup, settings.databaseName, changes);
  for (const field of FIELDS) {
    if (field.kind === "list") writeList(document.backup, field, settings, changes);
    else writeScalar(document.backup, field, settings, changes);
  }
  // A document whose text the edit can't follow (none is known) is written whole, in 4D's layout: same content.
  return (originalXml === undefined ? null : renderEdited(document, changes)) ?? `${buildXml(document.doc).trim()}\n`;
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

/** Writes the default settings file when the database has none (docs/database-folder.md); an existing file is never touched. */
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
