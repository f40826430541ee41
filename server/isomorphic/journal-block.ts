// Reads one backup journal block (docs/journal.md, as ./format-block.ts writes it) back into fields the console shows as a
// card. Tolerant by design: the file is plain text anyone may edit or 4D may have written, so a line this parser
// does not know becomes a note, and a block cut short (a partial last line) still parses as far as it goes.
// Pure TypeScript without Node imports: the browser parses the running operation's live block with it too.
import type { OperationKind, TriggerKind } from "./operation-kinds";

/**
 * At a glance: `ok`; `partial` — the archive was kept but errors were reported (1409 partial backup, docs/operations.md);
 * `failed` — the header says "aborted"; `postponed` — a scheduled backup skipped (`*** Backup postponed`).
 */
export type BlockStatus = "ok" | "partial" | "failed" | "postponed";
export const BLOCK_STATUSES = ["ok", "partial", "failed", "postponed"] as const satisfies readonly BlockStatus[];
export const BLOCK_KINDS = ["backup", "restore", "automaticRestore", "logIntegration", "verification", "postponed"] as const satisfies readonly OperationKind[];

/** A time as the journal prints it (server's local time with its offset), and the instant it names (UTC ISO). */
export interface JournalTime {
  text: string;
  /** Null when the text isn't a whole `YYYY-MM-DD hh:mm:ss ±hh:mm` (a cut line, a hand edit). */
  iso: string | null;
}

export interface ParsedBlock {
  /** The header as written, without `*** ` (e.g. "Full Backup aborted"); "" for text before any header. */
  header: string;
  /** Null for a header this version doesn't know (kept, shown as written). */
  kind: OperationKind | null;
  aborted: boolean;
  trigger: { text: string; kind: TriggerKind | null; user: string | null } | null;
  /** `Creating archive` (backups) or `Restoring archive` (restores). */
  archivePath: string | null;
  /** `Creating log backup` or `Integrating log backup`. */
  logBackupPath: string | null;
  /** The Content line's value, e.g. "project files (312 files, 2.3 MB), data file (256.0 MB)". */
  content: string | null;
  attachments: Array<{ path: string; found: boolean }>;
  archive: { size: string; sizeBytes: number | null; sha256: string; verified: boolean } | null;
  /** Every other line, in order: hook output, engine remarks, anything unknown. */
  notes: string[];
  scheduled: JournalTime | null;
  starting: JournalTime | null;
  ending: JournalTime | null;
  duration: { text: string; ms: number } | null;
  errors: Array<{ code: number; text: string }>;
  status: BlockStatus;
}

const KINDS_BY_HEADER: Record<string, OperationKind> = {
  "Full Backup": "backup",
  "Full Backup Restore": "restore",
  "Automatic Full Backup Restore": "automaticRestore",
  "Log Integration": "logIntegration",
  "Archive Verification": "verification",
  "Backup postponed": "postponed",
};

const TRIGGER_KINDS: readonly TriggerKind[] = ["manual", "scheduler", "command", "retry", "startup"];

/** `2026-11-26 03:00:01 +01:00` → the instant as UTC ISO, or null. */
export function parseJournalTime(text: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s, sign, oh, om] = [...m.slice(1, 7).map(Number), m[7], Number(m[8]), Number(m[9])] as [
    number, number, number, number, number, number, string, number, number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || om > 59) return null;
  const offsetMs = (sign === "-" ? -1 : 1) * (oh * 60 + om) * 60_000;
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s) - offsetMs).toISOString();
}

/** `00:00:12` (hours may exceed 99) → milliseconds, or null. */
export function parseJournalDuration(text: string): number | null {
  const m = /^(\d+):([0-5]\d):([0-5]\d)$/.exec(text.trim());
  return m ? ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 : null;
}

/** "140.1 MB" → 140,100,000 (decimal units, as formatSize prints; approximate by nature), or null. */
export function parseJournalSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?) (B|KB|MB|GB|TB)$/.exec(text.trim());
  if (!m) return null;
  const scale = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 }[m[2] as "B"];
  return Math.round(Number(m[1]) * scale);
}

function time(text: string): JournalTime {
  const t = text.trim();
  return { text: t, iso: parseJournalTime(t) };
}

function parseTrigger(text: string): ParsedBlock["trigger"] {
  const m = /^(\w+)(?: \((.*)\))?$/.exec(text);
  const kind = m && (TRIGGER_KINDS as readonly string[]).includes(m[1]) ? (m[1] as TriggerKind) : null;
  return { text, kind, user: kind ? (m![2] ?? null) : null };
}

/** The status a block shows, from its header and errors (see BlockStatus). */
export function deriveStatus(b: Pick<ParsedBlock, "kind" | "aborted" | "errors">): BlockStatus {
  if (b.kind === "postponed") return "postponed";
  if (b.aborted) return "failed";
  return b.errors.length > 0 ? "partial" : "ok";
}

/** The header line's kind and aborted flag ("Full Backup aborted" → backup, true). */
function readHeader(line: string): Pick<ParsedBlock, "header" | "kind" | "aborted"> {
  const header = line.slice(4).trim();
  const aborted = header.endsWith(" aborted");
  const name = aborted ? header.slice(0, -" aborted".length).trimEnd() : header;
  return { header, kind: KINDS_BY_HEADER[name] ?? null, aborted };
}

