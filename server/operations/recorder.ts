// Writes what an operation was: its entry in backupHistory.json (when it has one) and its block in the backup
// journal. Used by the runner when an operation ends, and for the records of attempts that never took the slot (a
// postponed or skipped automatic backup, one missed while the server was down, crash recovery's records).
import { toHistoryEntry, type HistoryEntry } from "../history/backup-history";
import { formatBlock } from "../journal/backup-journal";
import type { OperationRecord } from "../operation";
import type { DatabaseContext, ResolvedContext } from "./database-context";

export interface HistoryTarget {
  /** The settings the history's place (the destination) and key come from. */
  ctx: ResolvedContext;
  /** Retention's oldest kept archive: older entries are pruned with this append. */
  oldestKeptNumber?: number | null;
  /** The entry as written, when it differs from the record's (an automatic restore is a `restore` there). */
  entry?: HistoryEntry;
}

export interface RecordOptions {
  /** BackupJournalVerboseMode. */
  verbose: boolean;
  /** Where the history entry goes; null: the record has none (a postponed attempt, a verification…). */
  history: HistoryTarget | null;
  /** false: no journal block. */
  journal?: boolean;
  /** Called once the history entry is on disk. */
  onHistoryWritten?: () => void;
  /**
   * true: a file that can't be written is an error for the caller (crash recovery then tries again at the next
   * start). false: the operation is over whatever happens: a history problem becomes a warning line in the journal
   * block, a journal problem a line on the server's output.
   */
  strict?: boolean;
}

export class OperationRecorder {
  constructor(private readonly db: DatabaseContext) {}

  async write(record: OperationRecord, opts: RecordOptions): Promise<{ historyWritten: boolean }> {
    let historyWritten = false;
    if (opts.history) {
      const { ctx, oldestKeptNumber = null, entry = toHistoryEntry(record) } = opts.history;
      try {
        await this.db.history(ctx).append(entry, { oldestKeptNumber });
        historyWritten = true;
        opts.onHistoryWritten?.();
      } catch (err) {
        if (opts.strict) throw err;
        record.notes.push(`Warning: backupHistory.json could not be written: ${(err as Error).message}`);
      }
    }
    if (opts.journal === false) return { historyWritten };
    try {
      await this.db.journal.append(formatBlock(record, { verbose: opts.verbose }));
    } catch (err) {
      if (opts.strict) throw err;
      console.error(`[strongbox] the backup journal could not be written: ${(err as Error).message}`);
    }
    return { historyWritten };
  }
}
