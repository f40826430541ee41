// From settings as written to the paths and names the engine uses (docs/database-folder.md): the cleaned DatabaseName, the
// destination folder, and the attachments that may be saved — with a plain-English reason for each refused one.
import { lstat, realpath } from "node:fs/promises";
import path from "node:path";
import { databaseLayout } from "../database/layout";
import { systemFolderProblem, virtualFolderProblem } from "../fs/system-folders";
import type { BackupSettings } from "./model";

/** Longest name kept: it becomes `<name>[NNNN].zip` plus temporary suffixes, under the 255-byte file name limit. */
const MAX_NAME_LENGTH = 100;

/**
 * A DatabaseName made safe to name files: letters, digits, `-`, `_`, `.` and space are kept, anything else
 * (separators, brackets that would confuse `[NNNN]`, control characters) becomes `_`. Leading dots go (no hidden
 * archives, no `..`). Never empty.
 */
export function cleanDatabaseName(name: string): string {
  // NFC first, so a name from a Mac (decomposed accents) keeps its letters instead of gaining underscores.
  const cleaned = name
    .normalize("NFC")
    .replace(/[^\p{L}\p{N}\-_. ]/gu, "_")
    .trim()
    .replace(/^\.+/, "")
    .slice(0, MAX_NAME_LENGTH)
    .trim();
  return /[\p{L}\p{N}]/u.test(cleaned) ? cleaned : "Database";
}

/** The name from the settings, else the database folder's name; cleaned. */
export function resolveDatabaseName(settings: BackupSettings, databaseDir: string): string {
  const fromSettings = settings.databaseName?.trim();
  return cleanDatabaseName(fromSettings ? fromSettings : path.basename(path.resolve(databaseDir)));
}

/** The destination folder as an absolute path (a relative one is relative to the database folder). */
export function resolveDestination(settings: BackupSettings, databaseDir: string): string {
  return path.resolve(databaseDir, settings.general.destinationFolder);
}

export interface AttachmentContext {
  databaseDir: string;
  /** STRONGBOX_HOME */
  home: string;
  /** The resolved destination folder. */
  destination: string;
  /** The data file (normally <database>/Data/data.sqlite). */
  dataFile: string;
}

export interface RefusedAttachment {
  /** The item as written in the settings. */
  path: string;
  /** Where it resolves to. */
  absolute: string;
  reason: string;
}

export interface AttachmentResolution {
  /** Absolute paths, in the settings' order, without duplicates; they may not exist (the engine reports that). */
  accepted: string[];
  refused: RefusedAttachment[];
}

type Relation = "same" | "inside" | "contains" | "none";

const isBelow = (rel: string) => rel !== "" && rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);

/** How path a stands to path b (both absolute and normalised). */
function relation(a: string, b: string): Relation {
  if (a === b) return "same";
  if (isBelow(path.relative(b, a))) return "inside";
  if (isBelow(path.relative(a, b))) return "contains";
  return "none";
}

/** The real path where it exists; for a missing path, the real path of its nearest existing folder plus the rest. */
async function realish(p: string): Promise<string> {
  const rest: string[] = [];
  let current = p;
  for (;;) {
    try {
      return path.join(await realpath(current), ...rest);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const parent = path.dirname(current);
      if ((code !== "ENOENT" && code !== "ENOTDIR") || parent === current) return p;
      rest.unshift(path.basename(current));
      current = parent;
    }
  }
}

/** A place an attachment must keep away from; `refuse` gives the reason for a relation, or null to allow it. */
interface Guard {
  lexical: string;
  real: string;
  refuse(rel: Relation): string | null;
}

async function guard(p: string, refuse: Guard["refuse"]): Promise<Guard> {
  const lexical = path.resolve(p);
  return { lexical, real: await realish(lexical), refuse };
}

/** "Held" = already in every backup: the item and everything inside it would be saved twice. */
const held = (what: string) => (rel: Relation) =>
  rel === "same" ? `is ${what}, which the backup already saves` : rel === "inside" ? `is inside ${what}, which the backup already saves` : rel === "contains" ? `contains ${what}, which the backup already saves` : null;

async function guards(ctx: AttachmentContext): Promise<Guard[]> {
  const layout = databaseLayout(ctx.databaseDir);
  return Promise.all([
    guard("/", (rel) => (rel === "same" ? "is the root folder /" : null)),
    guard(layout.databaseDir, (rel) =>
      rel === "same" ? "is the database folder itself" : rel === "contains" ? "contains the database folder" : null,
    ),
    guard(ctx.home, (rel) =>
      rel === "same" ? "is STRONGBOX_HOME, the server's own state" : rel === "contains" ? "contains STRONGBOX_HOME, the server's own state" : null,
    ),
    // Archives are written at the destination's top level, so only the folder itself and its parents would
    // save archives (and the one being written) into archives. Inside it is allowed: 4D's "./" destination
    // makes the database folder the destination, and files beside the data file are 4D's usual attachments.
    guard(ctx.destination, (rel) =>
      rel === "same"
        ? "is the backup destination (archives would be saved into archives)"
        : rel === "contains"
          ? "contains the backup destination (archives would be saved into archives)"
          : null,
    ),
    guard(layout.projectDir, held("the structure folder Project/")),
    guard(layout.settingsDir, held("the Settings/ folder")),
    guard(ctx.dataFile, held("the data file")),
    guard(path.join(path.dirname(ctx.dataFile), "Settings"), held("the data file's Settings/ folder")),
    // Raw copies of a live SQLite WAL or journal would not match the snapshot; the log file has its own backup.
    ...["-wal", "-shm", "-journal"].map((suffix) =>
      guard(ctx.dataFile + suffix, (rel) => (rel === "same" ? "is part of the live data file, which the backup saves as a snapshot" : null)),
    ),
    guard(layout.logFile, (rel) => (rel === "same" ? "is the log file, which is saved as a log backup beside the archive" : null)),
  ]);
}