const ERROR_LINE = /^Error reported : (-?\d+)(?: (.*))?$/;

/**
 * A block's kind and status without parsing the rest: what the journal reader indexes for every block of a file
 * (tens of thousands), so that filtering needs no second read. Agrees with parseBlock by construction.
 */
export function summarizeBlock(text: string): Pick<ParsedBlock, "kind" | "status"> {
  const t = text.replace(/^\s*\n/, "");
  const head = t.startsWith("*** ") ? readHeader(t.slice(0, t.indexOf("\n") === -1 ? t.length : t.indexOf("\n")).replace(/\r$/, "")) : null;
  const block = { kind: head?.kind ?? null, aborted: head?.aborted ?? false, errors: [] as unknown[] };
  // Only lines starting with the label can be error lines: look at those, not at every line.
  for (let at = t.indexOf("Error reported : "); at !== -1; at = t.indexOf("Error reported : ", at + 1)) {
    if (at > 0 && t[at - 1] !== "\n" && t[at - 1] !== "\r") continue;
    const end = t.indexOf("\n", at);
    if (ERROR_LINE.test(t.slice(at, end === -1 ? t.length : end).replace(/\r$/, ""))) {
      block.errors.push(null);
      break;
    }
  }
  return { kind: block.kind, status: deriveStatus(block as Pick<ParsedBlock, "kind" | "aborted" | "errors">) };
}

/** The fields a block's line sets, by its label (`Label : value`). */
type Field = "trigger" | "archive" | "logBackup" | "content" | "archiveLine" | "scheduled" | "starting" | "ending";
const LABELS: Array<[string, Field]> = [
  ["Trigger", "trigger"],
  ["Creating archive", "archive"],
  ["Restoring archive", "archive"],
  ["Creating log backup", "logBackup"],
  ["Integrating log backup", "logBackup"],
  ["Content", "content"],
  ["Archive", "archiveLine"],
  ["Scheduled", "scheduled"],
  ["Starting", "starting"],
  ["Ending", "ending"],
];

/** Parses one block (its text from `*** ` to before the next block; surrounding blank lines are ignored). */
export function parseBlock(text: string): ParsedBlock {
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[0].trim() === "") lines.shift();
  while (lines.length && lines[lines.length - 1].trim() === "") lines.pop();

  const block: ParsedBlock = {
    header: "", kind: null, aborted: false, trigger: null, archivePath: null, logBackupPath: null, content: null,
    attachments: [], archive: null, notes: [], scheduled: null, starting: null, ending: null, duration: null,
    errors: [], status: "ok",
  };
  if (lines[0]?.startsWith("*** ")) Object.assign(block, readHeader(lines.shift()!));

  const seen = new Set<Field>();
  let inAttachments = false;
  for (const line of lines) {
    if (inAttachments && line.startsWith("\t")) {
      const m = /^\t(.*) \[(OK|NOT FOUND)\]$/.exec(line);
      if (m) {
        block.attachments.push({ path: m[1], found: m[2] === "OK" });
        continue;
      }
    }
    inAttachments = false;
    if (line === "Attachment(s):") {
      inAttachments = true;
      continue;
    }
    const err = ERROR_LINE.exec(line);
    if (err) {
      block.errors.push({ code: Number(err[1]), text: err[2] ?? "" });
      continue;
    }
    const labelled = /^([A-Za-z ]+?) : (.*)$/.exec(line);
    const field = labelled && LABELS.find(([label]) => label === labelled[1])?.[1];
    // A label met a second time is not the block's own line (hook output can say anything): keep it as a note.
    if (labelled && field && !seen.has(field) && setField(block, field, labelled[2])) {
      seen.add(field);
      continue;
    }
    // format-block indents a note's leading "***" by one space so that it can't pass for a header: undo that.
    block.notes.push(line.startsWith(" ***") ? line.slice(1) : line);
  }
  block.status = deriveStatus(block);
  return block;
}

/** Sets a field from its line's value; false when the value doesn't have the shape of that line (then a note). */
function setField(block: ParsedBlock, field: Field, value: string): boolean {
  switch (field) {
    case "trigger":
      block.trigger = parseTrigger(value);
      return true;
    case "archive":
      block.archivePath = value;
      return true;
    case "logBackup":
      block.logBackupPath = value;
      return true;
    case "content":
      block.content = value;
      return true;
    case "archiveLine": {
      const m = /^(.+?), sha256 ([0-9a-fA-F]+), (verified|not verified)$/.exec(value);
      if (!m) return false;
      block.archive = { size: m[1], sizeBytes: parseJournalSize(m[1]), sha256: m[2], verified: m[3] === "verified" };
      return true;
    }
    case "scheduled":
      block.scheduled = time(value);
      return true;
    case "starting":
      block.starting = time(value);
      return true;
    case "ending": {
      const m = /^(.*?)(?: \((\d+:\d{2}:\d{2})\))?$/.exec(value)!;
      block.ending = time(m[1]);
      const ms = m[2] ? parseJournalDuration(m[2]) : null;
      block.duration = ms === null ? null : { text: m[2], ms };
      return true;
    }
  }
}
