// Counts in words, for the server's messages and the console's pages alike (no node: imports: the browser uses it).

/** "1 file", "3 files", "0 files": the noun is singular for exactly one. `many` for irregular plurals ("entries"). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
