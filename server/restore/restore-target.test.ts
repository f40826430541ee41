// The restore's destination rules on real folders: refused places (live database, home, data file, system folders,
// through symbolic links too), files, non-empty folders without overwrite, and the default name next to the archive.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireInstanceLock } from "../locks/instance-lock";
import { checkRestoreTarget, defaultRestoreTarget, systemFolderProblem, type ForbiddenPlaces } from "./restore-target";

let root: string;
let forbidden: ForbiddenPlaces;

beforeEach(() => {
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-target-")));
  const databaseDir = path.join(root, "home/database");
  fs.mkdirSync(path.join(databaseDir, "Data"), { recursive: true });
  fs.writeFileSync(path.join(databaseDir, "Data/data.sqlite"), "");
  fs.mkdirSync(path.join(root, "backups"));
  forbidden = { databaseDir, home: path.join(root, "home"), dataFile: path.join(databaseDir, "Data/data.sqlite"), destination: path.join(root, "backups") };
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const check = (target: string, overwrite = false) => checkRestoreTarget({ target, overwrite, forbidden });
const reasonOf = async (target: string, overwrite = false) => {
  const r = await check(target, overwrite);
  return r.ok ? null : r.reason;
};

describe("checkRestoreTarget", () => {
  it("accepts a new folder, and an existing empty one", async () => {
    expect(await check(path.join(root, "restores/new"))).toEqual({ ok: true, target: path.join(root, "restores/new"), exists: false, replaces: false });
    fs.mkdirSync(path.join(root, "empty"));
    expect(await check(path.join(root, "empty"))).toEqual({ ok: true, target: path.join(root, "empty"), exists: true, replaces: false });
  });

  it("requires an absolute path", async () => {
    expect(await reasonOf("restores/x")).toMatch(/absolute path/);
    expect(await reasonOf("")).toMatch(/No destination/);
  });

  it("refuses the live database folder, inside it, and a folder that contains it", async () => {
    expect(await reasonOf(forbidden.databaseDir)).toMatch(/is the live database folder/);
    expect(await reasonOf(path.join(forbidden.databaseDir, "Restored"))).toMatch(/inside the live database folder/);
    expect(await reasonOf(path.join(forbidden.databaseDir, "Data/data.sqlite"))).toMatch(/live data file|live database folder/);
    // root contains home, which contains the database.
    expect(await reasonOf(root, true)).toMatch(/contains the live database folder|contains STRONGBOX_HOME/);
  });

  it("refuses STRONGBOX_HOME and anything inside it", async () => {
    expect(await reasonOf(forbidden.home)).toMatch(/is STRONGBOX_HOME/);
    expect(await reasonOf(path.join(forbidden.home, "restores/x"))).toMatch(/inside STRONGBOX_HOME/);
  });

  it("refuses a data file kept outside the database folder, and its folder", async () => {
    const outside = path.join(root, "elsewhere/data.sqlite");
    fs.mkdirSync(path.dirname(outside));
    fs.writeFileSync(outside, "");
    const r = await checkRestoreTarget({ target: path.join(root, "elsewhere"), overwrite: true, forbidden: { ...forbidden, dataFile: outside } });
    expect(r.ok ? null : r.reason).toMatch(/contains the live data file/);
  });

  it("refuses the backup destination itself but allows a folder inside it", async () => {
    expect(await reasonOf(forbidden.destination!, true)).toMatch(/is the backup destination/);
    expect((await check(path.join(forbidden.destination!, "Demo[0001]"))).ok).toBe(true);
  });

  it("resolves symbolic links before judging", async () => {
    fs.symlinkSync(forbidden.databaseDir, path.join(root, "innocent"));
    expect(await reasonOf(path.join(root, "innocent"))).toMatch(/really .*is the live database folder/);
    expect(await reasonOf(path.join(root, "innocent/sub/x"))).toMatch(/inside the live database folder/);
    fs.symlinkSync(path.join(root, "missing"), path.join(root, "dangling"));
    expect(await reasonOf(path.join(root, "dangling/x"))).toMatch(/leads nowhere/);
  });

  it("refuses an existing file, and a path through a file", async () => {
    fs.writeFileSync(path.join(root, "file.txt"), "x");
    expect(await reasonOf(path.join(root, "file.txt"), true)).toMatch(/is a file, not a folder/);
    expect(await reasonOf(path.join(root, "file.txt/sub"))).toMatch(/file/);
  });

  it("refuses a non-empty folder unless overwriting is confirmed", async () => {
    const full = path.join(root, "full");
    fs.mkdirSync(full);
    fs.writeFileSync(path.join(full, "keep.txt"), "x");
    expect(await reasonOf(full)).toMatch(/is not empty.*confirm overwriting/);
    expect(await check(full, true)).toEqual({ ok: true, target: full, exists: true, replaces: true });
  });

  it("refuses system folders, and follows the documented line for the rest", async () => {
    for (const p of ["/", "/etc", "/etc/strongbox", "/usr/local/restore", "/lib64", "/proc/1", "/var", "/var/lib", "/var/tmp", "/root", "/home", "/tmp"]) {
      expect(await reasonOf(p, true), p).toMatch(/system|root of the file system|top-level/);
    }
    for (const p of ["/var/tmp/restore", "/var/lib/strongbox/restore", "/root/restores", "/home/alice/restore", "/srv/restore"]) {
      expect(systemFolderProblem(p), p).toBeNull();
    }
  });

  it("works without the forbidden places (generic rules only)", async () => {
    expect((await checkRestoreTarget({ target: path.join(forbidden.home, "x"), overwrite: false })).ok).toBe(true);
    expect((await checkRestoreTarget({ target: "/etc", overwrite: true })).ok).toBe(false);
  });
});

describe("defaultRestoreTarget", () => {
  it("names a folder after the archive, next to it, with (2), (3)… when taken", async () => {
    const archive = path.join(root, "backups/Demo[0003].zip");
    fs.writeFileSync(archive, "");
    expect(await defaultRestoreTarget(archive)).toBe(path.join(root, "backups/Demo[0003]"));
    fs.mkdirSync(path.join(root, "backups/Demo[0003]"));
    expect(await defaultRestoreTarget(archive)).toBe(path.join(root, "backups/Demo[0003] (2)"));
    fs.writeFileSync(path.join(root, "backups/Demo[0003] (2)"), "");
    expect(await defaultRestoreTarget(archive)).toBe(path.join(root, "backups/Demo[0003] (3)"));
  });
});

describe("a destination inside STRONGBOX_HOME (the default <home>/backups)", () => {
  it("accepts the default target next to the archive, and still refuses the rest of the home", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-target-home-"));
    try {
      const home = path.join(root, "home");
      const destination = path.join(home, "backups");
      fs.mkdirSync(destination, { recursive: true });
      const forbidden = { databaseDir: path.join(home, "database"), home, dataFile: path.join(home, "database/Data/data.sqlite"), destination };
      const inside = await checkRestoreTarget({ target: path.join(destination, "Demo[0001]"), overwrite: false, forbidden });
      expect(inside.ok).toBe(true);
      const elsewhere = await checkRestoreTarget({ target: path.join(home, "restored"), overwrite: false, forbidden });
      expect(elsewhere).toMatchObject({ ok: false, reason: expect.stringContaining("STRONGBOX_HOME") });
      const db = await checkRestoreTarget({ target: path.join(home, "database", "x"), overwrite: false, forbidden });
      expect(db.ok).toBe(false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("the running application and running servers", () => {
  it("refuses the application's own folder, inside it, and a folder holding it — even with replace", async () => {
    const app = path.join(root, "srv/strongbox-app");
    fs.mkdirSync(path.join(app, "node_modules"), { recursive: true });
    fs.writeFileSync(path.join(app, "package.json"), "{}");
    const withApp = { ...forbidden, appDirs: [app] };
    const reason = async (target: string) => {
      const r = await checkRestoreTarget({ target, overwrite: true, forbidden: withApp });
      return r.ok ? null : r.reason;
    };
    expect(await reason(app)).toMatch(/is the running Strongbox application's folder/);
    expect(await reason(path.join(app, "node_modules"))).toMatch(/inside the running Strongbox application's folder/);
    expect(await reason(path.join(root, "srv"))).toMatch(/contains the running Strongbox application's folder/);
  });

  it("refuses another running server's database folder, inside it, and — replacing — a folder holding one at any depth", async () => {
    const other = path.join(root, "srv/clients/acme/db");
    fs.mkdirSync(path.join(other, "Project"), { recursive: true });
    fs.writeFileSync(path.join(other, "Project/a.txt"), "a");
    const lock = acquireInstanceLock(other); // as the other server holds it
    try {
      expect(await reasonOf(other, true)).toMatch(new RegExp(`is the database folder ${other}, which a running Strongbox server manages`));
      expect(await reasonOf(path.join(other, "Project"), true)).toMatch(/is inside the database folder .* which a running Strongbox server manages/);
      expect(await reasonOf(path.join(other, "Restored"))).toMatch(/is inside the database folder/);
      expect(await reasonOf(path.join(root, "srv"), true)).toMatch(new RegExp(`contains the database folder ${other}, which a running Strongbox server manages`));
      // A folder that merely holds it, without replacing, is not touched: a new folder next to it is fine.
      expect((await check(path.join(root, "srv/clients/restored"))).ok).toBe(true);
    } finally {
      lock.release();
    }
    // Once that server stops, its folder is an ordinary folder.
    expect((await check(path.join(root, "srv"), true)).ok).toBe(true);
    expect((await check(other, true)).ok).toBe(true);
  });
});
