// Lists what a backup holds (docs/archive.md): the structure (Project/, Settings/), the data file's settings
// (Data/Settings/), and the attachments under Attachments/<absolute path>. Symbolic links are recorded as links,
// never followed; other special files (sockets, FIFOs) are skipped.
import fs from "node:fs/promises";
import path from "node:path";
import type { AttachmentResult } from "../operation";

export interface CollectedEntry {
  /** Path inside the archive, with forward slashes. */
  name: string;
  /** Absolute path on the server. */
  originalPath: string;
  kind: "file" | "symlink" | "directory";
  size: number;
  mtime: Date;
  mode: number;
  /** For symlinks: the link's target, as written. */
  target?: string;
}

export interface Collected {
  structure: CollectedEntry[];
  dataSettings: CollectedEntry[];
  attachments: CollectedEntry[];
  attachmentResults: AttachmentResult[];
}

const toPosix = (p: string) => p.split(path.sep).join("/");

/** Walks `root` (file, folder or link) and names every entry `prefix` + its path relative to `root`. */
export async function walk(root: string, prefix: string, out: CollectedEntry[] = []): Promise<CollectedEntry[]> {
  const st = await fs.lstat(root);
  const name = prefix.replace(/\/+$/, "");
  if (st.isSymbolicLink()) {
    out.push({ name, originalPath: root, kind: "symlink", size: 0, mtime: st.mtime, mode: st.mode, target: await fs.readlink(root) });
  } else if (st.isFile()) {
    out.push({ name, originalPath: root, kind: "file", size: st.size, mtime: st.mtime, mode: st.mode });
  } else if (st.isDirectory()) {
    const children = (await fs.readdir(root)).sort();
    // An empty folder is kept as a folder entry so that a restore brings it back.
    if (children.length === 0) {
      out.push({ name: name + "/", originalPath: root, kind: "directory", size: 0, mtime: st.mtime, mode: st.mode });
    }
    for (const child of children) await walk(path.join(root, child), `${name}/${child}`, out);
  }
  return out;
}

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(() => true, () => false);
}

export interface CollectInput {
  databaseDir: string;
  includeStructure: boolean;
  includeData: boolean;
  /** Absolute, already validated (docs/database-folder.md's refused places are filtered out before). */
  attachments: string[];
}

export async function collect(input: CollectInput): Promise<Collected> {
  const result: Collected = { structure: [], dataSettings: [], attachments: [], attachmentResults: [] };
  if (input.includeStructure) {
    for (const dir of ["Project", "Settings"]) {
      const p = path.join(/*turbopackIgnore: true*/ input.databaseDir, dir);
      if (await exists(p)) await walk(p, dir, result.structure);
    }
  }
  if (input.includeData) {
    const p = path.join(input.databaseDir, "Data", "Settings");
    if (await exists(p)) await walk(p, "Data/Settings", result.dataSettings);
  }
  for (const attachment of input.attachments) {
    const found = await exists(attachment);
    result.attachmentResults.push({ attachmentPath: attachment, found });
    if (found) await walk(attachment, "Attachments/" + toPosix(attachment).replace(/^\/+/, ""), result.attachments);
  }
  return result;
}
