"use client";
// The running operation's journal block, from the engine's own state on the tab's one event stream (docs/journal.md, docs/console.md).
// It stays on screen after the operation ends until the journal page that is shown holds the block written for it
// (the stream says "finished" a moment before a refetched page arrives), so the card never blinks out and back.
import { useEffect, useState } from "react";
import type { JournalEntry } from "@/server/journal/journal-reader";
import { parseBlock, type ParsedBlock } from "@/server/isomorphic/journal-block";
import { useEventStream } from "../event-stream";

export interface LiveBlock {
  operationId: string;
  /** The block as it builds up; until the engine has a first line, a bare header. */
  text: string;
  block: ParsedBlock;
  startedAt: string;
}

/** How long an ended operation's card waits for its block (a journal that could not be written never sends one). */
const WAIT_FOR_BLOCK_MS = 15_000;

/**
 * Whether a written block is the one of this operation: the same kind and Starting line as the live block once
 * the engine has rendered one; before that, a start within a second of the operation's (the journal prints whole
 * seconds, and the engine reads its clock for the record a moment after announcing the start).
 */
function isBlockOf(block: ParsedBlock, live: LiveBlock): boolean {
  if (live.block.starting) return block.kind === live.block.kind && block.starting?.text === live.block.starting.text;
  if (!block.starting?.iso) return false;
  const diff = Date.parse(block.starting.iso) - Date.parse(live.startedAt);
  return diff > -1000 && diff < 1000;
}

const HEADERS: Record<string, string> = { backup: "Full Backup", logIntegration: "Log Integration" };

function liveOf(op: { operationId: string; kind: string; journalPreview: string; startedAt: string }): LiveBlock {
  const text = op.journalPreview || `*** ${HEADERS[op.kind] ?? "Full Backup"}`;
  return { operationId: op.operationId, text, block: parseBlock(text), startedAt: op.startedAt };
}

/** The block to show as running above `entries` (the first page of the current file), or null. */
export function useLiveBlock(entries: JournalEntry[] | undefined): LiveBlock | null {
  const { running } = useEventStream();
  const [ended, setEnded] = useState<LiveBlock | null>(null);
  // When the operation ends, its last block becomes `ended` in the same render (state adjusted while rendering,
  // as React documents for values derived from a change): an effect would commit one frame without any card.
  const [previous, setPrevious] = useState(running);
  if (running !== previous) {
    setPrevious(running);
    if (running) {
      if (ended) setEnded(null);
    } else if (previous) setEnded(liveOf(previous));
  }

  const live = running ? liveOf(running) : ended;
  const landed = !!live && !!entries?.some((e) => isBlockOf(e.block, live));

  useEffect(() => {
    if (ended && landed) setEnded(null);
  }, [ended, landed]);
  useEffect(() => {
    if (!ended) return;
    const timer = setTimeout(() => setEnded(null), WAIT_FOR_BLOCK_MS);
    return () => clearTimeout(timer);
  }, [ended]);

  return live && !landed ? live : null;
}
