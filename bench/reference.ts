// Deterministic reference data set for the benches (spec section 12): a database folder with a
// SQLite data file of >= 250 MiB and a few hundred project files, plus >= 5,000 attachments of mixed
// compressible / incompressible content outside it. Built once; a marker file makes later calls free.
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import Database from "better-sqlite3";

const VERSION = 3; // bump to force a rebuild when the generator changes
const MIN_DATA_BYTES = 250 * 1024 * 1024;
const ATTACHMENTS = 5200;

/** Small fast seeded PRNG (sfc32). */
export class Rng {
  private a: number; private b: number; private c: number; private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9; this.b = 0x243f6a88; this.c = 0xb7e15162; this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo + 1)); }
  pick<T>(arr: readonly T[]): T { return arr[Math.floor(this.next() * arr.length)]!; }
  /** Log-uniform integer in [lo, hi]: many small values, a few large ones. */
  logUniform(lo: number, hi: number): number { return Math.round(Math.exp(Math.log(lo) + this.next() * (Math.log(hi) - Math.log(lo)))); }
}

/** Deterministic incompressible bytes: AES-CTR keystream (fast, seeded). */
function randomBytes(seed: number, size: number): Buffer {
  const key = crypto.createHash("sha256").update(`strongbox-bench-${seed}`).digest();
  const cipher = crypto.createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  return cipher.update(Buffer.alloc(size));
}

const SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "zen", "bar", "cor", "del", "fin", "gra", "hel", "jun", "mar", "nor", "pel", "qua", "ril", "ston", "tur", "ven", "wel", "xan", "yor"];
function makeVocabulary(rng: Rng, n: number): string[] {
  const words = new Set<string>();
  while (words.size < n) {
    let w = "";
    for (let k = rng.int(1, 4); k > 0; k--) w += rng.pick(SYLLABLES);
    words.add(w);
  }
  return [...words];
}

class TextGen {
  readonly vocab: string[];
  readonly first: string[];
  readonly last: string[];
  readonly cities: string[];
  constructor(readonly rng: Rng) {
    this.vocab = makeVocabulary(rng, 3000);
    this.first = makeVocabulary(rng, 200).map(cap);
    this.last = makeVocabulary(rng, 500).map(cap);
    this.cities = makeVocabulary(rng, 150).map(cap);
  }
  // Zipf-ish word choice: common words dominate, like real prose.
  word(): string { const r = this.rng.next(); return this.vocab[Math.floor(r * r * r * this.vocab.length)]!; }
  sentence(min = 4, max = 16): string {
    const n = this.rng.int(min, max);
    const words: string[] = [];
    for (let i = 0; i < n; i++) words.push(this.word());
    return cap(words.join(" ")) + ".";
  }
  paragraph(bytes: number): string {
    let s = "";
    while (s.length < bytes) s += this.sentence() + (this.rng.next() < 0.15 ? "\n" : " ");
    return s.slice(0, bytes);
  }
  name(): string { return `${this.rng.pick(this.first)} ${this.rng.pick(this.last)}`; }
}
function cap(s: string): string { return s.charAt(0).toUpperCase() + s.slice(1); }

function writeFile(p: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
}

