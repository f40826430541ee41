// console.sqlite's versioned schema: a file from release 0.1.0 (the committed fixture, made by that release's own
// code) opens with the current code — every row kept, the schema the same as a new file's — and a file a newer
// release wrote is refused and left unchanged.
import Database from "better-sqlite3";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AlertStore } from "../automation/alerts";
import { Users } from "../auth/users";
import { VerificationStore } from "../restore/verification-store";
import { openConsoleDb, SCHEMA_VERSION, type ConsoleDb } from "./console-db";

const FIXTURE = path.join(import.meta.dirname, "../../test/fixtures/console/console-0.1.0.sqlite");

let dir: string;
const open: ConsoleDb[] = [];
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-console-db-")); });
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function openHere(file: string): ConsoleDb {
  const db = openConsoleDb(file);
  open.push(db);
  return db;
}

function copyOfFixture(): string {
  const file = path.join(dir, "console.sqlite");
  fs.copyFileSync(FIXTURE, file);
  fs.chmodSync(file, 0o600);
  return file;
}

/** Every table's columns as SQLite describes them (name, type, not null, default, key), by table name. */
function schemaOf(db: Database.Database): Record<string, unknown[]> {
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>).map((t) => t.name);
  return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info('${t}')`).all()]));
}

function rowsOf(db: Database.Database, tables: string[]): Record<string, unknown[]> {
  return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()]));
}

describe("console.sqlite's schema", () => {
  it("a new file gets every migration: its version is the current one", () => {
    const db = openHere(path.join(dir, "new.sqlite"));
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    expect(Object.keys(schemaOf(db))).toEqual(expect.arrayContaining(["users", "operations", "api_tokens", "alerts", "offsite_uploads"]));
  });

  it("a file from release 0.1.0 opens: every row kept, the schema the same as a new file's, the stores read it", () => {
    const file = copyOfFixture();
    const before = new Database(file, { readonly: true });
    expect(before.pragma("user_version", { simple: true })).toBe(0);
    const tables = Object.keys(schemaOf(before));
    const rows = rowsOf(before, tables);
    before.close();
    expect(Object.values(rows).every((r) => r.length > 0)).toBe(true); // the fixture has a row in every table

    const db = openHere(file);
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    // Rows as they were, apart from the columns added since (at their defaults).
    const after = rowsOf(db, tables);
    for (const t of tables) expect(after[t]!.map((r) => Object.fromEntries(Object.entries(r as object).filter(([k]) => k in (rows[t]![0] as object)))), t).toEqual(rows[t]);
    expect(schemaOf(db)).toEqual(schemaOf(openHere(path.join(dir, "new.sqlite"))));

    expect(new Users(db).list().map((u) => ({ username: u.username, role: u.role, mustChangePassword: u.mustChangePassword })))
      .toEqual([{ username: "admin", role: "admin", mustChangePassword: false }, { username: "olivia", role: "operator", mustChangePassword: false }]);
    expect(new AlertStore(db).open()).toHaveLength(1);
    expect(new VerificationStore(db).schedule().frequency).not.toBe("");
  });

  it("a file the current code made before versions (0, with the columns added since) opens the same", () => {
    const file = copyOfFixture();
    const old = new Database(file);
    old.exec("ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0; ALTER TABLE users ADD COLUMN password_changed_at TEXT");
    old.prepare("UPDATE users SET must_change_password = 1 WHERE username = 'olivia'").run();
    old.close();
    const db = openHere(file);
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    expect(new Users(db).list().find((u) => u.username === "olivia")?.mustChangePassword).toBe(true);
    expect(schemaOf(db)).toEqual(schemaOf(openHere(path.join(dir, "new.sqlite"))));
  });

  it("opening again changes nothing", () => {
    const file = copyOfFixture();
    openHere(file).close();
    open.pop();
    const db = openHere(file);
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
  });

  it("a file a newer release wrote is refused with what to do, and left unchanged", () => {
    const file = copyOfFixture();
    const newer = new Database(file);
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    newer.pragma("journal_mode = DELETE");
    newer.close();
    const bytes = fs.readFileSync(file);
    expect(() => openConsoleDb(file)).toThrow(new RegExp(`written by a newer Strongbox \\(console schema version ${SCHEMA_VERSION + 1}; this one knows up to ${SCHEMA_VERSION}\\).*not changed`));
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
  });
});
