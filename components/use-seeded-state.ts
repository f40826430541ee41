"use client";
// Form state seeded from a query: the form shows the loaded value until the user edits it; from the first edit on,
// what they typed is theirs, and a query answer arriving later (a slow first load, a refetch) never replaces it.
// After a successful save the form shows what was saved, then follows the query again (its next answer is the
// saved value). No effect copies the query into the state: the value shown is derived while rendering, so there is
// no moment where an answer lands after the user typed and overwrites it.
import { useCallback, useRef, useState } from "react";

interface Own<T> {
  value: T;
  /** true: the user's edit, kept whatever the query says; false: a saved value, shown until the query answers anew. */
  edited: boolean;
  /** The query's answer when this value was set. */
  over: T | undefined;
}

export interface SeededState<T> {
  value: T;
  /** Whether the user changed the value since it was loaded or saved. */
  edited: boolean;
  /** An edit by the user (a value, or a change of the current one). */
  set: (next: T | ((current: T) => T)) => void;
  /** After a successful save: shows `value` until the query brings its next answer, then follows the query again. */
  saved: (value: T) => void;
  /** Drops the user's edits: the form shows the query's answer again. */
  reset: () => void;
}

/** `loaded` is the query's answer (undefined while loading); `empty` is shown until there is one. */
export function useSeededState<T>(loaded: T | undefined, empty: T): SeededState<T> {
  const [own, setOwn] = useState<Own<T> | null>(null);
  // The latest answer, for updates made from event handlers between renders.
  const latest = useRef(loaded);
  latest.current = loaded;
  const shown = (o: Own<T> | null, answer: T | undefined): T => (o && (o.edited || o.over === answer) ? o.value : (answer ?? empty));
  const emptyRef = useRef(empty);
  emptyRef.current = empty;

  const set = useCallback((next: T | ((current: T) => T)) => {
    setOwn((prev) => {
      const answer = latest.current;
      const current = prev && (prev.edited || prev.over === answer) ? prev.value : (answer ?? emptyRef.current);
      const value = typeof next === "function" ? (next as (c: T) => T)(current) : next;
      return { value, edited: true, over: answer };
    });
  }, []);
  const saved = useCallback((value: T) => setOwn({ value, edited: false, over: latest.current }), []);
  const reset = useCallback(() => setOwn(null), []);

  return { value: shown(own, loaded), edited: own?.edited ?? false, set, saved, reset };
}
