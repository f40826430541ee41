// manifest.json at the archive's root (spec §3): enough to verify the archive and to rebuild its history entry.
// It is read back (validated, size-capped) by readArchiveManifest in ../restore/archive-contents.ts.
import type { BackupSettings } from "../settings/model";
import type { AttachmentResult, Trigger } from "../operation";

export const MANIFEST_NAME = "manifest.json";
export const MANIFEST_FORMAT = 1;

export interface ManifestEntry {
  path: string;
  originalPath: string;
  kind: "file" | "symlink" | "directory";
  size: number;
  mtime: string;
  sha256: string;
}

export interface Manifest {
  format: number;
  generator: "strongbox";
  databaseId: string | null;
  databaseName: string;
  backupNumber: number;
  trigger: Trigger;
  scheduledDate: string | null;
  startingDate: string;
  /** When the archive's content was complete (the manifest is its last entry). */
  endingDate: string;
  structurePath: string;
  dataPath: string;
  settings: BackupSettings;
  log: { firstOperation: number | null; lastOperation: number | null };
  attachments: AttachmentResult[];
  entries: ManifestEntry[];
}
