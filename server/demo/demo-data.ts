// The demo's data file: a small invoicing application (customers, products, invoices, invoice lines) with a
// few thousand rows of plausible, deterministic content, in WAL mode like every Strongbox data file.
import Database from "better-sqlite3";
import { seededRandom, type Random } from "./demo-random";
import { activityProgress, addActivityLog, LARGE_DEMO, type DemoProgress, type DemoSize, type DemoVolume } from "./demo-volume";

export const DEMO_COUNTS = { customers: 600, products: 120, invoices: 2400 } as const;

const FIRST = ["Anna", "Louis", "Sofia", "Hugo", "Emma", "Jonas", "Clara", "Mateo", "Léa", "Noah", "Inès", "Lukas", "Chloé", "Elias", "Maya", "Oscar", "Nora", "Theo", "Alice", "Samuel", "Julia", "Victor", "Zoé", "Adam", "Marta", "Paul", "Elena", "Felix", "Sara", "Tomás"];
const LAST = ["Martin", "Bernard", "Keller", "Rossi", "García", "Müller", "Dubois", "Novak", "Jansen", "Moreau", "Ferrari", "Schmidt", "Laurent", "Silva", "Fischer", "Lefèvre", "Weber", "Costa", "Girard", "Becker", "Russo", "Fontaine", "Meyer", "Romano", "Petit", "Hoffmann", "Marino", "Roux", "Wagner", "Blanc"];
const COMPANY_SUFFIX = ["SARL", "GmbH", "Ltd", "& Fils", "Consulting", "Studio", "Trading", "Logistics", "Atelier", "Partners", "Group", "S.p.A."];
const PLACES: ReadonlyArray<readonly [string, string, string]> = [
  ["Paris", "France", "+33 1"], ["Lyon", "France", "+33 4"], ["Bordeaux", "France", "+33 5"], ["Berlin", "Germany", "+49 30"],
  ["Munich", "Germany", "+49 89"], ["Milan", "Italy", "+39 02"], ["Turin", "Italy", "+39 011"], ["Madrid", "Spain", "+34 91"],
  ["Valencia", "Spain", "+34 96"], ["Lisbon", "Portugal", "+351 21"], ["Amsterdam", "Netherlands", "+31 20"], ["Brussels", "Belgium", "+32 2"],
  ["Geneva", "Switzerland", "+41 22"], ["Vienna", "Austria", "+43 1"], ["Prague", "Czechia", "+420 2"], ["Montreal", "Canada", "+1 514"],
];
const ADJECTIVES = ["Compact", "Ergonomic", "Heavy-duty", "Classic", "Modular", "Wireless", "Stackable", "Foldable", "Premium", "Eco", "Industrial", "Portable"];
const MATERIALS = ["oak", "steel", "aluminium", "walnut", "bamboo", "recycled plastic", "leather", "glass", "linen", "cast iron"];
const ITEMS: ReadonlyArray<readonly [string, string]> = [
  ["desk", "Furniture"], ["chair", "Furniture"], ["shelf", "Furniture"], ["filing cabinet", "Furniture"], ["lamp", "Lighting"],
  ["floor lamp", "Lighting"], ["monitor stand", "Accessories"], ["cable tray", "Accessories"], ["whiteboard", "Office"],
  ["storage box", "Storage"], ["coat rack", "Furniture"], ["footrest", "Accessories"], ["printer cart", "Office"], ["partition", "Office"],
];
const STATUSES = ["draft", "sent", "paid", "paid", "paid", "overdue"] as const;

const SCHEMA = `
CREATE TABLE customers (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, company TEXT, email TEXT, phone TEXT,
  city TEXT, country TEXT, created_at TEXT NOT NULL, notes TEXT
);
CREATE TABLE products (
  id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE, name TEXT NOT NULL, category TEXT NOT NULL,
  unit_price_cents INTEGER NOT NULL, stock INTEGER NOT NULL, description TEXT
);
CREATE TABLE invoices (
  id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE, customer_id INTEGER NOT NULL REFERENCES customers(id),
  issued_on TEXT NOT NULL, due_on TEXT NOT NULL, status TEXT NOT NULL, total_cents INTEGER NOT NULL
);
CREATE TABLE invoice_lines (
  id INTEGER PRIMARY KEY, invoice_id INTEGER NOT NULL REFERENCES invoices(id),
  product_id INTEGER NOT NULL REFERENCES products(id), quantity INTEGER NOT NULL,
  unit_price_cents INTEGER NOT NULL, line_total_cents INTEGER NOT NULL
);
CREATE INDEX invoices_customer ON invoices(customer_id);
CREATE INDEX invoice_lines_invoice ON invoice_lines(invoice_id);
`;

const ascii = (s: string) => s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z]/g, "");
const day = (offset: number) => new Date(Date.UTC(2023, 0, 1) + offset * 86_400_000).toISOString().slice(0, 10);

