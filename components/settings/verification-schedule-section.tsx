"use client";
// Scheduled verification in the Backup & Restore tab (issue 6): a console setting (console.sqlite), saved on its own
// rather than with the database's Backup.4DSettings, which goes into every archive (spec §6).
import { useQuery } from "@tanstack/react-query";
import { VerificationScheduleForm } from "../restore/verification-schedule";
import { useTRPC } from "../trpc";

export function VerificationScheduleSection() {
  const trpc = useTRPC();
  const q = useQuery(trpc.restore.verificationSchedule.queryOptions());
  if (q.error) return <p role="alert" className="mt-4 text-sm text-red-700">The verification schedule can&apos;t be read: {q.error.message}</p>;
  if (!q.data) return null;
  return <div className="mt-5"><VerificationScheduleForm schedule={q.data} /></div>;
}
