// What the Restore page shows of the log: how far a snapshot could be brought forward, and the logged operations a
// rollback can go back to. The last operation per log file is kept between requests (keyed by the file's size and
// modification time): the Restore page asks for it on every archive it shows, and a closed segment or a log backup
// never changes.
import fs from "node:fs/promises";
import { scanLog } from "./read-log";

export interface LoggedOperation { op: number; time: string; user: string | null; kind: string; table: string | null; key: string | number | null }

export class LogSummaries {
  private readonly lastOps = new Map<string, { size: number; mtimeMs: number; databaseId: string; last: number }>();

  /** The highest operation of `databaseId` in the files (and `floor` at least: the snapshot's own last operation). */
  async lastOperation(sources: readonly string[], databaseId: string, floor: number): Promise<number> {
    let last = floor;
    for (const file of sources) last = Math.max(last, await this.lastIn(file, databaseId));
    return last;
  }

  private async lastIn(file: string, databaseId: string): Promise<number> {
    const st = await fs.stat(file);
    const known = this.lastOps.get(file);
    if (known && known.size === st.size && known.mtimeMs === st.mtimeMs && known.databaseId === databaseId) return known.last;
    let last = 0;
    await scanLog(file, { expectDatabaseId: databaseId, allowTornTail: true }, (r) => { last = Math.max(last, r.op); });
    this.lastOps.set(file, { size: st.size, mtimeMs: st.mtimeMs, databaseId, last });
    return last;
  }

  /**
   * One page of the logged operations, newest first; with `search`, only those whose log line holds every word.
   * Read from the files on each request: a whole log's operations are not kept in memory.
   */
  async operations(sources: readonly string[], databaseId: string, page: { offset: number; limit: number; search?: string }): Promise<{ total: number; operations: LoggedOperation[] }> {
    const byOp = new Map<number, LoggedOperation>();
    const words = (page.search ?? "").toLowerCase().split(/\s+/).filter(Boolean);
    for (const s of sources) {
      await scanLog(s, { expectDatabaseId: databaseId, allowTornTail: true }, (r, line) => {
        if (words.length && !words.every((w) => line.toLowerCase().includes(w))) return;
        const w = r as unknown as { table?: string; key?: string | number | boolean | null };
        byOp.set(r.op, { op: r.op, time: r.time, user: r.user, kind: r.kind, table: w.table ?? null,
          key: typeof w.key === "boolean" ? Number(w.key) : (w.key ?? null) });
      });
    }
    const all = [...byOp.values()].sort((a, b) => b.op - a.op);
    return { total: all.length, operations: all.slice(page.offset, page.offset + page.limit) };
  }
}