/** Why `absolute` may not be an attachment, or null when it may. */
async function refusal(absolute: string, ctx: AttachmentContext, all: Guard[]): Promise<string | null> {
  const real = await realish(absolute);
  // /proc/self/environ would put the server's environment (with its secrets) into every archive.
  const virtual = virtualFolderProblem(absolute) ?? virtualFolderProblem(real);
  if (virtual) return virtual;
  for (const g of all) {
    // Lexical for what the settings say, real for what the disk says (a symlink can't smuggle a folder in).
    const reason = g.refuse(relation(real, g.real)) ?? g.refuse(relation(absolute, g.lexical));
    if (reason) return reason;
  }
  // Files directly in STRONGBOX_HOME are the console's database and secrets; its sub-folders are fair game.
  const home = await realish(path.resolve(ctx.home));
  if (path.dirname(real) === home) {
    const isDir = await lstat(real).then((s) => s.isDirectory(), () => false);
    if (!isDir) return "is one of the server's own files in STRONGBOX_HOME (console database, secrets)";
  }
  return null;
}

/**
 * Resolves and checks the attachments of the settings (docs/database-folder.md). Items are absolute or relative to the database
 * folder (4D writes `./x`); refused are the database folder, what the backup already holds and anything inside,
 * STRONGBOX_HOME, the destination, `/`, and any folder containing one of these, and /proc, /sys, /dev and anything
 * in them; a repeat or an item inside another attachment is refused too, as it is already saved.
 */
export async function resolveAttachments(settings: BackupSettings, ctx: AttachmentContext): Promise<AttachmentResolution> {
  const all = await guards(ctx);
  const accepted: Array<{ item: string; absolute: string; real: string }> = [];
  const refused: RefusedAttachment[] = [];
  for (const item of settings.general.includesFiles) {
    if (item.trim() === "") {
      refused.push({ path: item, absolute: "", reason: "is empty" });
      continue;
    }
    const absolute = path.resolve(ctx.databaseDir, item.trim());
    const reason = await refusal(absolute, ctx, all);
    if (reason) refused.push({ path: item, absolute, reason });
    else accepted.push({ item, absolute, real: await realish(absolute) });
  }
  // Keep the first of two items naming the same thing, and the outer of two nested ones.
  const kept = accepted.filter((a, i) => {
    for (const [j, b] of accepted.entries()) {
      if (i === j) continue;
      const rel = relation(a.real, b.real);
      if (rel === "same" && j < i) {
        refused.push({ path: a.item, absolute: a.absolute, reason: `is listed twice (as ${b.item})` });
        return false;
      }
      if (rel === "inside") {
        refused.push({ path: a.item, absolute: a.absolute, reason: `is inside the attachment ${b.absolute}, which already saves it` });
        return false;
      }
    }
    return true;
  });
  return { accepted: kept.map((a) => a.absolute), refused };
}

/**
 * Why `destination` (absolute) can't be the backup destination, or null. Refused, by what the disk says (links
 * resolved) as well as what the settings say:
 * - the database folder, anything inside it (Project/, Data/, Logs/…: each archive would hold the ones before it,
 *   1.8 MB became 93 MB in seven backups) and anything containing it;
 * - STRONGBOX_HOME itself (the console's database and secrets) and anything containing it — a folder inside it, like
 *   the default `<home>/backups`, is fine;
 * - system folders (see systemFolderProblem): `/`, the folders directly under `/` and `/var`, and the OS's trees.
 */
export async function destinationProblem(destination: string, ctx: { databaseDir: string; home: string }): Promise<string | null> {
  const lexical = path.resolve(destination);
  const real = await realish(lexical);
  for (const p of new Set([lexical, real])) {
    const system = systemFolderProblem(p);
    if (system) return `${system}. Choose a folder of its own for the backups, e.g. /srv/backups`;
  }
  const database = await guard(ctx.databaseDir, () => null);
  const home = await guard(ctx.home, () => null);
  const rel = (g: Guard) => {
    const a = relation(real, g.real);
    return a !== "none" ? a : relation(lexical, g.lexical);
  };
  // The most telling reason first: being the place, then being inside it, then containing it (the default
  // database, <home>/database, is inside the home: the home itself is "STRONGBOX_HOME", not "contains the database").
  const toDatabase = rel(database), toHome = rel(home);
  if (toDatabase === "same") return "is the database folder itself: each archive would hold the archives before it. Choose a folder outside the database";
  if (toHome === "same") return `is STRONGBOX_HOME, the server's own folder (console database, secrets). Use a folder inside it, such as ${path.join(home.lexical, "backups")}, or one elsewhere`;
  if (toDatabase === "inside") return `is inside the database folder ${database.lexical}: each archive would hold the archives before it. Choose a folder outside the database`;
  if (toDatabase === "contains") return `contains the database folder ${database.lexical}. Choose a folder of its own for the backups`;
  if (toHome === "contains") return `contains STRONGBOX_HOME ${home.lexical}, the server's own folder. Choose a folder of its own for the backups`;
  return null;
}
