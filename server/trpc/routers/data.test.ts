// The data router over a real data store: roles per procedure, the contract's shapes, DataErrors and -9976 as
// transport errors, and a client that goes away while its write waits (its request's signal cancels the write).
import Database from "better-sqlite3";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TRPCError } from "@trpc/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dataRouter } from "./data";
import type { Context, Principal } from "../init";
import type { Services } from "../../services";
import type { Role } from "../../auth/roles";
import { DataStore } from "../../data/data-store";
import { createDemoDataFile } from "../../demo/demo-data";
import { BackupLocks } from "../../locks/backup-locks";
import { ServerShutdown } from "../../shutdown";
import { isDomainError } from "../../errors";
import { STATUS } from "../../isomorphic/status";

let dir: string;
let dataFile: string;
let locks: BackupLocks;
let dataStore: DataStore;
let shutdown: ServerShutdown;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-data-router-"));
  dataFile = path.join(dir, "data.sqlite");
  createDemoDataFile(dataFile);
  locks = new BackupLocks();
  dataStore = new DataStore({ dataFile, locks, log: null });
  shutdown = new ServerShutdown();
});

afterEach(async () => {
  await dataStore.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function caller(role: Role, opts: { signal?: AbortSignal; kind?: "user" | "token" } = {}) {
  const user: Principal = { kind: opts.kind ?? "user", id: 1, username: `a-${role}`, role, createdAt: "2026-01-01T00:00:00Z", sessionVersion: 0, mustChangePassword: false };
  const ctx: Context = { user, services: { dataStore, db: { locks }, shutdown } as unknown as Services };
  return dataRouter.createCaller(ctx, { signal: opts.signal });
}

async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string; backupStatus: number | null }> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof TRPCError)) throw err;
    return { code: err.code, message: err.message, backupStatus: isDomainError(err.cause) ? err.cause.status : null };
  }
  throw new Error("expected the call to fail");
}

const cityOf = (id: number) => {
  const db = new Database(dataFile, { readonly: true });
  try {
    return (db.prepare("SELECT city FROM customers WHERE id = ?").get(id) as { city: string } | undefined)?.city;
  } finally {
    db.close();
  }
};
const settle = () => new Promise((r) => setImmediate(r));

