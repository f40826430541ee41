// The demo's structure: a 4D-style project (methods, classes, forms, catalog) for the invoicing data, so the
// structure part of a backup has real-looking files to save. Paths are relative to the database folder.

const method = (body: string) => `//%attributes = {"lang":"en"}\n${body.trim()}\n`;

const METHODS: Record<string, string> = {
  INV_NewInvoice: `
// INV_NewInvoice (customerID) -> invoice entity
// Creates a draft invoice for a customer, numbered in sequence for the current year.
#DECLARE($customerID : Integer)->$invoice : cs.InvoicesEntity
var $year : Text
$year:=String(Year of(Current date))
$invoice:=ds.Invoices.new()
$invoice.customerID:=$customerID
$invoice.issuedOn:=Current date
$invoice.dueOn:=Add to date(Current date; 0; 0; 30)
$invoice.status:="draft"
$invoice.number:="INV-"+$year+"-"+String(INV_NextNumber($year); "00000")
$invoice.totalCents:=0
$invoice.save()`,
  INV_NextNumber: `
// INV_NextNumber (year) -> next free invoice number of that year
#DECLARE($year : Text)->$next : Integer
var $last : cs.InvoicesSelection
$last:=ds.Invoices.query("number = :1"; "INV-"+$year+"-@").orderBy("number desc")
If ($last.length=0)
\t$next:=1
Else
\t$next:=Num(Substring($last.first().number; 10))+1
End if`,
  INV_AddLine: `
// INV_AddLine (invoice; productID; quantity)
// Adds a line at the product's current price and updates the invoice total.
#DECLARE($invoice : cs.InvoicesEntity; $productID : Integer; $quantity : Integer)
var $product : cs.ProductsEntity
var $line : cs.Invoice_linesEntity
$product:=ds.Products.get($productID)
ASSERT($product#Null; "Unknown product "+String($productID))
$line:=ds.Invoice_lines.new()
$line.invoiceID:=$invoice.ID
$line.productID:=$productID
$line.quantity:=$quantity
$line.unitPriceCents:=$product.unitPriceCents
$line.lineTotalCents:=$quantity*$product.unitPriceCents
$line.save()
$invoice.totalCents:=$invoice.totalCents+$line.lineTotalCents
$invoice.save()`,
  INV_MarkOverdue: `
// INV_MarkOverdue
// Run every morning by the scheduler worker: sent invoices past their due date become overdue.
var $late : cs.InvoicesSelection
var $invoice : cs.InvoicesEntity
$late:=ds.Invoices.query("status = :1 and dueOn < :2"; "sent"; Current date)
For each ($invoice; $late)
\t$invoice.status:="overdue"
\t$invoice.save()
End for each`,
  INV_PrintInvoice: `
// INV_PrintInvoice (invoice)
#DECLARE($invoice : cs.InvoicesEntity)
var $printSettings : Object
$printSettings:=New object("orientation"; "portrait"; "paper"; "A4")
FORM LOAD("InvoicePrint")
Print form("InvoicePrint")
FORM UNLOAD`,
  CUS_Find: `
// CUS_Find (text) -> customers whose name, company or email contains the text
#DECLARE($text : Text)->$found : cs.CustomersSelection
$found:=ds.Customers.query("name = :1 or company = :1 or email = :1"; "@"+$text+"@")`,
  CUS_Merge: `
// CUS_Merge (keepID; dropID)
// Moves every invoice of a duplicate customer to the customer kept, then drops the duplicate.
#DECLARE($keepID : Integer; $dropID : Integer)
var $invoice : cs.InvoicesEntity
START TRANSACTION
For each ($invoice; ds.Invoices.query("customerID = :1"; $dropID))
\t$invoice.customerID:=$keepID
\t$invoice.save()
End for each
ds.Customers.get($dropID).drop()
VALIDATE TRANSACTION`,
  CUS_ExportCSV: `
// CUS_ExportCSV (path)
#DECLARE($path : Text)
var $csv : Text
var $customer : cs.CustomersEntity
$csv:="id;name;company;email;city;country"+Char(Line feed)
For each ($customer; ds.Customers.all().orderBy("name"))
\t$csv:=$csv+String($customer.ID)+";"+$customer.name+";"+$customer.company+";"+$customer.email+";"+$customer.city+";"+$customer.country+Char(Line feed)
End for each
TEXT TO DOCUMENT($path; $csv; "UTF-8")`,
  PRD_Restock: `
// PRD_Restock (productID; quantity)
#DECLARE($productID : Integer; $quantity : Integer)
var $product : cs.ProductsEntity
$product:=ds.Products.get($productID)
$product.stock:=$product.stock+$quantity
$product.save()`,
  PRD_LowStockReport: `
// PRD_LowStockReport -> products under their reorder threshold
#DECLARE()->$report : Collection
$report:=ds.Products.query("stock < :1"; 20).orderBy("stock").toCollection("sku, name, stock")`,
  UTIL_FormatMoney: `
// UTIL_FormatMoney (cents) -> "1 234,50 €"
#DECLARE($cents : Integer)->$text : Text
$text:=String($cents/100; "### ### ##0,00")+" €"`,
  UTIL_Log: `
// UTIL_Log (message)
#DECLARE($message : Text)
LOG EVENT(Into 4D debug message; Timestamp+" "+$message)`,
};

