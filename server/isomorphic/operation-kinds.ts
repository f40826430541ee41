// The kinds of recorded operation (a journal block's header, a history entry's `operation`) and of trigger
// (docs/backup-history.md#operations). Isomorphic: the journal page filters and labels by them.

export type OperationKind = "backup" | "restore" | "automaticRestore" | "logIntegration" | "verification" | "postponed";

/** `startup`: the server itself at start, for an automatic restore of a damaged data file. */
export type TriggerKind = "manual" | "scheduler" | "command" | "retry" | "startup";

export interface Trigger {
  kind: TriggerKind;
  /** The user (manual) or the user or token name (command); null for the scheduler. */
  user: string | null;
}
