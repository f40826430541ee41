// Text <-> value for each kind of value in Backup.4DSettings, in 4D's own forms. `decode` throws a ValueError
// with a plain-English reason; the file reader adds the key and the line.

export class ValueError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "ValueError";
  }
}

export interface Codec<T> {
  decode(text: string): T;
  encode(value: T): string;
  /** What a valid value looks like, for messages. */
  expected: string;
}

const shown = (text: string) => (text === "" ? "an empty value" : JSON.stringify(text));

export const bool: Codec<boolean> = {
  expected: "True or False",
  decode(text) {
    // 4D writes True/False; hand-edited files sometimes say true/false.
    const t = text.toLowerCase();
    if (t === "true") return true;
    if (t === "false") return false;
    throw new ValueError(`expected True or False, found ${shown(text)}`);
  },
  encode: (v) => (v ? "True" : "False"),
};

export function int(min: number, max: number): Codec<number> {
  const expected = `a whole number from ${min} to ${max}`;
  return {
    expected,
    decode(text) {
      if (!/^[+-]?\d+$/.test(text)) throw new ValueError(`expected ${expected}, found ${shown(text)}`);
      const n = Number(text);
      if (n < min || n > max) throw new ValueError(`expected ${expected}, found ${text}`);
      return n;
    },
    encode: (v) => String(v),
  };
}

export function oneOf<T extends string>(values: readonly T[]): Codec<T> {
  const expected = `one of ${values.join(", ")}`;
  return {
    expected,
    decode(text) {
      // Case-insensitive on read, 4D's spelling on write.
      const found = values.find((v) => v.toLowerCase() === text.toLowerCase());
      if (found === undefined) throw new ValueError(`expected ${expected}, found ${shown(text)}`);
      return found;
    },
    encode: (v) => v,
  };
}

// 4D writes a time as a date-less timestamp: `0000-00-00T02:30:00.000`, sometimes without milliseconds. We also
// take a bare `02:30[:00[.000]]`, and ignore a trailing zone (times are the server's wall-clock time).
const TIME = /^(?:0000-00-00T)?(\d{1,3}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(?:Z|[+-]\d{2}:?\d{2})?$/;

/** A 4D time as seconds (fractional when 4D wrote milliseconds). `maxSeconds` bounds it: a day for a time of day. */
export function time(maxSeconds: number, what: string): Codec<number> {
  const expected = `${what} written as 0000-00-00THH:MM:SS.000`;
  return {
    expected,
    decode(text) {
      const m = TIME.exec(text);
      if (!m) throw new ValueError(`expected ${expected}, found ${shown(text)}`);
      const [h, min, s] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
      const ms = m[4] === undefined ? 0 : Number(m[4].padEnd(3, "0"));
      if (min > 59 || s > 59) throw new ValueError(`expected ${expected}, found ${shown(text)} (minutes and seconds go up to 59)`);
      const total = h * 3600 + min * 60 + s + ms / 1000;
      if (total >= maxSeconds) throw new ValueError(`expected ${expected} below ${formatClock(maxSeconds)}, found ${shown(text)}`);
      return total;
    },
    encode(v) {
      if (!Number.isFinite(v) || v < 0 || v >= maxSeconds) throw new ValueError(`expected ${expected}, found ${v} seconds`);
      return `0000-00-00T${formatClock(v)}`;
    },
  };
}

/** `HH:MM:SS.mmm` (hours may pass 23 for durations). */
function formatClock(seconds: number): string {
  const totalMs = Math.round(seconds * 1000);
  const ms = totalMs % 1000;
  const s = Math.floor(totalMs / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}.${pad(ms, 3)}`;
}

export const text: Codec<string> = { expected: "text", decode: (t) => t, encode: (v) => v };

/** Scheduler/Anchor: an ISO calendar date, empty for "never saved". */
export const isoDateOrNull: Codec<string | null> = {
  expected: "a date written as YYYY-MM-DD",
  decode(text) {
    if (text === "") return null;
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
    if (!m || !d || d.toISOString().slice(0, 10) !== text) {
      throw new ValueError(`expected a date written as YYYY-MM-DD, found ${shown(text)}`);
    }
    return text;
  },
  encode: (v) => v ?? "",
};

/** Scheduler/Cron: five fields; what each field means is the scheduler's business. */
export const cron: Codec<string> = {
  expected: "a cron expression of 5 fields (minute hour day month weekday)",
  decode(text) {
    const t = text.trim().replace(/\s+/g, " ");
    if (t !== "" && t.split(" ").length !== 5) {
      throw new ValueError(`expected a cron expression of 5 fields (minute hour day month weekday), found ${shown(text)}`);
    }
    return t;
  },
  encode: (v) => v,
};
