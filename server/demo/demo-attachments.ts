// The demo's attachments, kept OUTSIDE the database folder (docs/database-folder.md): text that compresses well, "photos" and a
// "PDF" that don't, and a sub-folder, about 1.7 MB in all. Paths are relative to the attachments folder.
import { seededRandom } from "./demo-random";

export const DEMO_ATTACHMENTS_FOLDER = "demo-attachments";

export function demoAttachmentFiles(): Record<string, string | Buffer> {
  const rnd = seededRandom(7);
  const regions = ["North", "South", "East", "West", "Central"];
  const sales = ["date,region,sku,quantity,amount_eur"];
  for (let i = 0; i < 6000; i++) {
    const date = new Date(Date.UTC(2024, 0, 1) + rnd.int(0, 364) * 86_400_000).toISOString().slice(0, 10);
    sales.push(`${date},${rnd.pick(regions)},FUR-${1000 + rnd.int(0, 119)},${rnd.int(1, 20)},${(rnd.int(900, 90000) / 100).toFixed(2)}`);
  }
  const suppliers = Array.from({ length: 300 }, (_, i) => ({
    id: i + 1,
    name: `Supplier ${String.fromCharCode(65 + (i % 26))}${i}`,
    leadTimeDays: rnd.int(2, 30),
    rating: rnd.int(1, 5),
    contact: { email: `orders${i}@supplier.example`, phone: `+33 1 ${rnd.int(10, 99)} ${rnd.int(10, 99)} ${rnd.int(10, 99)} ${rnd.int(10, 99)}` },
  }));
  // Real signatures in front of noise, so tools see the type while the content stays incompressible.
  const png = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), rnd.bytes(48_000)]);
  const pdf = Buffer.concat([Buffer.from("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "latin1"), rnd.bytes(420_000), Buffer.from("\n%%EOF\n")]);
  const jpeg = (size: number) => Buffer.concat([Buffer.from("ffd8ffe000104a464946", "hex"), rnd.bytes(size), Buffer.from("ffd9", "hex")]);
  return {
    "README.txt":
      "Files attached to the Strongbox demo database.\n\n" +
      "They live outside the database folder and are listed in Settings/Backup.4DSettings under\n" +
      "General/IncludesFiles, so every backup saves them under Attachments/ in the archive.\n",
    "sales-2024.csv": `${sales.join("\n")}\n`,
    "suppliers.json": `${JSON.stringify(suppliers, null, 2)}\n`,
    "meeting-notes.md":
      "# Weekly operations meeting\n\n- Backups run nightly at 02:30; keep the last 3 archives.\n" +
      "- Check the Journal page after each release.\n- Restore drill every quarter: restore to a scratch folder and compare.\n",
    "logo.png": png,
    "contract-signed.pdf": pdf,
    "photos/warehouse-01.jpg": jpeg(380_000),
    "photos/warehouse-02.jpg": jpeg(340_000),
    "photos/showroom.jpg": jpeg(260_000),
  };
}
