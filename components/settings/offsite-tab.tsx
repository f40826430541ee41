"use client";
// Off-site tab (admins): where copies go in S3-compatible object storage, how many are kept there, Object Lock, the
// log shipping interval and client-side encryption. Console settings kept in console.sqlite (not in Settings/,
// which goes into every archive). The secret and the passphrase are write-only: the page is told only that they
// are stored, and a field left empty keeps them. Saved by the page's one Save; Test connection runs on the values
// in the form, saved or not.
import { useMutation } from "@tanstack/react-query";
import { useId } from "react";
import type { OffsiteFormInput, OffsiteFormView } from "@/server/offsite/offsite-form";
import { useTRPC } from "../trpc";
import { Check, Group, Hint, NumberField, SelectField } from "./controls";
import { FieldNotes, noteProps, useFieldNotes } from "./field-notes";

/** What the tab edits: the form's fields, with "keep all" apart from its number. */
export interface OffsiteDraft {
  endpoint: string; region: string; bucket: string; prefix: string; forcePathStyle: boolean; accessKeyId: string;
  /** Typed by the admin; "" keeps the stored one. */
  secretAccessKey: string;
  keepAll: boolean; keepLast: number; lockDays: number; lockMode: "COMPLIANCE" | "GOVERNANCE"; logIntervalSeconds: number;
  encrypt: boolean; passphrase: string; passphraseAgain: string;
}

export function offsiteDraftOf(view: OffsiteFormView): OffsiteDraft {
  const d = view.destination;
  const s = view.settings;
  return {
    endpoint: d?.endpoint ?? "", region: d?.region ?? "us-east-1", bucket: d?.bucket ?? "", prefix: d?.prefix ?? "strongbox",
    forcePathStyle: d?.forcePathStyle ?? true, accessKeyId: d?.accessKeyId ?? "", secretAccessKey: "",
    keepAll: s.keepLast === null, keepLast: s.keepLast ?? 10, lockDays: s.lockDays, lockMode: s.lockMode, logIntervalSeconds: s.logIntervalSeconds,
    encrypt: view.encryption.enabled, passphrase: "", passphraseAgain: "",
  };
}

export function offsiteInputOf(d: OffsiteDraft): OffsiteFormInput {
  return {
    endpoint: d.endpoint, region: d.region, bucket: d.bucket, prefix: d.prefix, forcePathStyle: d.forcePathStyle, accessKeyId: d.accessKeyId,
    secretAccessKey: d.secretAccessKey === "" ? null : d.secretAccessKey, keepLast: d.keepAll ? null : d.keepLast, lockDays: d.lockDays,
    lockMode: d.lockMode, logIntervalSeconds: d.logIntervalSeconds, encrypt: d.encrypt,
    passphrase: d.encrypt && d.passphrase !== "" ? d.passphrase : null, passphraseAgain: d.encrypt && d.passphraseAgain !== "" ? d.passphraseAgain : null,
  };
}

function Field({ label, value, onChange, path, type = "text", placeholder, children }: {
  label: string; value: string; onChange: (v: string) => void; path: string; type?: "text" | "password" | "url"; placeholder?: string; children?: React.ReactNode;
}) {
  const id = useId();
  const notes = useFieldNotes(path);
  return (
    <div className="flex flex-col gap-1 text-sm">
      <label htmlFor={id}>{label}</label>
      <input id={id} type={type} value={value} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} spellCheck={false}
        autoComplete={type === "password" ? "new-password" : "off"} {...noteProps(id, notes)}
        className="rounded border border-slate-300 px-2 py-1 font-mono disabled:bg-slate-50 disabled:text-slate-500" />
      {children}
      <FieldNotes id={id} notes={notes} />
    </div>
  );
}

const STEP_WORDS = { list: "listing the bucket", write: "writing a probe object", read: "reading the probe object back", delete: "deleting the probe object" } as const;
const KIND_WORDS: Record<string, string> = {
  connection: "Can't connect", timeout: "No answer", credentials: "Wrong credentials", "bucket-missing": "Bucket missing", permission: "Permission denied",
  "not-found": "Not found", stopped: "Stopped", other: "Failed",
};

