// Event streams per caller, through the real router over a real console.sqlite: at most MAX_STREAMS_PER_PRINCIPAL
// open per user or API token, a slot given back however a stream ends, and a stream that ends when its caller is
// refused (a revoked token, a signed-out session), even while no event comes.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TRPCError } from "@trpc/server";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiTokens } from "../auth/api-tokens";
import { Users } from "../auth/users";
import { openConsoleDb, type ConsoleDb } from "../console/console-db";
import { BackupLocks } from "../locks/backup-locks";
import { ConsoleBus } from "../operations/bus";
import type { Services } from "../services";
import type { Principal } from "./init";
import { eventsRouter } from "./routers/events";
import { MAX_STREAMS_PER_PRINCIPAL, openStreamCount } from "./streams";

let dir: string;
let db: ConsoleDb;
let services: Services;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-streams-"));
  db = openConsoleDb(path.join(dir, "console.sqlite"));
  const runner = { running: null, lastResult: null };
  const opsDb = { bus: new ConsoleBus(), locks: new BackupLocks() };
  services = { consoleDb: db, users: new Users(db), db: opsDb, runner, shutdown: new AbortController() } as unknown as Services;
});
afterEach(() => {
  vi.useRealTimers();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Opens one stream as `user` and reads its first event; returns the iterator and the controller that closes it. */
async function openOne(user: Principal) {
  const client = new AbortController();
  const iterable = await eventsRouter.createCaller({ user, services }, { signal: client.signal }).onEvents();
  const it = iterable[Symbol.asyncIterator]();
  const first = await it.next();
  return { it, first, close: () => client.abort() };
}

const tokenPrincipal = (role: "viewer" | "admin" = "viewer"): Principal => {
  const { token } = new ApiTokens(db).create(`prog-${role}`, role);
  return { kind: "token", id: token.id, username: token.name, role: token.role, createdAt: token.createdAt, sessionVersion: 0, mustChangePassword: false };
};

async function errorOf(p: Promise<unknown>): Promise<TRPCError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCError) return err;
    throw err;
  }
  throw new Error("expected the stream to fail");
}

describe("event streams", () => {
  it("refuses the stream over the cap for one token, and a closed stream frees its slot", async () => {
    const token = tokenPrincipal();
    const open = [];
    for (let i = 0; i < MAX_STREAMS_PER_PRINCIPAL; i++) open.push(await openOne(token));
    expect(open.every((s) => s.first.value?.type === "state")).toBe(true);
    expect(openStreamCount(services, token)).toBe(MAX_STREAMS_PER_PRINCIPAL);

    const refused = await errorOf(openOne(token));
    expect(refused.code).toBe("TOO_MANY_REQUESTS");
    expect(refused.message).toMatch(/already has 20 event streams open/);
    // Another caller is not affected.
    const other = await openOne(tokenPrincipal("admin"));
    expect(other.first.value?.type).toBe("state");

    open[0]!.close();
    await expect(open[0]!.it.next()).rejects.toThrow();
    expect(openStreamCount(services, token)).toBe(MAX_STREAMS_PER_PRINCIPAL - 1);
    const again = await openOne(token);
    expect(again.first.value?.type).toBe("state");
    for (const s of [...open, other, again]) s.close();
    await Promise.allSettled([...open, other, again].map((s) => s.it.next()));
    expect(openStreamCount(services, token)).toBe(0);
  });

  it("gives the slot back when the consumer stops reading", async () => {
    const token = tokenPrincipal();
    const s = await openOne(token);
    await s.it.return?.();
    expect(openStreamCount(services, token)).toBe(0);
  });

  it("ends an idle stream when its user signs out, and the next event of one whose token is revoked", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const users = services.users;
    const alice = await users.create("alice", "alice-password", "viewer");
    const s = await openOne({ ...alice, kind: "user" });
    const next = s.it.next();
    users.endSessions(alice.id);
    vi.advanceTimersByTime(5_000);
    const err = await errorOf(next);
    expect(err).toMatchObject({ code: "UNAUTHORIZED", message: expect.stringMatching(/session is no longer valid/) });
    expect(openStreamCount(services, { kind: "user", id: alice.id })).toBe(0);

    const token = tokenPrincipal();
    const t = await openOne(token);
    new ApiTokens(db).revoke(token.id);
    const pending = t.it.next();
    services.db.bus.publish({ type: "journal", file: "Backup Journal[001].txt" });
    expect((await errorOf(pending)).message).toMatch(/revoked/);
    expect(openStreamCount(services, token)).toBe(0);
  });
});
