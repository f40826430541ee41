import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultSettings } from "./defaults";
import { cleanDatabaseName, destinationProblem, resolveAttachments, resolveDatabaseName, resolveDestination, type AttachmentContext } from "./resolve";

describe("cleanDatabaseName", () => {
  it.each([
    ["Demo", "Demo"],
    ["Sales 2024 v1.2_final-b", "Sales 2024 v1.2_final-b"],
    ["a/b\\c:d", "a_b_c_d"],
    ["Base[0001]", "Base_0001_"],
    ["  Café  ", "Café"],
    ["Cafe\u0301", "Café"], // a decomposed accent from a Mac stays a letter
    ["../../etc/passwd", "_.._etc_passwd"],
    ["...hidden", "hidden"],
    ["", "Database"],
    ["   ", "Database"],
    ["///", "Database"],
    ["..", "Database"],
  ])("%j → %j", (name, cleaned) => {
    expect(cleanDatabaseName(name)).toBe(cleaned);
  });

  it("keeps names short enough to name files", () => {
    expect(cleanDatabaseName("x".repeat(300))).toHaveLength(100);
  });
});

describe("resolveDatabaseName / resolveDestination", () => {
  it("takes the settings' name, else the folder's, cleaned", () => {
    const s = defaultSettings("/b");
    expect(resolveDatabaseName(s, "/srv/My Base:2")).toBe("My Base_2");
    s.databaseName = "Invoices/2024";
    expect(resolveDatabaseName(s, "/srv/whatever")).toBe("Invoices_2024");
    s.databaseName = "  ";
    expect(resolveDatabaseName(s, "/srv/whatever/")).toBe("whatever");
  });

  it("resolves a relative destination from the database folder", () => {
    const s = defaultSettings("/srv/backups");
    expect(resolveDestination(s, "/srv/db")).toBe("/srv/backups");
    s.general.destinationFolder = "./";
    expect(resolveDestination(s, "/srv/db")).toBe("/srv/db");
    s.general.destinationFolder = "../backups/";
    expect(resolveDestination(s, "/srv/db")).toBe("/srv/backups");
  });
});