describe("dataRouter", () => {
  it("lets viewers read tables, rows and the lock state, with the contract's defaults", async () => {
    const viewer = caller("viewer");
    const { tables } = await viewer.tables();
    expect(tables.map((t) => t.name)).toEqual(["customers", "invoice_lines", "invoices", "products"]);
    const page = await viewer.rows({ table: "customers" });
    expect(page).toMatchObject({ table: "customers", primaryKey: "id", offset: 0, limit: 50, total: 600 });
    expect(page.rows).toHaveLength(50);
    expect(await viewer.rows({ table: "customers", filter: { column: "id", op: "eq", value: 3 } })).toMatchObject({ total: 1, rows: [{ id: 3 }] });
    expect(await viewer.lockState()).toEqual({ data: { held: false, waiting: 0, since: null }, structure: { held: false, waiting: 0, since: null } });
  });

  it("checks roles: row writes need operator, schema changes need admin", async () => {
    expect((await errorOf(caller("viewer").update({ table: "customers", key: 1, values: { city: "X" } }))).code).toBe("FORBIDDEN");
    expect((await errorOf(caller("operator").createTable({ table: "t", columns: [{ name: "a", type: "TEXT" }] }))).code).toBe("FORBIDDEN");
    expect((await errorOf(caller("operator").addColumn({ table: "customers", column: { name: "b", type: "TEXT" } }))).code).toBe("FORBIDDEN");
    const batch = await errorOf(caller("operator", { kind: "token" }).batch({ ops: [
      { kind: "insert", table: "customers", values: { name: "N", created_at: "x" } },
      { kind: "addColumn", table: "customers", column: { name: "b", type: "TEXT" } },
    ] }));
    expect(batch.code).toBe("FORBIDDEN");
    expect(batch.message).toMatch(/admin role; this API token has the role operator/);
    expect((await errorOf(caller("viewer").cancel({ requestId: "r" }))).code).toBe("FORBIDDEN");
    expect(cityOf(1)).not.toBe("X");
    expect(dataStore.lastOperation()).toBe(0);
  });

  it("writes with the contract's answers", async () => {
    const operator = caller("operator");
    const admin = caller("admin");
    expect(await operator.insert({ table: "customers", values: { name: "Ada", created_at: "2026-01-01" } })).toEqual({ operation: 1, key: 601 });
    expect(await operator.update({ table: "customers", key: 601, values: { city: "London" } })).toEqual({ operation: 2 });
    expect(await operator.delete({ table: "customers", key: 601 })).toEqual({ operation: 3 });
    expect(await admin.createTable({ table: "rooms", columns: [{ name: "id", type: "INTEGER", primaryKey: true }] })).toEqual({ operation: 4 });
    expect(await admin.addColumn({ table: "rooms", column: { name: "label", type: "TEXT" } })).toEqual({ operation: 5 });
    expect(await operator.batch({ ops: [{ kind: "insert", table: "rooms", values: { label: "A" } }, { kind: "update", table: "customers", key: 1, values: { city: "B" } }] }))
      .toEqual({ operation: 6, applied: { kind: "batch", ops: [{ kind: "insert", table: "rooms", values: { label: "A" }, key: 1 }, { kind: "update", table: "customers", key: 1, values: { city: "B" } }] } });
  });

  it("turns DataErrors into NOT_FOUND, BAD_REQUEST and CONFLICT with their messages", async () => {
    const operator = caller("operator");
    const missing = await errorOf(operator.update({ table: "customers", key: 99_999, values: { city: "X" } }));
    expect(missing).toMatchObject({ code: "NOT_FOUND", message: expect.stringMatching(/customers.*99999/) });
    expect((await errorOf(operator.update({ table: "customers", key: 1, values: { nope: 1 } }))).code).toBe("BAD_REQUEST");
    expect((await errorOf(operator.insert({ table: "customers", values: { id: 1, name: "Dup", created_at: "x" } }))).code).toBe("CONFLICT");
    expect((await errorOf(caller("viewer").rows({ table: "nope" }))).code).toBe("NOT_FOUND");
    // Names that are not plain identifiers are refused by the input schema before anything runs.
    expect((await errorOf(operator.delete({ table: "customers; DROP TABLE products", key: 1 }))).code).toBe("BAD_REQUEST");
    expect((await errorOf(caller("viewer").rows({ table: "strongbox_bookkeeping" }))).code).toBe("BAD_REQUEST");
    expect((await caller("viewer").tables()).tables).toHaveLength(4);
  });

  it("while the server stops: refuses new writes (503, nothing changed), serves reads, and lets a waiting write finish first", async () => {
    const release = await locks.acquire("data");
    const waiting = caller("operator").update({ table: "customers", key: 1, values: { city: "Accepted before the stop" } });
    await settle();
    shutdown.begin();
    const refused = await errorOf(caller("operator").update({ table: "customers", key: 2, values: { city: "After the stop" } }));
    expect(refused).toEqual({ code: "SERVICE_UNAVAILABLE", message: "The server is shutting down: nothing was changed. Try again once it has restarted.", backupStatus: null });
    expect((await caller("viewer").rows({ table: "customers", filter: { column: "id", op: "eq", value: 2 } })).total).toBe(1);
    // The stop waits for the write that was accepted before it (here, waiting for the lock) before it closes the file.
    let drained = false;
    const done = shutdown.requestsDone().then(() => { drained = true; });
    await settle();
    expect(drained).toBe(false);
    release();
    expect(await waiting).toEqual({ operation: 1 });
    await done;
    expect(cityOf(1)).toBe("Accepted before the stop");
    expect(cityOf(2)).not.toBe("After the stop");
    await dataStore.close();
    expect(await errorOf(caller("operator").update({ table: "customers", key: 2, values: { city: "Closed" } }))).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
  });

  it("makes a write wait for the lock; Cancel gives -9976 as CONFLICT and leaves the row unchanged", async () => {
    const before = cityOf(1);
    const release = await locks.acquire("data");
    const waiting = caller("operator").update({ table: "customers", key: 1, values: { city: "Cancelled" }, requestId: "req-1" });
    await settle();
    expect((await caller("viewer").lockState()).data).toMatchObject({ held: true, waiting: 1 });
    expect(await caller("operator").cancel({ requestId: "req-1" })).toEqual({ cancelled: true });
    const err = await errorOf(waiting);
    expect(err).toMatchObject({ code: "CONFLICT", backupStatus: STATUS.BACKUP_IN_PROGRESS, message: expect.stringMatching(/backup is in progress/) });
    expect(await caller("operator").cancel({ requestId: "req-1" })).toEqual({ cancelled: false });
    // wait: false refuses at once.
    expect(await errorOf(caller("operator").update({ table: "customers", key: 1, values: { city: "No wait" }, wait: false })))
      .toMatchObject({ code: "CONFLICT", backupStatus: STATUS.BACKUP_IN_PROGRESS });
    release();
    await settle();
    expect(cityOf(1)).toBe(before);
  });

  it("cancels a waiting write when its client goes away, and applies one that waited to the end", async () => {
    const release = await locks.acquire("data");
    const gone = new AbortController();
    const abandoned = caller("operator", { signal: gone.signal }).update({ table: "customers", key: 2, values: { city: "Abandoned" } });
    const patient = caller("operator").update({ table: "customers", key: 3, values: { city: "Patient" } });
    await settle();
    gone.abort();
    expect(await errorOf(abandoned)).toMatchObject({ code: "CONFLICT", backupStatus: STATUS.BACKUP_IN_PROGRESS });
    release();
    expect(await patient).toEqual({ operation: 1 });
    expect(cityOf(2)).not.toBe("Abandoned");
    expect(cityOf(3)).toBe("Patient");
  });
});
