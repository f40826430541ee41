// GET /api/journal/all: every backup journal file as one ZIP, streamed (viewers and up).
import path from "node:path";
import { allJournalsDownload } from "@/server/journal/journal-download";
import { cleanDatabaseName } from "@/server/settings/resolve";
import { authorizeDownload } from "../authorize";

export const dynamic = "force-dynamic";

export async function GET(req: Request) {
  const auth = await authorizeDownload(req);
  if ("refused" in auth) return auth.refused;
  const { db } = auth.services;
  // The name the archives carry; a settings file that can't be read still leaves the folder's name.
  const databaseName = await db.resolve().then((c) => c.databaseName, () => cleanDatabaseName(path.basename(db.databaseDir)));
  return allJournalsDownload(db.layout.logsDir, { databaseName, now: db.clock.now() });
}