function customers(rnd: Random) {
  return Array.from({ length: DEMO_COUNTS.customers }, (_, i) => {
    const first = rnd.pick(FIRST);
    const last = rnd.pick(LAST);
    const [city, country, prefix] = rnd.pick(PLACES);
    const company = rnd.next() < 0.7 ? `${rnd.pick(LAST)} ${rnd.pick(COMPANY_SUFFIX)}` : null;
    const domain = company ? `${ascii(company)}.example` : "mail.example";
    return {
      id: i + 1,
      name: `${first} ${last}`,
      company,
      email: `${ascii(first)}.${ascii(last)}${i}@${domain}`,
      phone: `${prefix} ${rnd.int(10, 99)} ${rnd.int(10, 99)} ${rnd.int(10, 99)} ${rnd.int(10, 99)}`,
      city,
      country,
      created_at: `${day(rnd.int(0, 700))}T${String(rnd.int(8, 18)).padStart(2, "0")}:${String(rnd.int(0, 59)).padStart(2, "0")}:00Z`,
      notes: rnd.next() < 0.2 ? rnd.pick(["Prefers invoices by email.", "Key account since the 2023 trade fair.", "Deliveries to the back entrance.", "Pays by bank transfer at 30 days.", "Ask for the purchasing department."]) : null,
    };
  });
}

function products(rnd: Random) {
  return Array.from({ length: DEMO_COUNTS.products }, (_, i) => {
    const [item, category] = rnd.pick(ITEMS);
    const adjective = rnd.pick(ADJECTIVES);
    const material = rnd.pick(MATERIALS);
    return {
      id: i + 1,
      sku: `${category.slice(0, 3).toUpperCase()}-${String(1000 + i)}`,
      name: `${adjective} ${material} ${item}`,
      category,
      unit_price_cents: rnd.int(9, 900) * 100 + rnd.pick([0, 50, 90, 99]),
      stock: rnd.int(0, 400),
      description: `${adjective} ${item} in ${material}. Ships flat-packed within ${rnd.int(2, 10)} working days; ${rnd.int(1, 5)}-year warranty.`,
    };
  });
}

/**
 * Creates `file` (which must not exist) holding the demo tables; the large demo adds its activity log (see
 * demo-volume.ts). Synchronous: better-sqlite3 is.
 */
export function createDemoDataFile(file: string, opts: { size?: DemoSize; volume?: DemoVolume; progress?: DemoProgress } = {}): { rows: number } {
  const rnd = seededRandom(20240501);
  const db = new Database(file);
  try {
    db.pragma("journal_mode = WAL");
    db.exec(SCHEMA);
    const cs = customers(rnd);
    const ps = products(rnd);
    const insertCustomer = db.prepare("INSERT INTO customers VALUES (@id, @name, @company, @email, @phone, @city, @country, @created_at, @notes)");
    const insertProduct = db.prepare("INSERT INTO products VALUES (@id, @sku, @name, @category, @unit_price_cents, @stock, @description)");
    const insertInvoice = db.prepare("INSERT INTO invoices VALUES (?, ?, ?, ?, ?, ?, ?)");
    const insertLine = db.prepare("INSERT INTO invoice_lines (invoice_id, product_id, quantity, unit_price_cents, line_total_cents) VALUES (?, ?, ?, ?, ?)");
    let rows = 0;
    db.transaction(() => {
      for (const c of cs) insertCustomer.run(c);
      for (const p of ps) insertProduct.run(p);
      rows += cs.length + ps.length;
      for (let id = 1; id <= DEMO_COUNTS.invoices; id++) {
        const issued = Math.floor(((id - 1) * 700) / DEMO_COUNTS.invoices) + rnd.int(0, 3);
        const lines = Array.from({ length: rnd.int(1, 6) }, () => {
          const p = rnd.pick(ps);
          const quantity = rnd.int(1, 12);
          return { product: p.id, quantity, price: p.unit_price_cents };
        });
        const total = lines.reduce((sum, l) => sum + l.quantity * l.price, 0);
        const number = `INV-${day(issued).slice(0, 4)}-${String(id).padStart(5, "0")}`;
        insertInvoice.run(id, number, rnd.int(1, cs.length), day(issued), day(issued + 30), rnd.pick(STATUSES), total);
        for (const l of lines) insertLine.run(id, l.product, l.quantity, l.price, l.quantity * l.price);
        rows += 1 + lines.length;
      }
    })();
    if (opts.size === "large") {
      rows += addActivityLog(db, { rows: (opts.volume ?? LARGE_DEMO).activityRows, customers: cs.length, invoices: DEMO_COUNTS.invoices, rnd, progress: activityProgress(opts.progress) });
    }
    return { rows };
  } finally {
    db.close();
  }
}
