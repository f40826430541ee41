// The state a console gets when its event stream (re)connects, on a real runner and real files: taken at the very
// moment an operation's outcome is told, it must not show that operation as still running (its `finished` event
// is already gone, so the console's progress panel would never end).
import { afterEach, expect, it } from "vitest";
import type { ConsoleEvent } from "../operations/bus";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";
import { openOperations } from "../../test/helpers/operations";
import { consoleState, type ConsoleState } from "./console-state";

let db: TestDatabase | null = null;
afterEach(() => { db?.cleanup(); db = null; });

it("a state taken as the outcome is told shows the outcome and no running operation", async () => {
  db = makeTestDatabase();
  const ops = openOperations(db);
  await ops.init();
  const seen: ConsoleState[] = [];
  ops.db.bus.on("event", (e: ConsoleEvent) => { if (e.type === "finished") seen.push(consoleState(ops.runner, ops.db)); });
  const { operationId, done } = ops.backup();
  expect(consoleState(ops.runner, ops.db).running?.operationId).toBe(operationId);
  const outcome = await done;
  expect(outcome.status).toBe(0);
  expect(seen).toHaveLength(1);
  expect(seen[0]!.last?.operationId).toBe(operationId);
  expect(seen[0]!.running).toBeNull();
  await ops.runner.waitForIdle();
  expect(consoleState(ops.runner, ops.db)).toMatchObject({ running: null, last: { operationId } });
  ops.consoleDb.close();
});
