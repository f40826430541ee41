// What the phases of one backup share: the request, the options it runs with, and how far it got.
import type { Trigger } from "../isomorphic/operation-kinds";
import type { Release } from "../locks/backup-locks";
import type { CurrentLog } from "../log/current-log";
import type { ResolvedContext } from "../operations/database-context";
import type { CheckedDestination } from "./destination";

export interface BackupRequest {
  trigger: Trigger;
  /** The scheduled time an automatic backup was started for. */
  scheduledDate?: Date | null;
}

export interface BackupOptions {
  /** The log file the data API appends to; absent (tests of the archive alone): no log backups are made. */
  log?: CurrentLog | null;
  /** Test-only: caps the archive phase's reading speed so that a person-speed Stop lands mid-backup. */
  throttleBytesPerSecond?: number | null;
  /** How long a hook may run (60 s by default). */
  hookTimeoutMs?: number;
  /** How long the snapshot waits for writes already running to end before 1405. */
  drainTimeoutMs?: number;
  /** Test-only: runs once the snapshot's point is pinned and the lock let go, before the copy. */
  beforeSnapshotCopy?: () => Promise<void>;
}

/** How far a backup got: what the explanation of its failure and the On Backup Shutdown hook need to know. */
export interface BackupProgress {
  settings: ResolvedContext | null;
  /** The destination as checked at the start (its identity, to tell whether it disappeared). */
  destination: CheckedDestination | null;
  /** The temporary archive, once the writer creates it. */
  writing: string | null;
}

/** What the startup phase settled, for the phases after it. */
export interface Started {
  settings: ResolvedContext;
  number: number;
  tempArchive: string;
  tempSnapshot: string;
  /** Lets go of the structure lock early, when the structure is not saved. */
  releaseStructure: Release;
}
