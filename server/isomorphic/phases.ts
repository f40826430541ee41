// What runs in the one operation slot, and the phases the progress bar shows (docs/operations.md). Isomorphic: the
// console's pages read them too.

/** The kinds of operation that run one at a time, as the progress bar and a refused start name them. */
export type TaskKind = "backup" | "logIntegration" | "restore" | "restoreInPlace" | "verify";

export type Phase = "startup" | "snapshot" | "archive" | "verify" | "commit" | "logBackup" | "retention" | "restore" | "integrate" | "swap" | "shutdown";

/** Phases a Stop can still cancel; from the commit on, the archive is whole and the backup ends as it is. */
export const STOPPABLE_PHASES: ReadonlySet<Phase> = new Set(["startup", "snapshot", "archive", "verify", "restore", "integrate"]);