const CLASSES: Record<string, string> = {
  InvoicesEntity: `
Class extends Entity

Function get balanceText() : Text
\treturn UTIL_FormatMoney(This.totalCents)

Function isLate() : Boolean
\treturn (This.status#"paid") & (This.dueOn<Current date)`,
  CustomersEntity: `
Class extends Entity

Function get displayName() : Text
\treturn (This.company#"") ? This.company+" ("+This.name+")" : This.name`,
  ProductsEntity: `
Class extends Entity

Function get priceText() : Text
\treturn UTIL_FormatMoney(This.unitPriceCents)`,
  DataStore: `
Class extends DataStoreImplementation

exposed Function revenueOf($year : Integer) : Integer
\treturn This.Invoices.query("status = :1 and issuedOn >= :2 and issuedOn <= :3"; "paid"; Date(String($year)+"-01-01"); Date(String($year)+"-12-31")).sum("totalCents")`,
};

const FORMS = ["CustomerList", "CustomerDetail", "InvoiceEditor", "InvoicePrint", "ProductCatalog"];

function form(name: string): string {
  return `${JSON.stringify(
    {
      $4d: { version: "1", kind: "form" },
      windowTitle: name.replace(/([a-z])([A-Z])/g, "$1 $2"),
      destination: name === "InvoicePrint" ? "printer" : "detailScreen",
      width: 720,
      height: 480,
      pages: [
        null,
        {
          objects: {
            Title: { type: "text", text: name, top: 16, left: 20, width: 400, height: 24, fontWeight: "bold" },
            List: { type: "listbox", top: 56, left: 20, width: 680, height: 360, dataSource: "Form.items" },
            OK: { type: "button", text: "OK", top: 432, left: 600, width: 100, height: 28, action: "accept" },
          },
        },
      ],
      method: "method.4dm",
    },
    null,
    "\t",
  )}\n`;
}

const CATALOG = `<?xml version="1.0" encoding="UTF-8"?>
<base_catalog name="Demo" uuid="5D1E6A0B7C3F4E2A9B8D1C0F2E3A4B5C" collation_locale="en">
\t<table name="Customers" id="1"><field name="ID" type="4" primary_key="true"/><field name="name" type="10"/><field name="company" type="10"/><field name="email" type="10"/><field name="phone" type="10"/><field name="city" type="10"/><field name="country" type="10"/></table>
\t<table name="Products" id="2"><field name="ID" type="4" primary_key="true"/><field name="sku" type="10" unique="true"/><field name="name" type="10"/><field name="category" type="10"/><field name="unitPriceCents" type="4"/><field name="stock" type="4"/></table>
\t<table name="Invoices" id="3"><field name="ID" type="4" primary_key="true"/><field name="number" type="10" unique="true"/><field name="customerID" type="4"/><field name="issuedOn" type="8"/><field name="dueOn" type="8"/><field name="status" type="10"/><field name="totalCents" type="4"/></table>
\t<table name="Invoice_lines" id="4"><field name="ID" type="4" primary_key="true"/><field name="invoiceID" type="4"/><field name="productID" type="4"/><field name="quantity" type="4"/><field name="unitPriceCents" type="4"/><field name="lineTotalCents" type="4"/></table>
</base_catalog>
`;

