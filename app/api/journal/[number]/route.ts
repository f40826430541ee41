// GET /api/journal/<number>: one backup journal file as it is on disk (viewers and up). The number is looked up
// in the Logs folder's listing; see server/journal/journal-download.ts.
import { journalFileDownload } from "@/server/journal/journal-download";
import { authorizeDownload } from "../authorize";

export const dynamic = "force-dynamic";

export async function GET(req: Request, ctx: { params: Promise<{ number: string }> }) {
  const auth = await authorizeDownload(req);
  if ("refused" in auth) return auth.refused;
  const { number } = await ctx.params;
  return journalFileDownload(auth.services.db.layout.logsDir, number);
}