function buildProject(root: string, gen: TextGen): void {
  const rng = gen.rng;
  for (let i = 0; i < 220; i++) {
    const lines: string[] = [`// Method m_${i}`, `#DECLARE($param : Text) -> $result : Object`];
    for (let l = rng.int(40, 400); l > 0; l--) {
      const v = gen.word();
      lines.push(rng.next() < 0.3 ? `// ${gen.sentence()}` : `\t$${v}:=ds.${cap(gen.word())}.query("${gen.word()} = :1"; $param).length+${rng.int(0, 999)}`);
    }
    writeFile(path.join(root, "Project/Sources/Methods", `m_${i}.4dm`), lines.join("\n") + "\n");
  }
  for (let i = 0; i < 90; i++) {
    const objects: Record<string, unknown> = {};
    for (let k = rng.int(10, 80); k > 0; k--) {
      objects[`${gen.word()}_${k}`] = { type: rng.pick(["input", "button", "text", "listbox"]), left: rng.int(0, 800), top: rng.int(0, 600), width: rng.int(20, 300), height: rng.int(10, 60), dataSource: `Form.${gen.word()}`, text: gen.sentence(1, 5) };
    }
    writeFile(path.join(root, "Project/Sources/Forms", `Form_${i}`, "form.4DForm"), JSON.stringify({ $4d: { version: "1" }, pages: [{ objects }] }, null, "\t"));
  }
  for (let i = 0; i < 15; i++) writeFile(path.join(root, "Project/Sources/Classes", `C_${i}.4dm`), `Class constructor\n${gen.paragraph(rng.int(1000, 8000))}\n`);
  writeFile(path.join(root, "Project/Sources/catalog.4DCatalog"), `<?xml version="1.0" encoding="UTF-8"?>\n<base_definition>\n${Array.from({ length: 40 }, (_, t) => `\t<table name="T${t}" id="${t + 1}">\n${Array.from({ length: 12 }, (_, f) => `\t\t<field name="${gen.word()}" type="${rng.int(1, 12)}" id="${f + 1}"/>`).join("\n")}\n\t</table>`).join("\n")}\n</base_definition>\n`);
  writeFile(path.join(root, "Project/strongbox.4DProject"), JSON.stringify({ version: "1", name: "Reference" }, null, 2));
  writeFile(path.join(root, "Settings/Backup.4DSettings"), `<?xml version="1.0" encoding="UTF-8"?>\n<Preferences>\n\t<Backup>\n\t\t<Settings>\n\t\t\t<General><Compression>1</Compression></General>\n\t\t</Settings>\n\t</Backup>\n</Preferences>\n`);
  writeFile(path.join(root, "Settings/settings.4DSettings"), `<?xml version="1.0"?>\n<preferences stamp="1"/>\n`);
  writeFile(path.join(root, "Data/Settings/settings.4DSettings"), `<?xml version="1.0"?>\n<preferences stamp="2"><com.4d><server port="19813"/></com.4d></preferences>\n`);
}

