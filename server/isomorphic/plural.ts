// Counts in words, one home for every page and message: "1 file", "2 files", "1 second" (no node: imports: the
// browser uses it too).

/** `n` and its noun: the singular for exactly 1, else the plural (`one` + "s" unless given); `format` writes the number. */
export function plural(n: number, one: string, many = `${one}s`, format: (n: number) => string = String): string {
  return `${format(n)} ${n === 1 ? one : many}`;
}