function TestConnection({ draft }: { draft: OffsiteDraft }) {
  const trpc = useTRPC();
  const test = useMutation(trpc.offsite.testConnection.mutationOptions());
  const r = test.data;
  return (
    <div className="space-y-2">
      <button type="button" disabled={test.isPending} onClick={() => test.mutate({ destination: offsiteInputOf(draft) })}
        className="rounded border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100 disabled:opacity-60">
        {test.isPending ? "Testing…" : "Test connection"}
      </button>
      <div role="status" aria-label="Connection test" aria-live="polite">
        {test.error && <p className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-900">The test could not run: {test.error.message}</p>}
        {!test.isPending && r?.inputProblem && (
          <p className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-900">Not tested: {r.inputProblem.message}</p>
        )}
        {!test.isPending && r?.result?.ok && (
          <div className="rounded border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
            <p className="font-semibold">Connection OK</p>
            <p>Listed the bucket, wrote a probe object, read it back and deleted it.</p>
            {r.result.notes.map((n, i) => <p key={i}>{n}</p>)}
          </div>
        )}
        {!test.isPending && r?.result?.failure && (
          <div className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-900">
            <p className="font-semibold">{KIND_WORDS[r.result.failure.kind] ?? "Failed"} — the test failed while {STEP_WORDS[r.result.failure.step]}</p>
            <p>{r.result.failure.message}</p>
          </div>
        )}
      </div>
    </div>
  );
}

export function OffsiteTab({ draft, edit, view }: { draft: OffsiteDraft; edit: (change: (d: OffsiteDraft) => void) => void; view: OffsiteFormView | undefined }) {
  const secretSet = view?.destination?.secretSet ?? false;
  const encryptionOn = view?.encryption.enabled ?? false;
  const set = <K extends keyof OffsiteDraft>(key: K) => (v: OffsiteDraft[K]) => edit((d) => { d[key] = v; });
  return (
    <div className="space-y-5">
      <Group legend="Destination (S3-compatible object storage)">
        <Hint>
          Off-site copies go to one bucket of any S3-compatible object storage (AWS S3, Ceph, MinIO, …). Uploads after each backup and
          continuous log shipping are not yet started by the server: this release stores the destination and tests it; recovery from a bucket
          is done with <span className="font-mono">strongbox recover</span>.
        </Hint>
        <Field label="Endpoint URL" value={draft.endpoint} onChange={set("endpoint")} path="offsite.endpoint" type="url" placeholder="https://s3.eu-west-1.amazonaws.com" />
        <div className="grid gap-3 sm:grid-cols-3">
          <Field label="Region" value={draft.region} onChange={set("region")} path="offsite.region" placeholder="us-east-1" />
          <Field label="Bucket" value={draft.bucket} onChange={set("bucket")} path="offsite.bucket" placeholder="my-backups" />
          <Field label="Prefix" value={draft.prefix} onChange={set("prefix")} path="offsite.prefix" placeholder="strongbox" />
        </div>
        <Check label="Path-style addressing (http://host/bucket/key — what Ceph and MinIO usually need)" checked={draft.forcePathStyle} onChange={set("forcePathStyle")} />
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label="Access key id" value={draft.accessKeyId} onChange={set("accessKeyId")} path="offsite.accessKeyId" />
          <Field label="Secret access key" value={draft.secretAccessKey} onChange={set("secretAccessKey")} path="offsite.secretAccessKey" type="password"
            placeholder={secretSet ? "stored — type a new one to replace it" : ""}>
            <Hint>
              {secretSet
                ? "A secret is stored (encrypted, never shown again). Leave the field empty to keep it."
                : "Stored encrypted with a key kept in the server's home folder; never shown again once saved."}
            </Hint>
          </Field>
        </div>
        <TestConnection draft={draft} />
      </Group>

      <Group legend="Off-site retention and Object Lock">
        <div className="flex flex-wrap items-center gap-3">
          <Check label="Keep only the last off-site archives" checked={!draft.keepAll} onChange={(v) => edit((d) => { d.keepAll = !v; })} />
          <NumberField label="Off-site archives to keep" min={1} max={10000} value={draft.keepLast} disabled={draft.keepAll} path="offsite.keepLast"
            onChange={set("keepLast")} />
        </div>
        <Hint>Each kept archive keeps the log backups and shipped log that follow it in the bucket.</Hint>
        <div className="flex flex-wrap items-center gap-3">
          <NumberField label="Object Lock retain days" min={0} max={36500} value={draft.lockDays} path="offsite.lockDays" onChange={set("lockDays")} after="days (0: none)" />
          <SelectField label="Mode" value={draft.lockMode} options={[["COMPLIANCE", "Compliance"], ["GOVERNANCE", "Governance"]]} onChange={set("lockMode")} />
        </div>
        <Hint>
          On a bucket created with Object Lock, each copy gets a retain-until date this many days ahead: until then nobody — not even these
          credentials — can delete or overwrite it. A bucket without Object Lock can&apos;t lock copies.
        </Hint>
      </Group>

      <Group legend="Log shipping">
        <NumberField label="OffsiteLogInterval" min={5} max={86400} value={draft.logIntervalSeconds} path="offsite.logIntervalSeconds"
          onChange={set("logIntervalSeconds")} after="seconds" />
        <Hint>While writes happen, the open log is cut and shipped at least this often: a lost machine gives back the data up to about this long ago.</Hint>
      </Group>

      <Group legend="Client-side encryption">
        <Check label="Encrypt what goes to the bucket (AES-256-GCM, key from a passphrase)" checked={draft.encrypt} onChange={set("encrypt")} />
        {draft.encrypt && (
          <>
            <p role="note" className="rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
              A lost passphrase means lost off-site backups: nobody can read them without it. Keep it somewhere other than this machine.
            </p>
            <div className="grid gap-3 sm:grid-cols-2">
              <Field label="Encryption passphrase" value={draft.passphrase} onChange={set("passphrase")} path="offsite.passphrase" type="password"
                placeholder={encryptionOn ? "set — leave empty to keep it" : ""} />
              <Field label="Passphrase again" value={draft.passphraseAgain} onChange={set("passphraseAgain")} path="offsite.passphraseAgain" type="password" />
            </div>
            <Hint>
              {encryptionOn ? "Encryption is on; the passphrase is not kept, only the key derived from it (encrypted). " : ""}
              The bucket keeps a check of the key, so a wrong passphrase is refused — here when saving, and by recovery — before anything is read.
              All copies under one prefix use one passphrase: to use another, choose another prefix. The local archives stay plain ZIP files.
            </Hint>
          </>
        )}
        {!draft.encrypt && encryptionOn && <Hint>Saving turns encryption off for what is uploaded from now on; what is in the bucket stays as it is.</Hint>}
      </Group>
    </div>
  );
}
