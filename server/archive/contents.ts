// What an archive holds, as the Restore page shows it (structure, data file, data settings, attachments by their
// original folder), and which entries a choice of parts selects.
import { loadManifest, openArchiveFile, type Manifest, type ManifestEntry } from "./manifest";

export interface ContentGroup {
  /** Every entry: files, symbolic links and (empty) folders. */
  entries: number;
  /** Files and symbolic links. */
  files: number;
  /** Their sizes added up (uncompressed). */
  bytes: number;
}

export interface AttachmentGroup extends ContentGroup {
  /** The attachment's original absolute path (as listed in the settings at backup time). */
  path: string;
  /** Whether the backup found it. */
  found: boolean;
}

export interface ArchiveContents {
  archivePath: string;
  /** The archive file's size on disk. */
  archiveSize: number;
  manifest: Manifest;
  /** Project/ and Settings/. */
  structure: ContentGroup;
  /** Data/data.sqlite. */
  dataFile: ContentGroup;
  /** Data/Settings/. */
  dataSettings: ContentGroup;
  attachments: AttachmentGroup[];
  /** Anything else (a Strongbox archive has nothing here). */
  other: ContentGroup;
  total: ContentGroup;
}

export type ContentPart = "structure" | "dataFile" | "dataSettings" | "attachment" | "other";

/** The archive prefix of an attachment: `Attachments/` + its absolute path without the leading slash (docs/archive.md). */
export const attachmentPrefix = (attachmentPath: string) => "Attachments/" + attachmentPath.replace(/^\/+/, "").replace(/\/+$/, "");

const under = (p: string, prefix: string) => p === prefix || p === prefix + "/" || p.startsWith(prefix + "/");

/** The part of the archive an entry belongs to; an attachment names its root (the longest that matches). */
export function partOf(entry: Pick<ManifestEntry, "path">, attachmentRoots: readonly string[]): { part: ContentPart; attachment?: string } {
  const p = entry.path;
  if (under(p, "Project") || under(p, "Settings")) return { part: "structure" };
  if (p === "Data/data.sqlite") return { part: "dataFile" };
  if (under(p, "Data/Settings")) return { part: "dataSettings" };
  let best: string | undefined;
  for (const root of attachmentRoots) {
    if (under(p, attachmentPrefix(root)) && (!best || root.length > best.length)) best = root;
  }
  return best ? { part: "attachment", attachment: best } : { part: "other" };
}

/** What the Restore page's check boxes chose. Absent means unticked; `attachments: true` means all of them. */
export interface PartSelection {
  structure?: boolean;
  dataFile?: boolean;
  dataSettings?: boolean;
  /** true: every attachment; a list: those original paths only. */
  attachments?: boolean | readonly string[];
  other?: boolean;
}

/** A `select` function for restoreArchive from the check boxes. */
export function selectParts(manifest: Manifest, selection: PartSelection): (e: ManifestEntry) => boolean {
  const roots = manifest.attachments.map((a) => a.attachmentPath);
  const chosen = selection.attachments;
  return (e) => {
    const { part, attachment } = partOf(e, roots);
    if (part === "attachment") return chosen === true || (Array.isArray(chosen) && chosen.includes(attachment!));
    return selection[part] === true;
  };
}

const emptyGroup = (): ContentGroup => ({ entries: 0, files: 0, bytes: 0 });
function add(g: ContentGroup, e: ManifestEntry): void {
  g.entries++;
  if (e.kind !== "directory") g.files++;
  g.bytes += e.size;
}

/** Groups a manifest's entries the way the Restore page lists them. */
export function groupContents(manifest: Manifest): Omit<ArchiveContents, "archivePath" | "archiveSize" | "manifest"> {
  const groups = { structure: emptyGroup(), dataFile: emptyGroup(), dataSettings: emptyGroup(), other: emptyGroup(), total: emptyGroup() };
  const attachments = new Map<string, AttachmentGroup>();
  for (const a of manifest.attachments) {
    if (!attachments.has(a.attachmentPath)) attachments.set(a.attachmentPath, { path: a.attachmentPath, found: a.found, ...emptyGroup() });
  }
  const roots = [...attachments.keys()];
  for (const e of manifest.entries) {
    const { part, attachment } = partOf(e, roots);
    add(part === "attachment" ? attachments.get(attachment!)! : groups[part], e);
    add(groups.total, e);
  }
  return { ...groups, attachments: [...attachments.values()] };
}

/** The archive's manifest and its contents grouped for the Restore page, plus the archive's size. */
export async function readArchiveContents(archivePath: string): Promise<ArchiveContents> {
  const archive = await openArchiveFile(archivePath);
  try {
    const manifest = await loadManifest(archive);
    return { archivePath, archiveSize: archive.size, manifest, ...groupContents(manifest) };
  } finally {
    await archive.close();
  }
}

/** What a restore of `selection` brings back, by part, for its journal block's `Content :` line. */
export function restoredContent(manifest: Manifest, selection: PartSelection): {
  projectFiles: { count: number; bytes: number } | null; dataFile: { bytes: number } | null; attachmentFiles: { count: number; bytes: number } | null;
} {
  const roots = manifest.attachments.map((a) => a.attachmentPath);
  const chosen = selectParts(manifest, selection);
  const project = emptyGroup();
  const data = emptyGroup();
  const attachments = emptyGroup();
  for (const e of manifest.entries) {
    if (!chosen(e)) continue;
    const { part } = partOf(e, roots);
    if (part === "structure") add(project, e);
    else if (part === "dataFile") add(data, e);
    else if (part === "attachment") add(attachments, e);
  }
  return {
    projectFiles: project.files ? { count: project.files, bytes: project.bytes } : null,
    dataFile: data.files ? { bytes: data.bytes } : null,
    attachmentFiles: attachments.files ? { count: attachments.files, bytes: attachments.bytes } : null,
  };
}
