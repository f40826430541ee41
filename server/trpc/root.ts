// The application router: one router per noun.
import { router } from "./init";
import { backupRouter } from "./routers/backup";
import { eventsRouter } from "./routers/events";
import { usersRouter } from "./routers/users";

export const appRouter = router({ backup: backupRouter, events: eventsRouter, users: usersRouter });
export type AppRouter = typeof appRouter;
