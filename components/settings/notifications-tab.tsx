"use client";
// Notifications tab (admins): the webhook that alerts are POSTed to, as JSON. A console setting kept in
// console.sqlite, not in Settings/ (which goes into every archive); saved by the page's one Save with the rest.
// Private and loopback targets are refused unless allowed here.
import { useId } from "react";
import { FieldNotes, noteProps, useFieldNotes } from "./field-notes";
import { Check, Group, Hint } from "./controls";

export interface WebhookDraft { url: string; allowPrivate: boolean }

export function NotificationsTab({ url, allowPrivate, onUrl, onAllowPrivate, refusedUnlessAllowed }: {
  url: string; allowPrivate: boolean; onUrl: (v: string) => void; onAllowPrivate: (v: boolean) => void; refusedUnlessAllowed: string | undefined;
}) {
  const id = useId();
  const notes = useFieldNotes("webhook.url");
  return (
    <Group legend="Alert webhook">
      <div className="flex flex-col gap-1 text-sm">
        <label htmlFor={id}>Alert webhook URL</label>
        <input id={id} value={url} onChange={(e) => onUrl(e.target.value)} placeholder="https://example.org/hooks/backups" maxLength={2000} spellCheck={false}
          className="rounded border border-slate-300 px-2 py-1 disabled:bg-slate-50" {...noteProps(id, notes)} />
        <FieldNotes id={id} notes={notes} />
      </div>
      <Check label="Allow private and loopback addresses" checked={allowPrivate} onChange={onAllowPrivate} />
      <Hint>When an automatic backup can&apos;t be made, the alert is also POSTed here as JSON (status code, text, database, times). Leave empty for none.</Hint>
      <Hint>
        Unless allowed, the server refuses to send alerts to {refusedUnlessAllowed ?? "loopback, link-local and private addresses"}, whether the
        URL names them or its host name resolves to them (checked when saving and at each send). Redirects are not followed.
      </Hint>
    </Group>
  );
}