// Example hooks (docs/operations.md#hooks), kept in a sub-folder with an extra extension so that they never run: the engine runs
// only Project/Sources/DatabaseMethods/onBackupStartup[.js|.mjs] and onBackupShutdown[.js|.mjs].
const HOOK_EXAMPLES: Record<string, string> = {
  "onBackupStartup.mjs.example": `
// Example On Backup Startup hook. Inactive: to use it, copy it to ../onBackupStartup.mjs
// (Project/Sources/DatabaseMethods/onBackupStartup.mjs).
// It runs with Node before every backup, in the database folder, with the backup's context in environment
// variables. What it prints goes into the backup journal (verbose mode). Exit code 0 lets the backup go on;
// any other code cancels it and becomes the backup's status. It is stopped after 60 s (status 1409).
import { existsSync } from "node:fs";
import path from "node:path";

const { STRONGBOX_BACKUP_NUMBER, STRONGBOX_TRIGGER, STRONGBOX_DATABASE = ".", STRONGBOX_DESTINATION } = process.env;
console.log(\`Backup #\${STRONGBOX_BACKUP_NUMBER} (\${STRONGBOX_TRIGGER}) of \${STRONGBOX_DATABASE} to \${STRONGBOX_DESTINATION}\`);

// No backup during maintenance: the last line printed is given as the reason.
if (existsSync(path.join(STRONGBOX_DATABASE, "maintenance.lock"))) {
  console.log("maintenance.lock is present: no backup during maintenance");
  process.exit(3);
}`,
  "onBackupShutdown.mjs.example": `
// Example On Backup Shutdown hook. Inactive: to use it, copy it to ../onBackupShutdown.mjs
// (Project/Sources/DatabaseMethods/onBackupShutdown.mjs).
// It runs with Node after every backup, whatever its outcome, with the same variables as On Backup Startup
// plus the final status. What it prints goes into the backup journal (verbose mode); its exit code is only
// recorded: it cannot change the backup.
const { STRONGBOX_BACKUP_NUMBER, STRONGBOX_STATUS, STRONGBOX_STATUS_TEXT, STRONGBOX_ARCHIVE } = process.env;

if (STRONGBOX_STATUS === "0") {
  console.log(\`Backup #\${STRONGBOX_BACKUP_NUMBER} saved to \${STRONGBOX_ARCHIVE}\`);
  // Copy the archive off-site here, for instance.
} else {
  console.log(\`Backup #\${STRONGBOX_BACKUP_NUMBER} ended with status \${STRONGBOX_STATUS}: \${STRONGBOX_STATUS_TEXT}\`);
  if (STRONGBOX_ARCHIVE) console.log(\`A partial archive was kept: \${STRONGBOX_ARCHIVE}\`);
}`,
};

/** Every project file of the demo, by path relative to the database folder. */
export function demoProjectFiles(name: string): Record<string, string> {
  const files: Record<string, string> = {
    [`Project/${name}.4DProject`]: `${JSON.stringify({ $comment: "Strongbox demo project", version: "1", compatibilityVersion: 1900 }, null, "\t")}\n`,
    "Project/Sources/catalog.4DCatalog": CATALOG,
    "Project/Sources/folders.json": `${JSON.stringify({ Invoicing: { methods: Object.keys(METHODS).filter((m) => m.startsWith("INV_")) }, Customers: { methods: Object.keys(METHODS).filter((m) => m.startsWith("CUS_")) } }, null, "\t")}\n`,
    "Project/Sources/menus.json": `${JSON.stringify({ MainBar: { items: [{ title: "File", items: ["Quit"] }, { title: "Invoices", items: ["New invoice", "Overdue invoices"] }, { title: "Customers", items: ["Find…", "Export…"] }] } }, null, "\t")}\n`,
    "Project/Sources/DatabaseMethods/onStartup.4dm": method(`
// On Startup: open the main window and start the nightly overdue check.
UTIL_Log("Demo started")
CALL WORKER("Maintenance"; "INV_MarkOverdue")
FORM LOAD("CustomerList")`),
    "Project/Sources/DatabaseMethods/onExit.4dm": method(`
// On Exit
UTIL_Log("Demo closed")`),
  };
  for (const [h, body] of Object.entries(HOOK_EXAMPLES)) files[`Project/Sources/DatabaseMethods/examples/${h}`] = `${body.trim()}\n`;
  for (const [m, body] of Object.entries(METHODS)) files[`Project/Sources/Methods/${m}.4dm`] = method(body);
  for (const [c, body] of Object.entries(CLASSES)) files[`Project/Sources/Classes/${c}.4dm`] = `${body.trim()}\n`;
  for (const f of FORMS) {
    files[`Project/Sources/Forms/${f}/form.4DForm`] = form(f);
    files[`Project/Sources/Forms/${f}/method.4dm`] = method(`
// ${f} form method
Case of
\t: (Form event code=On Load)
\t\tForm.items:=New collection
\t: (Form event code=On Unload)
\t\tUTIL_Log("${f} closed")
End case`);
  }
  return files;
}