function buildData(file: string, gen: TextGen): void {
  const rng = gen.rng;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(file + suffix, { force: true });
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  db.exec(`
    CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, city TEXT, phone TEXT, created TEXT, notes TEXT);
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, ordered TEXT, status TEXT, amount REAL, items TEXT);
    CREATE TABLE documents (id INTEGER PRIMARY KEY, title TEXT, body TEXT, thumbnail BLOB);
    CREATE TABLE events (id INTEGER PRIMARY KEY, ts INTEGER, level TEXT, message TEXT);
    CREATE INDEX orders_customer ON orders(customer_id);
  `);
  const insCustomer = db.prepare("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?)");
  const insOrder = db.prepare("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)");
  const insDoc = db.prepare("INSERT INTO documents VALUES (?, ?, ?, ?)");
  const insEvent = db.prepare("INSERT INTO events VALUES (?, ?, ?, ?)");
  const day = (n: number) => new Date(Date.UTC(2015, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);
  const CUSTOMERS = 60_000;
  db.transaction(() => {
    for (let i = 1; i <= CUSTOMERS; i++) {
      const name = gen.name();
      insCustomer.run(i, name, `${name.replace(" ", ".").toLowerCase()}${i}@example.com`, rng.pick(gen.cities), `+33 ${rng.int(100000000, 999999999)}`, day(rng.int(0, 3000)), rng.next() < 0.4 ? gen.sentence() : null);
    }
  })();
  let order = 0, doc = 0, event = 0;
  // Fill in batches until the file is big enough; mix keeps the compressibility of real data.
  while (fs.statSync(file).size + (fs.existsSync(file + "-wal") ? fs.statSync(file + "-wal").size : 0) < MIN_DATA_BYTES * 1.03) {
    db.transaction(() => {
      for (let k = 0; k < 20_000; k++) {
        const items = Array.from({ length: rng.int(1, 5) }, () => ({ sku: `SKU-${rng.int(1000, 99999)}`, qty: rng.int(1, 20), price: rng.int(100, 99999) / 100 }));
        insOrder.run(++order, rng.int(1, CUSTOMERS), day(rng.int(0, 3600)), rng.pick(["new", "paid", "shipped", "delivered", "cancelled"]), rng.int(100, 999999) / 100, JSON.stringify(items));
        if (k % 10 === 0) insDoc.run(++doc, gen.sentence(2, 8), gen.paragraph(rng.int(500, 6000)), rng.next() < 0.2 ? randomBytes(doc, rng.int(1000, 8000)) : null);
        if (k % 2 === 0) insEvent.run(++event, 1_500_000_000 + event * 37, rng.pick(["info", "info", "info", "warn", "error"]), `${gen.word()} ${gen.sentence(3, 10)} id=${rng.int(1, 1e9)}`);
      }
    })();
    db.pragma("wal_checkpoint(TRUNCATE)");
  }
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
}

function buildAttachments(root: string, gen: TextGen): void {
  const rng = gen.rng;
  for (let i = 0; i < ATTACHMENTS; i++) {
    const dir = path.join(root, `client-${String(i % 60).padStart(2, "0")}`, `year-${2015 + (i % 9)}`);
    // Size classes: mostly small files, some medium, a few large (total ~350-450 MB).
    const r = rng.next();
    const size = r < 0.7 ? rng.logUniform(300, 32_768) : r < 0.98 ? rng.logUniform(32_768, 500_000) : rng.logUniform(600_000, 4_000_000);
    const kind = rng.pick(["txt", "json", "csv", "jpg", "pdf", "jpg", "bin", "txt"] as const);
    let data: Buffer;
    if (kind === "txt") data = Buffer.from(gen.paragraph(size));
    else if (kind === "json") {
      const rows: string[] = [];
      let len = 0;
      while (len < size) { const s = JSON.stringify({ id: rng.int(1, 1e6), name: gen.name(), city: rng.pick(gen.cities), tags: [gen.word(), gen.word()], score: rng.next() }); rows.push(s); len += s.length + 2; }
      data = Buffer.from(`[\n${rows.join(",\n")}\n]`).subarray(0, size);
    } else if (kind === "csv") {
      const rows: string[] = ["id;date;customer;amount;label"];
      let len = 0;
      while (len < size) { const s = `${rng.int(1, 1e7)};2024-${String(rng.int(1, 12)).padStart(2, "0")}-${String(rng.int(1, 28)).padStart(2, "0")};${gen.name()};${(rng.int(1, 1e6) / 100).toFixed(2)};${gen.word()}`; rows.push(s); len += s.length + 1; }
      data = Buffer.from(rows.join("\n")).subarray(0, size);
    } else if (kind === "pdf") {
      // Text objects interleaved with incompressible streams, like a real PDF with images/fonts.
      const parts: Buffer[] = [Buffer.from("%PDF-1.7\n")];
      let len = 9, obj = 0;
      while (len < size) {
        const p = rng.next() < 0.3 ? Buffer.from(`${++obj} 0 obj\n<< /Type /Page /Contents ${obj + 1} 0 R >>\n${gen.paragraph(rng.int(200, 3000))}\nendobj\n`) : randomBytes(i * 1000 + obj++, rng.int(2000, 60000));
        parts.push(p); len += p.length;
      }
      data = Buffer.concat(parts).subarray(0, size);
    } else data = randomBytes(i, size); // jpg / bin: already-compressed content
    writeFile(path.join(dir, `file-${i}.${kind}`), data);
  }
}

export async function ensureReferenceSet(dir = "bench/.cache/reference"): Promise<{ databaseDir: string; attachmentsDir: string }> {
  const root = path.resolve(dir);
  const databaseDir = path.join(root, "database");
  const attachmentsDir = path.join(root, "attachments");
  const marker = path.join(root, `.complete-v${VERSION}`);
  if (fs.existsSync(marker)) return { databaseDir, attachmentsDir };
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  const t0 = Date.now();
  const gen = new TextGen(new Rng(20240611));
  buildProject(databaseDir, gen);
  buildData(path.join(databaseDir, "Data/data.sqlite"), gen);
  buildAttachments(attachmentsDir, gen);
  fs.writeFileSync(marker, new Date().toISOString() + "\n");
  console.error(`reference set built in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${root}`);
  return { databaseDir, attachmentsDir };
}

// `npx tsx bench/reference.ts [dir]` builds the set by itself.
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  ensureReferenceSet(process.argv[2]).then((r) => console.log(JSON.stringify(r)));
}
