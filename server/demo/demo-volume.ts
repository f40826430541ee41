// The volume that makes the demo show the product (issue 12): with the large demo, which `npm start` makes on first
// start, a backup lasts long enough on a small machine to watch the progress bar, press Stop and see a write wait
// (Data page). It adds an activity log to the data file (text, which compresses and so costs the archive time) and,
// to the attachments, monthly sales reports (compressible) and scanned invoices (not compressible: stored as they
// are). Deterministic, like the rest of the demo. The small demo (STRONGBOX_DEMO_SIZE=small: the tests) has none.
import type Database from "better-sqlite3";
import { mkdir, open } from "node:fs/promises";
import path from "node:path";
import type { Random } from "./demo-random";

export type DemoSize = "small" | "large";

/** STRONGBOX_DEMO_SIZE: `large` (the default, for people) or `small` (seconds to make: the tests). */
export function demoSizeFromEnv(value: string | undefined): DemoSize {
  const v = (value ?? "").trim().toLowerCase();
  if (v === "" || v === "large") return "large";
  if (v === "small") return "small";
  throw new Error(`STRONGBOX_DEMO_SIZE is "${value}": it must be "small" or "large" (the default). Fix or unset it.`);
}

/** Called as the demo is made: how far (0–1) and on what, for a progress line in the terminal. */
export type DemoProgress = (fraction: number, what: string) => void;

/** What the large demo adds: rows in the activity log; how many files of how many bytes. */
export interface DemoVolume {
  activityRows: number;
  reports: { files: number; bytes: number };
  scans: { files: number; bytes: number };
}

/** What the large demo adds. Sized for a backup of about 15–20 s on a 2-core machine (see README: demo). */
export const LARGE_DEMO: DemoVolume = {
  activityRows: 2_000_000,
  reports: { files: 110, bytes: 4_000_000 },
  scans: { files: 80, bytes: 2_500_000 },
};

/** Where each part starts and how much of the work it is, for one progress figure (in the order they are made). */
const PARTS = { reports: { from: 0, share: 0.3 }, scans: { from: 0.3, share: 0.15 }, activity: { from: 0.45, share: 0.55 } } as const;

const KINDS = ["invoice.sent", "invoice.paid", "invoice.reminder", "order.shipped", "customer.call", "stock.count"] as const;
const CHANNELS = ["email", "post", "the customer portal", "phone", "EDI"];
const NOTES = [
  "no answer, call again next week", "asked for a copy of the delivery note", "paid in two instalments",
  "delivery to the back entrance", "prefers invoices in English", "discount agreed by the sales manager",
  "goods checked on arrival, no damage", "wants the order split over two deliveries",
];

/**
 * Adds `activity_log` to the demo's data file: who did what with which invoice and customer, in plain sentences
 * (about 130 bytes a row). Runs inside one transaction; `progress` gets 0–1.
 */
export function addActivityLog(db: Database.Database, opts: { rows: number; customers: number; invoices: number; rnd: Random; progress?: (fraction: number) => void }): number {
  const { rows, customers, invoices, rnd } = opts;
  db.exec(`CREATE TABLE activity_log (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, customer_id INTEGER NOT NULL REFERENCES customers(id),
    invoice_id INTEGER REFERENCES invoices(id), kind TEXT NOT NULL, message TEXT NOT NULL
  )`);
  const insert = db.prepare("INSERT INTO activity_log VALUES (?, ?, ?, ?, ?, ?)");
  const start = Date.UTC(2023, 0, 1);
  const step = Math.max(1, Math.floor(rows / 100));
  db.transaction(() => {
    for (let id = 1; id <= rows; id++) {
      const at = new Date(start + Math.floor((id / rows) * 700 * 86_400_000) + rnd.int(0, 3_600_000)).toISOString();
      const customer = rnd.int(1, customers);
      const invoice = rnd.int(1, invoices);
      const kind = rnd.pick(KINDS);
      const ref = `INV-${String(invoice).padStart(5, "0")}`;
      const amount = (rnd.int(1000, 900_000) / 100).toFixed(2);
      const message = kind === "invoice.sent" ? `Invoice ${ref} sent to customer ${customer} by ${rnd.pick(CHANNELS)}; amount ${amount} EUR, due in ${rnd.int(15, 60)} days.`
        : kind === "invoice.paid" ? `Payment of ${amount} EUR received for invoice ${ref} (customer ${customer}); ${rnd.pick(NOTES)}.`
        : kind === "invoice.reminder" ? `Reminder ${rnd.int(1, 3)} for invoice ${ref} sent to customer ${customer}: ${amount} EUR still open; ${rnd.pick(NOTES)}.`
        : kind === "order.shipped" ? `Order for invoice ${ref} shipped to customer ${customer}: ${rnd.int(1, 12)} parcels by carrier ${rnd.int(1, 9)}, ${rnd.pick(NOTES)}.`
        : kind === "customer.call" ? `Call with customer ${customer} about invoice ${ref}: ${rnd.pick(NOTES)}; follow-up by ${rnd.pick(CHANNELS)}.`
        : `Stock count after invoice ${ref}: ${rnd.int(0, 400)} left of item ${rnd.int(1, 120)}; ${rnd.pick(NOTES)}.`;
      insert.run(id, at, customer, invoice, kind, message);
      if (id % step === 0) opts.progress?.(id / rows);
    }
  })();
  return rows;
}

