// The size of the next backup's archive, estimated from what the last archive really did: how much each kind of
// file (by extension: ".sqlite", ".pdf", ".jpg"…) shrank in it. Already-compressed files (images, PDFs, archives)
// are stored nearly as they are, text and databases shrink a lot: one ratio for all would be far off either way.
// A kind the last archive did not hold gets the compression level's rough ratio.
import path from "node:path";
import { listEntries } from "./zip-reader";

/** Rough ratios for a kind of file no earlier archive shows; the real figure depends on the data. */
export const ROUGH_RATIO = { None: 1, Fast: 0.5, Compact: 0.42 } as const;

/** Compressed and uncompressed bytes per kind of file in one archive. */
export type KindRatios = Map<string, { size: number; compressed: number }>;

/** The kind of a file, as far as compression goes: its extension, lower case ("" for none). */
export function kindOf(name: string): string {
  return path.posix.extname(name).toLowerCase();
}

const cache = new Map<string, { mtimeMs: number; ratios: KindRatios }>();

/** What each kind of file became in `archive` (read from its central directory, cached per file version). */
export async function archiveRatios(archive: string, mtimeMs: number): Promise<KindRatios> {
  const hit = cache.get(archive);
  if (hit && hit.mtimeMs === mtimeMs) return hit.ratios;
  const ratios: KindRatios = new Map();
  for (const e of await listEntries(archive)) {
    if (e.kind !== "file" || e.size === 0) continue;
    const k = ratios.get(kindOf(e.name)) ?? { size: 0, compressed: 0 };
    k.size += e.size;
    k.compressed += e.compressedSize;
    ratios.set(kindOf(e.name), k);
  }
  cache.clear(); // one archive is enough: the last one
  cache.set(archive, { mtimeMs, ratios });
  return ratios;
}

/** The estimated archive size of `files` (name and size), from `ratios` when known, else `fallback`. */
export function estimateArchiveBytes(files: Array<{ name: string; size: number }>, ratios: KindRatios | null, fallback: number): number {
  let total = 0;
  for (const f of files) {
    const k = ratios?.get(kindOf(f.name));
    total += f.size * (k && k.size > 0 ? k.compressed / k.size : fallback);
  }
  return Math.round(total);
}
