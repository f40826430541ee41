// A thin layer over fast-xml-parser's `preserveOrder` tree, so the settings file can be edited in place: every
// element, comment and attribute we don't touch is written back as it was, in its order.
import { XMLBuilder, XMLParser, XMLValidator } from "fast-xml-parser";

/** One entry of a children list: `{ Tag: children, ":@"?: attributes }`, or `{ "#text": "…" }`, or a comment. */
export type XmlEntry = Record<string, unknown>;
export type XmlChildren = XmlEntry[];

const TEXT = "#text";
const COMMENT = "#comment";
const ATTRS = ":@";
const META = XMLParser.getMetaDataSymbol() as unknown as string;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  captureMetaData: true, // start offsets of elements, for line numbers in messages
  parseTagValue: false, // values stay text: "0001" or "True" are ours to read
  parseAttributeValue: false,
  trimValues: true, // whitespace between elements is dropped; the builder indents afresh
  commentPropName: COMMENT,
  processEntities: true,
});

const builder = new XMLBuilder({
  preserveOrder: true,
  ignoreAttributes: false,
  format: true,
  indentBy: "  ",
  commentPropName: COMMENT,
  suppressEmptyNode: false,
  processEntities: true,
});

export class XmlSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number | undefined,
  ) {
    super(reason);
    this.name = "XmlSyntaxError";
  }
}

/**
 * Parses a document; throws XmlSyntaxError (with the line where it can tell) when it is not well-formed, and when
 * the parser refuses a well-formed one (an element named __proto__ or constructor, too many entities or nested
 * elements, an external entity, two DOCTYPEs): every problem of the file is a problem of the file, never a crash.
 */
export function parseXml(xml: string): XmlChildren {
  const checked = XMLValidator.validate(xml);
  if (checked !== true) {
    const { msg, line } = checked.err;
    throw new XmlSyntaxError(`not well-formed XML: ${msg}`, line);
  }
  try {
    return parser.parse(xml) as XmlChildren;
  } catch (err) {
    const msg = String((err as Error)?.message ?? err).replace(/^\[SECURITY\]\s*/, "");
    throw new XmlSyntaxError(`XML the settings reader refuses: ${msg}`, lineOfRefusal(xml, msg));
  }
}

/** Where the parser's refusal points: the name it quotes, the second DOCTYPE, or the first entity declaration. */
function lineOfRefusal(xml: string, msg: string): number | undefined {
  const quoted = /"([^"]+)"/.exec(msg)?.[1];
  let at = -1;
  if (quoted) at = xml.search(new RegExp(`[<\\s]${quoted.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[\\s=/>]`));
  else if (/DOCTYPE/i.test(msg)) at = xml.indexOf("<!DOCTYPE", xml.indexOf("<!DOCTYPE") + 1);
  else if (/entit/i.test(msg)) at = xml.indexOf("<!ENTITY");
  return at < 0 ? undefined : lineAt(xml, at + 1);
}

const compactBuilder = new XMLBuilder({
  preserveOrder: true,
  ignoreAttributes: false,
  format: false,
  commentPropName: COMMENT,
  suppressEmptyNode: false,
  processEntities: true,
});

/** The whole document, indented afresh (a file written from scratch). */
export function buildXml(doc: XmlChildren): string {
  return builder.build(doc) as string;
}

/** Entries as XML on one line: what is spliced into an existing document's text, which keeps its own layout. */
export function buildCompact(entries: XmlChildren): string {
  return compactBuilder.build(entries) as string;
}

/** Text as element content: the three characters XML text can't hold as they are. */
export function escapeText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The tag of an element entry, or undefined for text, comments and processing instructions. */
export function tagOf(entry: XmlEntry): string | undefined {
  const key = Object.keys(entry).find((k) => k !== ATTRS);
  if (key === undefined || key === TEXT || key === COMMENT || key.startsWith("?") || key.startsWith("!")) return undefined;
  return key;
}

export function childrenOf(entry: XmlEntry): XmlChildren {
  const tag = tagOf(entry);
  return tag === undefined ? [] : (entry[tag] as XmlChildren);
}

export function elements(children: XmlChildren): XmlEntry[] {
  return children.filter((e) => tagOf(e) !== undefined);
}

/** First child element with this tag (4D never repeats a key). */
export function child(children: XmlChildren, tag: string): XmlEntry | undefined {
  return children.find((e) => tagOf(e) === tag);
}

