// Node-only start-up, called from instrumentation.ts: starts the services, prints where the console is and where
// the admin password is, and refuses to run when another server holds the database (docs/database-folder.md).
import { getServices } from "../services";

export async function startServer(): Promise<void> {
  try {
    const services = await getServices();
    const url = process.env.NEXTAUTH_URL ?? `http://${process.env.HOST ?? "127.0.0.1"}:${process.env.PORT ?? "3000"}`;
    for (const m of services.startupMessages) console.log(`[strongbox] ${m}`);
    console.log(`[strongbox] Managing ${services.paths.databaseDir}`);
    console.log(`[strongbox] Console: ${url}`);
  } catch (err) {
    console.error(`[strongbox] Cannot start: ${(err as Error).message}`);
    process.exit(1);
  }
}
