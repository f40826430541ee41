// Rebuilds an operation record from an archive on disk and its manifest.json: used after a crash between the
// commit and the history write, and to rebuild a damaged backupHistory.json.
import crypto from "node:crypto";
import { constants } from "node:fs";
import fs from "node:fs/promises";
import { assertRegular } from "../fs/safe-open";
import type { OperationRecord } from "../operation";
import { readArchiveManifest } from "./manifest";
import { STATUS, statusText } from "../isomorphic/status";
import { verifyArchive } from "../zip/zip-reader";

/** SHA-256 and size of a regular file (a FIFO or device is refused at once, never waited on). */
export async function sha256File(file: string): Promise<{ sha256: string; size: number }> {
  const fh = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    assertRegular(file, await fh.stat(), "an archive file");
    const hash = crypto.createHash("sha256");
    const buf = Buffer.allocUnsafe(1 << 20);
    let size = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, size);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
    return { sha256: hash.digest("hex"), size };
  } finally {
    await fh.close();
  }
}

export async function recordFromArchive(archivePath: string, opts: { verify: boolean; note?: string }): Promise<OperationRecord> {
  const manifest = await readArchiveManifest(archivePath);
  const files = manifest.entries.filter((e) => e.kind !== "directory");
  let status: number = STATUS.OK;
  let text = statusText(STATUS.OK);
  let verified = false;
  const errors: OperationRecord["errors"] = [];
  if (opts.verify) {
    const check = await verifyArchive(archivePath, files.map((e) => ({ name: e.path, size: e.size, sha256: e.sha256 })));
    verified = check.ok;
    if (!check.ok) {
      status = STATUS.ARCHIVE_CHECK_FAILED;
      text = `The archive failed its check against the manifest: ${check.problems.slice(0, 5).join("; ")}`;
      errors.push({ code: status, text });
    }
  }
  const missing = manifest.attachments.filter((a) => !a.found).map((a) => a.attachmentPath);
  const partial = status === STATUS.OK && missing.length > 0;
  if (partial) {
    status = STATUS.BACKUP_ERROR;
    text = `Partial backup: attachment(s) not found: ${missing.join(", ")}`;
    errors.push({ code: status, text });
  }
  const sum = (prefix: (p: string) => boolean) => {
    const es = files.filter((e) => prefix(e.path));
    return { count: es.length, bytes: es.reduce((n, e) => n + e.size, 0) };
  };
  const structure = sum((p) => p.startsWith("Project/") || p.startsWith("Settings/"));
  const data = files.find((e) => e.path === "Data/data.sqlite");
  const attachments = sum((p) => p.startsWith("Attachments/"));
  return {
    operation: "backup", backupNumber: manifest.backupNumber, trigger: manifest.trigger, archivePath,
    logBackupPath: null, structurePath: manifest.structurePath, dataPath: manifest.dataPath,
    content: {
      // The manifest's settings are informative and only checked to be an object: read them with care.
      projectFiles: (manifest.settings as Partial<typeof manifest.settings>).general?.includeStructureFile ? structure : null,
      dataFile: data ? { bytes: data.size } : null,
      attachmentFiles: attachments.count ? attachments : null,
    },
    attachments: manifest.attachments, files: files.map((e) => e.originalPath),
    archive: { ...(await sha256File(archivePath)), verified },
    scheduledDate: manifest.scheduledDate ? new Date(manifest.scheduledDate) : null,
    startingDate: new Date(manifest.startingDate), endingDate: new Date(manifest.endingDate),
    status, statusText: text, partial, errors, notes: opts.note ? [opts.note] : [],
  };
}
