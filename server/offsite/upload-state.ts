// The multipart uploads under way, as console.sqlite keeps them: each upload's id and the parts already in the
// bucket, written as each part is acknowledged, so that a Stop, a crash or a restart loses at most the parts that
// were in flight.
import type { ConsoleDb } from "../console/console-db";

export interface UploadState {
  uploadId: string;
  endpoint: string;
  bucket: string;
  key: string;
  localPath: string;
  localSize: number;
  /** SHA-256 of the local file (the plaintext), hex. */
  sha256: string;
  /** Bytes of the object being built (more than localSize when encrypted). */
  objectSize: number;
  /** Plaintext bytes per part. */
  partSize: number;
  /** hex; set when the object is encrypted (the same id gives the same ciphertext, so parts can be resent). */
  cipherFileId: string | null;
  createdAt: string;
}

export interface PartState {
  partNumber: number;
  /** As the server returned it, quotes included. */
  etag: string;
  /** base64 */
  md5: string;
  /** base64 */
  sha256: string;
  size: number;
}

interface Row {
  upload_id: string; endpoint: string; bucket: string; object_key: string; local_path: string; local_size: number; sha256: string;
  object_size: number; part_size: number; cipher_file_id: string | null; created_at: string;
}

const fromRow = (r: Row): UploadState => ({
  uploadId: r.upload_id, endpoint: r.endpoint, bucket: r.bucket, key: r.object_key, localPath: r.local_path, localSize: r.local_size,
  sha256: r.sha256, objectSize: r.object_size, partSize: r.part_size, cipherFileId: r.cipher_file_id, createdAt: r.created_at,
});

export class UploadStateStore {
  constructor(private readonly db: ConsoleDb) {}

  find(endpoint: string, bucket: string, key: string): UploadState | null {
    const r = this.db.prepare("SELECT * FROM offsite_uploads WHERE endpoint = ? AND bucket = ? AND object_key = ?").get(endpoint, bucket, key) as Row | undefined;
    return r ? fromRow(r) : null;
  }

  byUploadId(uploadId: string): UploadState | null {
    const r = this.db.prepare("SELECT * FROM offsite_uploads WHERE upload_id = ?").get(uploadId) as Row | undefined;
    return r ? fromRow(r) : null;
  }

  list(endpoint: string, bucket: string): UploadState[] {
    return (this.db.prepare("SELECT * FROM offsite_uploads WHERE endpoint = ? AND bucket = ? ORDER BY created_at").all(endpoint, bucket) as Row[]).map(fromRow);
  }

  insert(s: UploadState): void {
    this.db.transaction(() => {
      // One upload per object: a leftover row for the same key is replaced (its upload is aborted by the caller).
      const old = this.find(s.endpoint, s.bucket, s.key);
      if (old) this.remove(old.uploadId);
      this.db.prepare(`INSERT INTO offsite_uploads (upload_id, endpoint, bucket, object_key, local_path, local_size, sha256, object_size, part_size, cipher_file_id, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(s.uploadId, s.endpoint, s.bucket, s.key, s.localPath, s.localSize, s.sha256, s.objectSize, s.partSize, s.cipherFileId, s.createdAt);
    })();
  }

  parts(uploadId: string): Map<number, PartState> {
    const rows = this.db.prepare("SELECT part_number, etag, md5, sha256, size FROM offsite_upload_parts WHERE upload_id = ?").all(uploadId) as
      Array<{ part_number: number; etag: string; md5: string; sha256: string; size: number }>;
    return new Map(rows.map((r) => [r.part_number, { partNumber: r.part_number, etag: r.etag, md5: r.md5, sha256: r.sha256, size: r.size }]));
  }

  savePart(uploadId: string, p: PartState): void {
    this.db.prepare(`INSERT INTO offsite_upload_parts (upload_id, part_number, etag, md5, sha256, size) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT(upload_id, part_number) DO UPDATE SET etag = excluded.etag, md5 = excluded.md5, sha256 = excluded.sha256, size = excluded.size`)
      .run(uploadId, p.partNumber, p.etag, p.md5, p.sha256, p.size);
  }

  remove(uploadId: string): void {
    this.db.transaction(() => {
      this.db.prepare("DELETE FROM offsite_upload_parts WHERE upload_id = ?").run(uploadId);
      this.db.prepare("DELETE FROM offsite_uploads WHERE upload_id = ?").run(uploadId);
    })();
  }
}
