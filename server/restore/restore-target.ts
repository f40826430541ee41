// Where a restore may write (issue 6): a folder chosen by an admin, never the live database, STRONGBOX_HOME, a system
// folder, the running application's folder, another running server's database (inside it, or — when replacing — a
// folder holding one), a file, or a non-empty folder unless overwriting was confirmed. Symbolic links are resolved
// first, so a link that leads into a refused place is refused too.
// System folders (../fs/system-folders.ts) are refused even with "overwrite", since overwriting moves the folder aside.
import fs from "node:fs/promises";
import path from "node:path";
import { systemFolderProblem } from "../fs/system-folders";
import { INSTANCE_LOCK_FILE, isInstanceLockHeld } from "../locks/instance-lock";

export { systemFolderProblem };

export interface ForbiddenPlaces {
  /** The live database folder: neither it, anything inside it, nor a folder containing it. */
  databaseDir: string;
  /** STRONGBOX_HOME, same rules. */
  home: string;
  /** The live data file (it may live outside the database folder), same rules. */
  dataFile: string;
  /** The backup destination: neither it nor a folder containing it (restoring inside it is the default). */
  destination?: string;
  /**
   * The running application's own folders (its working directory, the folder holding its package.json and
   * node_modules): neither them, anything inside, nor a folder containing them — "replace" would move the server's
   * own code aside under it.
   */
  appDirs?: readonly string[];
}

export interface TargetCheckInput {
  target: string;
  overwrite: boolean;
  /** Without it only the generic rules apply (absolute, system folders, file, non-empty). */
  forbidden?: ForbiddenPlaces;
}

export type TargetCheck =
  | {
      ok: true;
      /** The target with symbolic links resolved: the folder the restore really writes. */
      target: string;
      exists: boolean;
      /** True when the target is a non-empty folder that the restore will move aside (overwrite confirmed). */
      replaces: boolean;
    }
  | { ok: false; reason: string };

const isInside = (p: string, dir: string) => dir === "/" ? p !== "/" : p.startsWith(dir + "/");
const sameOrInside = (p: string, dir: string) => p === dir || isInside(p, dir);

/**
 * The real path of `p` (absolute): the nearest existing ancestor's realpath followed by the parts that don't exist
 * yet (which can't be links). Throws an Error with a sentence when the way there is broken.
 */
export async function resolveReal(p: string): Promise<{ real: string; exists: boolean }> {
  const missing: string[] = [];
  let cur = path.resolve(p);
  for (;;) {
    const st = await fs.lstat(cur).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return null;
      if (err.code === "ENOTDIR") throw new Error(`${cur} is not inside a folder (a part of the path is a file)`);
      throw new Error(`${cur} can't be examined (${err.code ?? err.message})`);
    });
    if (st) break;
    missing.unshift(path.basename(cur));
    cur = path.dirname(cur);
  }
  let real: string;
  try {
    real = await fs.realpath(cur);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === "ENOENT" || code === "ELOOP" ? `${cur} is a symbolic link that leads nowhere` : `${cur} can't be resolved (${code})`);
  }
  if (missing.length) {
    const st = await fs.stat(real);
    if (!st.isDirectory()) throw new Error(`${cur} is a file, not a folder`);
  }
  return { real: path.join(real, ...missing), exists: missing.length === 0 };
}

async function realOrResolved(p: string): Promise<string> {
  return resolveReal(p).then((r) => r.real, () => path.resolve(p));
}

