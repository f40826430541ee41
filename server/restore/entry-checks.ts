// The rules every archive passes before a restore writes anything (issue 6: "never outside the chosen folder for a
// crafted archive"). An archive that breaks one is refused as a whole, naming the entry: a Strongbox archive never
// breaks them, so one that does is damaged or was made to attack the restore.
import { MANIFEST_NAME } from "../database/layout";
import { type Manifest, type ManifestEntry } from "../archive/manifest";
import type { ArchiveEntry } from "../zip/archive-file";

/** A manifest entry matched with its entry in the ZIP. */
export interface PlannedEntry {
  manifest: ManifestEntry;
  zip: ArchiveEntry;
}

export class UnsafeEntryError extends Error {
  constructor(readonly entry: string, readonly reason: string) {
    super(`entry ${JSON.stringify(entry)} ${reason}`);
    this.name = "UnsafeEntryError";
  }
}

/** Symbolic links longer than this are refused (Linux's PATH_MAX): no real link is longer. */
export const MAX_LINK_TARGET = 4096;
/** Links followed while resolving one link's target; Linux gives up (ELOOP) after 40. */
const MAX_LINK_HOPS = 40;

/** Why `name` can't be a path inside the restore folder, or null. Folders end with one `/`, nothing else does. */
export function nameProblem(name: string, kind: ArchiveEntry["kind"]): string | null {
  if (name === "") return "has an empty name";
  if (name.includes("\0")) return "has a NUL character in its name";
  if (name.includes("\\")) return "has a backslash in its name (a Windows path)";
  if (/^[A-Za-z]:/.test(name)) return "starts with a drive letter (an absolute Windows path)";
  if (name.startsWith("/")) return "is an absolute path";
  if (kind !== "directory" && name.endsWith("/")) return "ends with / but is not a folder";
  const segments = (kind === "directory" ? name.replace(/\/$/, "") : name).split("/");
  if (segments.includes("..")) return "has a \"..\" segment that would lead out of the restore folder";
  if (segments.some((s) => s === "" || s === ".")) return "has an empty or \".\" segment in its name";
  return null;
}

/** The entry's path without a folder's trailing slash: one key per place on disk. */
export const placeOf = (name: string) => name.replace(/\/$/, "");

/**
 * Matches the ZIP's entries with the manifest's, in the manifest's order, and refuses (UnsafeEntryError) an unsafe
 * or unexpected name, a duplicate, an entry missing from either side, a kind or size that disagrees, and an entry
 * that would be written inside a file or through a symbolic link.
 */
export function planEntries(manifest: Manifest, zipEntries: ArchiveEntry[]): PlannedEntry[] {
  const inZip = new Map<string, ArchiveEntry>();
  for (const z of zipEntries) {
    const problem = nameProblem(z.name, z.kind);
    if (problem) throw new UnsafeEntryError(z.name, problem);
    if (inZip.has(z.name)) throw new UnsafeEntryError(z.name, "appears twice in the archive");
    inZip.set(z.name, z);
  }
  if (!inZip.has(MANIFEST_NAME)) throw new UnsafeEntryError(MANIFEST_NAME, "is missing");

  const planned: PlannedEntry[] = [];
  const kinds = new Map<string, ManifestEntry["kind"]>();
  for (const m of manifest.entries) {
    const problem = m.path === MANIFEST_NAME ? "is listed in the manifest as a restored file" : nameProblem(m.path, m.kind);
    if (problem) throw new UnsafeEntryError(m.path, problem);
    const place = placeOf(m.path);
    if (kinds.has(place)) throw new UnsafeEntryError(m.path, "appears twice in the manifest");
    kinds.set(place, m.kind);
    const z = inZip.get(m.path);
    if (!z) throw new UnsafeEntryError(m.path, "is listed in the manifest but missing from the archive");
    if (z.kind !== m.kind) throw new UnsafeEntryError(m.path, `is a ${z.kind} in the archive but a ${m.kind} in the manifest`);
    if (z.size !== m.size) throw new UnsafeEntryError(m.path, `is ${z.size} bytes in the archive's directory but ${m.size} in the manifest`);
    planned.push({ manifest: m, zip: z });
  }
  for (const name of inZip.keys()) {
    if (name !== MANIFEST_NAME && !kinds.has(placeOf(name))) throw new UnsafeEntryError(name, "is in the archive but not in its manifest");
  }
  // Nothing may lie inside a file or a symbolic link: a write there would land wherever the link points.
  for (const m of manifest.entries) {
    const parts = placeOf(m.path).split("/");
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join("/");
      const kind = kinds.get(prefix);
      if (kind === "symlink") throw new UnsafeEntryError(m.path, `lies under the symbolic link ${JSON.stringify(prefix)} (it would be written through the link)`);
      if (kind === "file") throw new UnsafeEntryError(m.path, `lies under ${JSON.stringify(prefix)}, which is a file`);
    }
  }
  return planned;
}

/**
 * Why the link at `linkPath` (a place in the archive) pointing to `target` would lead outside the restore folder,
 * or null. The target is followed the way the kernel will follow it once every link of the archive exists
 * (`links`: place → target), so a chain of individually harmless links can't climb out either.
 */
export function linkTargetProblem(linkPath: string, target: string, links: ReadonlyMap<string, string>): string | null {
  if (target === "") return "is a symbolic link with an empty target";
  if (target.length > MAX_LINK_TARGET) return "is a symbolic link with an overlong target";
  if (target.includes("\0")) return "is a symbolic link whose target has a NUL character";
  const absolute = (t: string) => t.startsWith("/") || t.includes("\\") || /^[A-Za-z]:/.test(t);
  if (absolute(target)) return `is a symbolic link to an absolute path (${target}), outside the restore folder`;
  const at = placeOf(linkPath).split("/").slice(0, -1);
  const todo = target.split("/");
  let hops = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (at.length === 0) return `is a symbolic link to ${target}, which leads outside the restore folder`;
      at.pop();
      continue;
    }
    at.push(part);
    const next = links.get(at.join("/"));
    if (next === undefined) continue;
    if (++hops > MAX_LINK_HOPS) return `is a symbolic link to ${target}, which loops through other links`;
    if (absolute(next)) return `is a symbolic link to ${target}, which leads through another link to an absolute path`;
    at.pop();
    todo.unshift(...next.split("/"));
  }
  return null;
}
