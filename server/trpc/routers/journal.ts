// journalRouter: the Journal page (docs/console.md) — the journal files, and one page of a file's blocks at a time,
// filtered and searched on the server so the browser never receives a whole 10 MiB file.
import { z } from "zod";
import { TRPCError } from "@trpc/server";
import { BLOCK_KINDS, BLOCK_STATUSES } from "../../isomorphic/journal-block";
import { router, viewerProcedure } from "../init";

/** Most blocks one page may ask for: a screenful of cards, never the file. */
export const JOURNAL_PAGE_MAX = 100;


export const journalPageInput = z.object({
  /** The file's number (1–999) from `files`; omitted: the current file. */
  number: z.number().int().min(1).max(999).optional(),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(JOURNAL_PAGE_MAX).default(20),
  kind: z.enum(BLOCK_KINDS).optional(),
  status: z.enum(BLOCK_STATUSES).optional(),
  search: z.string().max(200, "Search for at most 200 characters.").optional(),
});

export const journalRouter = router({
  files: viewerProcedure.query(({ ctx }) => ctx.services.journalReader.files()),
  page: viewerProcedure.input(journalPageInput).query(async ({ ctx, input }) => {
    const { number, ...query } = input;
    const page = await ctx.services.journalReader.page(number, query);
    if (page) return page;
    if (number === undefined) return null; // no journal yet
    throw new TRPCError({ code: "NOT_FOUND", message: `There is no journal file number ${number} (Backup Journal[${String(number).padStart(3, "0")}].txt) in the Logs folder.` });
  }),
});