export async function checkRestoreTarget(input: TargetCheckInput): Promise<TargetCheck> {
  const { target, overwrite, forbidden } = input;
  const refuse = (reason: string): TargetCheck => ({ ok: false, reason });
  if (typeof target !== "string" || target.trim() === "") return refuse("No destination folder was given for the restored files.");
  if (target.includes("\0")) return refuse("The destination folder's name contains a NUL character.");
  if (!path.isAbsolute(target)) return refuse(`The destination folder must be an absolute path (starting with /), not ${JSON.stringify(target)}.`);
  const lexical = path.resolve(target);
  let resolved: { real: string; exists: boolean };
  try {
    resolved = await resolveReal(lexical);
  } catch (err) {
    return refuse(`The destination folder can't be used: ${(err as Error).message}.`);
  }
  const { real } = resolved;
  const shown = real === lexical ? lexical : `${lexical} (really ${real})`;

  // Both spellings are judged: a link named /home/x → /var is as refused as /var, and /home itself through a link too.
  for (const p of new Set([lexical, real])) {
    const problem = systemFolderProblem(p);
    if (problem) return refuse(`The destination folder ${shown} ${problem}. Choose a folder of its own, e.g. under /srv or /var/tmp.`);
  }

  if (forbidden) {
    const places: Array<{ what: string; at: string; containedOk: boolean }> = [
      { what: "the live database folder", at: forbidden.databaseDir, containedOk: false },
      { what: "STRONGBOX_HOME", at: forbidden.home, containedOk: false },
      { what: "the live data file", at: forbidden.dataFile, containedOk: false },
      ...(forbidden.destination ? [{ what: "the backup destination", at: forbidden.destination, containedOk: true }] : []),
      ...(forbidden.appDirs ?? []).map((at) => ({ what: "the running Strongbox application's folder", at, containedOk: false })),
    ];
    const resolvedPlaces = await Promise.all(places.map(async (place) => ({ ...place, at: await realOrResolved(place.at) })));
    const spellings = [...new Set([lexical, real])];
    // The most telling reason first: being the place, then being inside one, then containing one.
    for (const place of resolvedPlaces) {
      if (spellings.includes(place.at)) return refuse(`The destination folder ${shown} is ${place.what}. Choose another folder.`);
    }
    // The default target is a folder next to the archive, in the destination, which is itself in STRONGBOX_HOME by
    // default (<home>/backups): a folder inside the destination is not refused for being inside the home.
    const destination = resolvedPlaces.find((p) => p.what === "the backup destination");
    const inDestination = !!destination && spellings.some((p) => isInside(p, destination.at));
    for (const place of resolvedPlaces) {
      if (inDestination && place.what === "STRONGBOX_HOME") continue;
      if (!place.containedOk && spellings.some((p) => isInside(p, place.at))) {
        return refuse(`The destination folder ${shown} is inside ${place.what} (${place.at}). Choose a folder outside it.`);
      }
    }
    for (const place of resolvedPlaces) {
      if (spellings.some((p) => isInside(place.at, p))) return refuse(`The destination folder ${shown} contains ${place.what} (${place.at}). Choose another folder.`);
    }
  }

  // A folder a user chose (forbidden places given; the server's own work folders are not): nothing is restored into
  // another running server's database (its instance lock is held), or over it.
  const runningAbove = forbidden ? runningServerAt(real) : null;
  if (runningAbove) return refuse(`The destination folder ${shown} ${runningAbove === real ? "is" : "is inside"} the database folder ${runningAbove}, which a running Strongbox server manages. Choose another folder.`);

  if (!resolved.exists) return { ok: true, target: real, exists: false, replaces: false };
  const st = await fs.stat(real);
  if (!st.isDirectory()) return refuse(`${shown} is a file, not a folder. Choose a folder for the restored files.`);
  const children = await fs.readdir(real).catch((err: NodeJS.ErrnoException) => err);
  if (children instanceof Error) return refuse(`The destination folder ${shown} can't be read (${children.code ?? children.message}).`);
  if (children.length === 0) return { ok: true, target: real, exists: true, replaces: false };
  if (!overwrite) {
    return refuse(`The destination folder ${shown} is not empty. Choose an empty or new folder, or confirm overwriting it (its current content is moved aside, not deleted).`);
  }
  // Replacing moves the whole folder aside: never one that holds a running server's database, at any depth.
  const below = forbidden ? await runningServerBelow(real) : null;
  if (below === "too large") {
    return refuse(`The destination folder ${shown} holds more than ${SCAN_MAX_FOLDERS} folders: too many to make sure no running Strongbox server's database is among them. Restore into a new or empty folder instead.`);
  }
  if (below) return refuse(`The destination folder ${shown} contains the database folder ${below}, which a running Strongbox server manages. Replacing the folder would move it aside. Choose another folder.`);
  return { ok: true, target: real, exists: true, replaces: true };
}

/** How far a replaced folder is searched for a running server's database (each folder costs one readdir). */
const SCAN_MAX_FOLDERS = 10_000;
const SCAN_MAX_DEPTH = 12;

/** A database folder at `dir` whose server is running: its `Logs/.strongbox-server.lock` is held. */
function isRunningDatabase(dir: string): boolean {
  return isInstanceLockHeld(path.join(dir, "Logs", INSTANCE_LOCK_FILE));
}

/** `dir` itself or the nearest folder above it that is a running server's database folder, or null. */
function runningServerAt(dir: string): string | null {
  for (let d = dir; ; d = path.dirname(d)) {
    if (isRunningDatabase(d)) return d;
    if (d === path.dirname(d)) return null;
  }
}

/** A running server's database folder strictly inside `dir` (breadth first, links not followed), or null. */
async function runningServerBelow(dir: string): Promise<string | null | "too large"> {
  let level = [dir];
  let seen = 0;
  for (let depth = 0; level.length && depth < SCAN_MAX_DEPTH; depth++) {
    const next: string[] = [];
    for (const d of level) {
      const children = await fs.readdir(d, { withFileTypes: true }).catch(() => []);
      for (const c of children) {
        if (!c.isDirectory()) continue; // a link is not a directory here: not followed
        const child = path.join(d, c.name);
        if (++seen > SCAN_MAX_FOLDERS) return "too large";
        if (isRunningDatabase(child)) return child;
        next.push(child);
      }
    }
    level = next;
  }
  return null;
}

/**
 * The default destination of a restore: a folder named after the archive, next to it (`/dest/Demo[0003]` for
 * `/dest/Demo[0003].zip`), or `… (2)`, `… (3)`… when that name is already taken by anything.
 */
export async function defaultRestoreTarget(archivePath: string): Promise<string> {
  const abs = path.resolve(archivePath);
  const base = abs.replace(/\.zip$/i, "");
  const taken = (p: string) => fs.lstat(p).then(() => true, () => false);
  if (!(await taken(base))) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base} (${n})`;
    if (!(await taken(candidate))) return candidate;
  }
}