describe("resolveAttachments", () => {
  let root: string;
  let ctx: AttachmentContext;

  beforeAll(async () => {
    // realpath: macOS's tmpdir is itself behind a symlink.
    root = await realpath(await mkdtemp(path.join(tmpdir(), "strongbox-attach-")));
    const db = path.join(root, "db");
    const home = path.join(root, "home");
    for (const d of ["db/Project/Sources", "db/Settings", "db/Data/Settings", "db/Logs", "home/backups", "home/demo-attachments", "files/contracts"]) {
      await mkdir(path.join(root, d), { recursive: true });
    }
    for (const f of ["db/Data/data.sqlite", "db/Data/data.4DIndx", "home/console.sqlite", "files/a.pdf", "files/contracts/c1.pdf"]) {
      await writeFile(path.join(root, f), "x");
    }
    await symlink(home, path.join(root, "files", "sneaky-home"));
    await symlink(path.join(db, "Project"), path.join(root, "files", "sneaky-project"));
    await symlink("/proc/self", path.join(root, "files", "sneaky-proc"));
    ctx = { databaseDir: db, home, destination: path.join(home, "backups"), dataFile: path.join(db, "Data", "data.sqlite") };
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  const resolveItems = (items: string[]) => {
    const s = defaultSettings(ctx.destination);
    s.general.includesFiles = items;
    return resolveAttachments(s, ctx);
  };

  it("accepts files and folders outside what the backup holds, relative ones from the database folder", async () => {
    const r = await resolveItems([
      "./Data/data.4DIndx", // 4D's own kind of attachment: a file beside the data file
      path.join(root, "files/contracts"),
      path.join(root, "files/a.pdf"),
      path.join(root, "home/demo-attachments"),
      "../files/missing.pdf", // not found is for the backup to report, not a refusal
      "Logs",
    ]);
    expect(r.refused).toEqual([]);
    expect(r.accepted).toEqual([
      path.join(root, "db/Data/data.4DIndx"),
      path.join(root, "files/contracts"),
      path.join(root, "files/a.pdf"),
      path.join(root, "home/demo-attachments"),
      path.join(root, "files/missing.pdf"),
      path.join(root, "db/Logs"),
    ]);
  });

  it.each([
    [".", "is the database folder itself"],
    ["<root>/db/", "is the database folder itself"],
    ["<root>", "contains the database folder"],
    ["/", "is the root folder /"],
    ["./Project", "is the structure folder Project/"],
    ["Project/Sources", "is inside the structure folder Project/"],
    ["./Settings", "is the Settings/ folder"],
    ["Settings/Backup.4DSettings", "is inside the Settings/ folder"],
    ["Data/data.sqlite", "is the data file"],
    ["Data", "contains the data file"],
    ["Data/Settings", "is the data file's Settings/ folder"],
    ["./Data/Settings/x.json", "is inside the data file's Settings/ folder"],
    ["Data/data.sqlite-wal", "part of the live data file"],
    ["Data/data.journal", "is the log file"],
    ["<root>/home", "is STRONGBOX_HOME"],
    ["<root>/home/backups", "is the backup destination"],
    ["<root>/home/console.sqlite", "the server's own files in STRONGBOX_HOME"],
    ["<root>/files/sneaky-home", "is STRONGBOX_HOME"], // a symlink doesn't hide what it points to
    ["<root>/files/sneaky-project/Sources", "is inside the structure folder Project/"],
    ["/proc/self/environ", "is inside /proc, the kernel's view of the running processes"], // the server's secrets
    ["/proc", "is /proc"],
    ["/sys/kernel", "is inside /sys"],
    ["/dev/zero", "is inside /dev"],
    ["<root>/files/sneaky-proc", "is inside /proc"], // a link to /proc/self
    ["  ", "is empty"],
  ])("refuses %s (%s)", async (item, reason) => {
    const r = await resolveItems([item.replace("<root>", root)]);
    expect(r.accepted).toEqual([]);
    expect(r.refused).toHaveLength(1);
    expect(r.refused[0]!.path).toBe(item.replace("<root>", root));
    expect(r.refused[0]!.reason).toContain(reason);
  });

  it("accepts 4D's relative attachments when the destination is the database folder (4D's \"./\")", async () => {
    const s = defaultSettings("./");
    s.general.includesFiles = ["./Data/data.4DIndx", "."];
    const r = await resolveAttachments(s, { ...ctx, destination: ctx.databaseDir });
    expect(r.accepted).toEqual([path.join(root, "db/Data/data.4DIndx")]);
    expect(r.refused.map((x) => x.reason)).toEqual(["is the database folder itself"]);
  });

  it("refuses a folder that contains the destination or the home", async () => {
    const elsewhere = { ...ctx, destination: path.join(root, "files", "contracts", "backups") };
    const s = defaultSettings(elsewhere.destination);
    s.general.includesFiles = [path.join(root, "files")];
    const r = await resolveAttachments(s, elsewhere);
    expect(r.refused[0]!.reason).toContain("contains the backup destination");
    const homeInFiles = { ...ctx, home: path.join(root, "files", "contracts", "home") };
    expect((await resolveAttachments(s, homeInFiles)).refused[0]!.reason).toContain("contains STRONGBOX_HOME");
  });

  it("keeps one of two items naming the same thing, and the outer of nested ones", async () => {
    const r = await resolveItems([
      path.join(root, "files/contracts/c1.pdf"),
      path.join(root, "files/contracts"),
      "../files/contracts/",
    ]);
    expect(r.accepted).toEqual([path.join(root, "files/contracts")]);
    expect(r.refused.map((x) => x.reason)).toEqual([
      `is inside the attachment ${path.join(root, "files/contracts")}, which already saves it`,
      `is listed twice (as ${path.join(root, "files/contracts")})`,
    ]);
  });
});

describe("destinationProblem", () => {
  let root: string;
  let places: { databaseDir: string; home: string };
  beforeAll(async () => {
    root = await realpath(await mkdtemp(path.join(tmpdir(), "strongbox-destination-")));
    for (const d of ["db/Project", "db/Data", "db/Logs", "home/backups", "home/other", "elsewhere/backups"]) await mkdir(path.join(root, d), { recursive: true });
    await symlink(path.join(root, "db/Project"), path.join(root, "elsewhere/sneaky"));
    places = { databaseDir: path.join(root, "db"), home: path.join(root, "home") };
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it.each([
    ["<root>/db", "is the database folder itself"],
    ["<root>/db/Project", "is inside the database folder"], // each archive would hold the previous ones
    ["<root>/db/Data", "is inside the database folder"],
    ["<root>/db/Logs", "is inside the database folder"],
    ["<root>/db/Backups/new", "is inside the database folder"],
    ["<root>/elsewhere/sneaky", "is inside the database folder"], // a link doesn't hide where it leads
    ["<root>", "contains the database folder"],
    ["<root>/home", "is STRONGBOX_HOME"],
    ["/", "is the root of the file system"],
    ["/etc", "is the system folder /etc"],
    ["/etc/strongbox", "is inside the system folder /etc"],
    ["/usr/local/backups", "is inside the system folder /usr"],
    ["/proc/self", "is inside the system folder /proc"],
    ["/var/lib", "is the system folder /var/lib"],
    ["/tmp", "is the top-level folder /tmp"],
    ["/root", "is the top-level folder /root"],
  ])("refuses %s (%s)", async (destination, reason) => {
    expect(await destinationProblem(destination.replace("<root>", root), places)).toContain(reason);
  });

  it.each(["<root>/home/backups", "<root>/home/other", "<root>/elsewhere/backups", "/srv/backups", "/var/lib/strongbox/backups", "/tmp/x/backups"])(
    "accepts %s", async (destination) => {
      expect(await destinationProblem(destination.replace("<root>", root), places)).toBeNull();
    });
});
