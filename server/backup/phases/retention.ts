// Retention after the commit, "keep only the last X backup files" (docs/operations.md#retention): the oldest
// archives beyond X and the log backups numbered below the oldest kept archive are deleted. A problem is a
// warning in the journal; the backup stays a success.
import { applyRetention } from "../../archive/names";
import type { ResolvedContext } from "../../operations/database-context";
import type { TaskContext } from "../../operations/task";

/** Returns the oldest kept archive's number (the history is pruned to it), or null when nothing was pruned. */
export async function applyKeepLast(ctx: TaskContext, settings: ResolvedContext): Promise<number | null> {
  const { enable, value } = settings.settings.advanced.setNumber;
  if (!enable) return null;
  ctx.progress.phase("retention", 99);
  try {
    const { deleted, oldestKept } = await applyRetention(settings.destination, settings.databaseName, value);
    for (const d of deleted) ctx.record.notes.push(`Deleted (keep only the last ${value}): ${d}`);
    return oldestKept;
  } catch (err) {
    ctx.record.notes.push(`Warning: old backups could not all be deleted (keep only the last ${value}): ${(err as Error).message}`);
    return null;
  }
}
