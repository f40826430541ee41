// The log brought into a restored copy of the data file, as both restores do it: the live data file's bookkeeping
// bounds what is integrated (see integrateLogInto), every file read is named in the journal, and the console gets
// one line saying what was integrated.
import fs from "node:fs/promises";
import { bookkeepingOf, type Bookkeeping } from "../data/bookkeeping";
import { DomainError } from "../errors";
import { STATUS } from "../isomorphic/status";
import { integrateLogInto, logPlaces } from "../log/integration";
import type { ResolvedContext } from "../operations/database-context";
import type { TaskContext } from "../operations/task";

/** The live data file's bookkeeping; null when there is no live data file (it went missing). */
export async function liveBookkeeping(dataFile: string): Promise<Bookkeeping | null> {
  if (!(await fs.access(dataFile).then(() => true, () => false))) return null;
  const b = bookkeepingOf(dataFile);
  if (!b) throw new DomainError(STATUS.FOREIGN_LOG_FILE, `${dataFile} has no Strongbox bookkeeping, so no log can be integrated into it.`);
  return b;
}

/** Integrates the log into `dataFile` with progress from `from` to `to` percent; returns the console's line. */
export async function integrateRestored(ctx: TaskContext, settings: ResolvedContext, dataFile: string, [from, to]: [number, number],
  opts: { includeCurrentLog: boolean; upTo?: number | null; mustReach?: Bookkeeping | null; cap?: Bookkeeping | null }): Promise<string> {
  const result = await integrateLogInto({
    dataFile, places: logPlaces(ctx.db.layout, settings), includeCurrentLog: opts.includeCurrentLog, upTo: opts.upTo, mustReach: opts.mustReach,
    cap: opts.cap, signal: ctx.signal,
    onProgress: (done, total) => ctx.progress.update(done === 0
      ? { filesDone: 0, filesTotal: total, bytesDone: 0, bytesTotal: total, currentFile: null }
      : { filesDone: done, bytesDone: done, percent: from + ((to - from) * done) / Math.max(1, total) }, done === 0),
  });
  for (const s of new Set(result.sources)) ctx.record.notes.push(`Log file read : ${s}`);
  return result.firstOperation === null
    ? `No log operation to integrate: the data file is at operation ${result.before.lastOperation}.`
    : `Log integrated: operations ${result.firstOperation} to ${result.lastOperation} (${result.applied}).`;
}
