// Rebuilds this database's history entries from the archives' manifests (docs/backup-history.md: a damaged backupHistory.json
// is kept aside and rebuilt). Archives whose manifest can't be read are skipped: they can't be described.
import { toHistoryEntry, type HistoryEntry } from "../history/backup-history";
import { listArchives } from "./names";
import { recordFromArchive } from "./record-from-archive";

export async function rebuildHistory(destination: string, databaseName: string): Promise<HistoryEntry[]> {
  const out: HistoryEntry[] = [];
  for (const a of await listArchives(destination, databaseName)) {
    try {
      out.push(toHistoryEntry(await recordFromArchive(a.path, { verify: false, note: "Rebuilt from the archive's manifest" })));
    } catch {
      // Not a Strongbox archive, or unreadable: nothing trustworthy to record.
    }
  }
  return out;
}
