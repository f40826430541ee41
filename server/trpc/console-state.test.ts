// The state a console gets when its event stream (re)connects, on a real engine and real files: taken at the very
// moment an operation's outcome is told, it must not show that operation as still running (its `finished` event
// is already gone, so the console's progress panel would never end).
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import { BackupEngine } from "../engine/backup-engine";
import type { EngineEvent } from "../engine/progress";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";
import { consoleState, type ConsoleState } from "./console-state";

let db: TestDatabase | null = null;
afterEach(() => { db?.cleanup(); db = null; });

it("a state taken as the outcome is told shows the outcome and no running operation", async () => {
  db = makeTestDatabase();
  const engine = new BackupEngine({ databaseDir: db.databaseDir, home: db.home, defaultDestination: db.destination,
    consoleDb: openConsoleDb(path.join(db.home, "console.sqlite")) });
  await engine.init();
  const seen: ConsoleState[] = [];
  engine.on("event", (e: EngineEvent) => { if (e.type === "finished") seen.push(consoleState(engine)); });
  const { operationId, done } = engine.start({ trigger: { kind: "manual", user: "alice" } });
  expect(consoleState(engine).running?.operationId).toBe(operationId);
  const outcome = await done;
  expect(outcome.status).toBe(0);
  expect(seen).toHaveLength(1);
  expect(seen[0].last?.operationId).toBe(operationId);
  expect(seen[0].running).toBeNull();
  await engine.waitForIdle();
  expect(consoleState(engine)).toMatchObject({ running: null, last: { operationId } });
});