export function find(children: XmlChildren, path: readonly string[]): XmlEntry | undefined {
  let entry: XmlEntry | undefined;
  let list = children;
  for (const tag of path) {
    entry = child(list, tag);
    if (!entry) return undefined;
    list = childrenOf(entry);
  }
  return entry;
}

/** The element's text, trimmed; null when it holds elements instead (a list where a value was expected). */
export function textOf(entry: XmlEntry): string | null {
  const kids = childrenOf(entry);
  if (elements(kids).length > 0) return null;
  return kids
    .map((k) => (TEXT in k ? String(k[TEXT]) : ""))
    .join("")
    .trim();
}

export function setText(entry: XmlEntry, value: string): void {
  const tag = tagOf(entry)!;
  entry[tag] = value === "" ? [] : [{ [TEXT]: value }];
}

export function newElement(tag: string, children: XmlChildren = []): XmlEntry {
  return { [tag]: children };
}

/** Finds or creates (at the end of its parent) each element of the path; returns the last one. */
export function ensure(children: XmlChildren, path: readonly string[]): XmlEntry {
  let list = children;
  let entry: XmlEntry | undefined;
  for (const tag of path) {
    entry = child(list, tag);
    if (!entry) {
      entry = newElement(tag);
      list.push(entry);
    }
    list = childrenOf(entry);
  }
  return entry!;
}

/** Start offset of the element in the source text, when the parser recorded it. */
export function offsetOf(entry: XmlEntry): number | undefined {
  const meta = (entry as Record<string, unknown>)[META] as { startIndex?: number } | undefined;
  return meta?.startIndex;
}

/** 1-based line of a character offset (LF, CRLF and lone CR all end a line). */
export function lineAt(source: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 10 || (c === 13 && source.charCodeAt(i + 1) !== 10)) line++;
  }
  return line;
}

export function attributesOf(entry: XmlEntry): Record<string, string> | undefined {
  return entry[ATTRS] as Record<string, string> | undefined;
}

/**
 * Where a parsed element sits in its source text: from its `<` (start) to just past its end tag (end), and its
 * content between the start tag and the end tag. A self-closing element has an empty content at its end.
 */
export interface ElementRange {
  start: number;
  contentStart: number;
  contentEnd: number;
  end: number;
  selfClosing: boolean;
}

/** Index just past the `>` that ends the markup starting at `i` (quotes in attributes respected), or -1. */
function markupEnd(source: string, i: number): number {
  let quote: string | null = null;
  for (let j = i + 1; j < source.length; j++) {
    const c = source[j];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ">") return j + 1;
  }
  return -1;
}

/**
 * The range of an element the parser read from `source` (undefined for an element made since, which has no place
 * in the text yet). The document was checked well-formed when it was parsed, so the scan only has to count start
 * and end tags, skipping comments, CDATA sections, processing instructions and declarations.
 */
export function elementRange(source: string, entry: XmlEntry): ElementRange | undefined {
  const start = offsetOf(entry);
  if (start === undefined || source[start] !== "<") return undefined;
  const contentStart = markupEnd(source, start);
  if (contentStart < 0) return undefined;
  if (source[contentStart - 2] === "/") return { start, contentStart, contentEnd: contentStart, end: contentStart, selfClosing: true };
  const skips: Array<[string, string]> = [["<!--", "-->"], ["<![CDATA[", "]]>"], ["<?", "?>"]];
  let depth = 1;
  let i = contentStart;
  while (i < source.length) {
    const lt = source.indexOf("<", i);
    if (lt < 0) return undefined;
    const skip = skips.find(([open]) => source.startsWith(open, lt));
    if (skip) {
      const close = source.indexOf(skip[1], lt + skip[0].length);
      if (close < 0) return undefined;
      i = close + skip[1].length;
      continue;
    }
    const after = markupEnd(source, lt);
    if (after < 0) return undefined;
    if (source[lt + 1] === "!") {
      i = after; // a declaration (<!DOCTYPE …>, <!ENTITY …>): no element
      continue;
    }
    if (source[lt + 1] === "/") {
      if (--depth === 0) return { start, contentStart, contentEnd: lt, end: after, selfClosing: false };
    } else if (source[after - 2] !== "/") depth++;
    i = after;
  }
  return undefined;
}
