// One home for counts in words: the singular for exactly one, everywhere (pages, journal, sign-in messages).
import { expect, it } from "vitest";
import { plural } from "@/server/isomorphic/plural";

it("says 1 file, 2 files, 0 files, 1 second and 1200 rows", () => {
  expect(plural(1, "file")).toBe("1 file");
  expect(plural(2, "file")).toBe("2 files");
  expect(plural(0, "file")).toBe("0 files");
  expect(plural(1, "second")).toBe("1 second");
  expect(plural(1200, "row")).toBe("1200 rows");
  expect(plural(1200, "row", "rows", (n) => n.toLocaleString("en-US"))).toBe("1,200 rows");
  expect(plural(3, "entry", "entries")).toBe("3 entries");
});
