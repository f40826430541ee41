// The application router: one router per noun.
import type { inferRouterOutputs } from "@trpc/server";
import { router } from "./init";
import { automationRouter } from "./routers/automation";
import { backupRouter } from "./routers/backup";
import { dataRouter } from "./routers/data";
import { eventsRouter } from "./routers/events";
import { historyRouter } from "./routers/history";
import { journalRouter } from "./routers/journal";
import { offsiteRouter } from "./routers/offsite";
import { restoreRouter } from "./routers/restore";
import { settingsRouter } from "./routers/settings";
import { tokensRouter } from "./routers/tokens";
import { usersRouter } from "./routers/users";

export const appRouter = router({
  automation: automationRouter, backup: backupRouter, data: dataRouter, events: eventsRouter, history: historyRouter,
  journal: journalRouter, offsite: offsiteRouter, restore: restoreRouter, settings: settingsRouter, tokens: tokensRouter, users: usersRouter,
});
export type AppRouter = typeof appRouter;

// The console's contract: what the pages receive, named from the router's outputs so that components import their
// types from here (and run-time values only from server/isomorphic), never from the domain's modules.
type Outputs = inferRouterOutputs<AppRouter>;
export type BackupOverview = Outputs["backup"]["overview"];
export type OperationProgress = NonNullable<Outputs["backup"]["info"]["running"]>;
/** The outcome and the automatic backups' state as the event stream carries them. */
export type { AutomationState, OperationOutcome } from "../operations/progress";
