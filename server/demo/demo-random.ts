// A small seeded generator, so the demo database is the same on every machine (tests and screenshots agree).

export interface Random {
  /** In [0, 1). */
  next(): number;
  int(min: number, maxInclusive: number): number;
  pick<T>(items: readonly T[]): T;
  /** `length` bytes of noise: stands in for photos and PDFs, which don't compress. */
  bytes(length: number): Buffer;
}

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  // mulberry32: tiny, fast, and good enough for sample data.
  const next32 = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = () => next32() / 4294967296;
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    bytes(length) {
      const buf = Buffer.alloc(length);
      let i = 0;
      for (; i + 4 <= length; i += 4) buf.writeUInt32LE(next32(), i);
      for (; i < length; i++) buf[i] = next32() & 0xff;
      return buf;
    },
  };
}
