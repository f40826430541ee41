"use client";
// The log file the server could not take at start (1416: another database's or out of step; 1403: damaged), on the
// Backup and Data pages from the first moment, with what to do and what is refused meanwhile.
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "./trpc";

export function LogProblemBanner() {
  const trpc = useTRPC();
  const problem = useQuery(trpc.backup.logProblem.queryOptions()).data;
  if (!problem) return null;
  return (
    <section role="alert" aria-label="Log file problem" className="rounded border border-red-300 bg-red-50 px-4 py-3 text-red-900">
      <h2 className="font-semibold">{problem.title}</h2>
      <p className="mt-1 break-words text-sm">{problem.text}</p>
      <p className="mt-2 break-words text-sm"><strong>What to do: </strong>{problem.whatToDo}</p>
      <p className="mt-1 text-sm">{problem.meanwhile}</p>
    </section>
  );
}