/** Writes `file` from chunks made on demand, so a large file never sits in memory whole. */
async function writeChunks(file: string, chunks: Iterable<Buffer | string>): Promise<void> {
  const fh = await open(file, "wx");
  try {
    for (const c of chunks) await (typeof c === "string" ? fh.write(c) : fh.write(c));
  } finally {
    await fh.close();
  }
}

/** Cents as euros with two decimals, in integers (toFixed on floats is the slow part of making the reports). */
const euros = (cents: number) => `${(cents - (cents % 100)) / 100}.${cents % 100 < 10 ? "0" : ""}${cents % 100}`;

function* salesReport(rnd: Random, month: number, bytes: number): Generator<string> {
  const regions = ["North", "South", "East", "West", "Central"];
  const days = Array.from({ length: 28 }, (_, d) => new Date(Date.UTC(2023, month, 1 + d)).toISOString().slice(0, 10));
  yield "date,region,sku,product,quantity,unit_price_eur,amount_eur,customer,status\n";
  let written = 0;
  let lines: string[] = [];
  while (written < bytes) {
    const quantity = rnd.int(1, 20);
    const price = rnd.int(900, 90_000);
    const line = `${rnd.pick(days)},${rnd.pick(regions)},FUR-${1000 + rnd.int(0, 119)},item ${rnd.int(1, 120)},${quantity},${euros(price)},${euros(quantity * price)},customer ${rnd.int(1, 600)},${rnd.pick(["paid", "sent", "overdue"])}\n`;
    lines.push(line);
    written += line.length;
    if (lines.length === 2000) {
      yield lines.join("");
      lines = [];
    }
  }
  yield lines.join("");
}

function* scan(rnd: Random, bytes: number): Generator<Buffer> {
  // A JPEG's signature in front of noise: tools see an image, the archive stores it as it is.
  yield Buffer.from("ffd8ffe000104a464946", "hex");
  for (let left = bytes; left > 0; left -= 1 << 20) yield rnd.bytes(Math.min(left, 1 << 20));
  yield Buffer.from("ffd9", "hex");
}

/** The large demo's attachments, in `dir` (the attachments folder being made): `reports/` and `scans/`. */
export async function writeLargeAttachments(dir: string, rnd: Random, volume: DemoVolume, progress?: DemoProgress): Promise<void> {
  const { reports, scans } = volume;
  await mkdir(path.join(dir, "reports"), { recursive: true });
  await mkdir(path.join(dir, "scans"), { recursive: true });
  for (let i = 0; i < reports.files; i++) {
    const name = `sales-${2023 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, "0")}.csv`;
    await writeChunks(path.join(dir, "reports", name), salesReport(rnd, i, reports.bytes));
    progress?.(PARTS.reports.from + (PARTS.reports.share * (i + 1)) / reports.files, "sales reports");
  }
  for (let i = 0; i < scans.files; i++) {
    await writeChunks(path.join(dir, "scans", `invoice-${String(i + 1).padStart(4, "0")}.jpg`), scan(rnd, scans.bytes));
    progress?.(PARTS.scans.from + (PARTS.scans.share * (i + 1)) / scans.files, "scanned invoices");
  }
}

/** The activity log's share of the progress figure. */
export const activityProgress = (progress: DemoProgress | undefined) => (f: number) => progress?.(PARTS.activity.from + PARTS.activity.share * f, "activity log");
