// The restore router's answers as the Restore page uses them (inferred from the router, so they can't drift).
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/root";

type Outputs = inferRouterOutputs<AppRouter>["restore"];
export type ArchivesList = Outputs["archives"];
export type ArchiveRow = ArchivesList["archives"][number];
export type ArchiveContents = Outputs["contents"];
export type ContentPart = ArchiveContents["parts"][number];
export type LogOperation = Outputs["logOperations"]["operations"][number];
export type VerificationSchedule = ArchivesList["verificationSchedule"];

/** What a section tells the page when it started an engine operation, or when the server refused. */
export interface OperationHandlers {
  onStarted: (operationId: string) => void;
  onError: (message: string) => void;
}
