// The archive size estimate from the last archive's ratio per kind of file, on a real archive written by `zip`:
// already-compressed content (random bytes, as in a JPEG or a PDF) is estimated near its size, text far below it.
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { archiveRatios, estimateArchiveBytes, ROUGH_RATIO } from "./size-estimate";

let dir = "";
afterEach(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

it("estimates each kind of file by what it became in the last archive, and unknown kinds by the rough ratio", async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-estimate-"));
  fs.writeFileSync(path.join(dir, "scan.jpg"), crypto.randomBytes(400_000));
  fs.writeFileSync(path.join(dir, "notes.txt"), "the same line again and again\n".repeat(20_000));
  execFileSync("zip", ["-q", "-6", "last.zip", "scan.jpg", "notes.txt"], { cwd: dir });
  const archive = path.join(dir, "last.zip");
  const ratios = await archiveRatios(archive, fs.statSync(archive).mtimeMs);

  // The next backup: twice as many scans and notes, and a kind the last archive did not hold.
  const next = [{ name: "Attachments/a.jpg", size: 400_000 }, { name: "Attachments/b.JPG", size: 400_000 }, { name: "Attachments/c.txt", size: 600_000 }];
  const jpg = estimateArchiveBytes(next.slice(0, 2), ratios, ROUGH_RATIO.Compact);
  expect(jpg).toBeGreaterThan(0.99 * 800_000); // stored as it is, not halved
  expect(jpg).toBeLessThan(1.01 * 800_000);
  expect(estimateArchiveBytes(next.slice(2), ratios, ROUGH_RATIO.Compact)).toBeLessThan(0.05 * 600_000);
  expect(estimateArchiveBytes([{ name: "Data/data.sqlite", size: 1_000_000 }], ratios, ROUGH_RATIO.Compact)).toBe(420_000);
  // No archive yet: the rough ratio for everything (the old estimate, half the size of random bytes).
  expect(estimateArchiveBytes(next.slice(0, 2), null, ROUGH_RATIO.Fast)).toBe(400_000);
});
