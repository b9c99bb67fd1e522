/**
 * A room's snapshots: written by the room itself (it owns the log), chunk by chunk so a large chat never sits in
 * memory at once, objects first and the manifest last; and a restore into an empty room, verifying each object as it
 * reads it. Seqs, ids, authors, texts and times come back as they were; pending approvals come back expired.
 */

import type { ManifestObject } from "../protocol/backups";
import { ARTIFACTS_PER_CHUNK, type Backup, type Manifest, MESSAGES_PER_CHUNK } from "../protocol/backups";
import { restoreVotes, withBackupVotes } from "./approval-votes";
import {
  BackupCorrupt,
  gzipLines,
  manifestDigest,
  manifestKey,
  readObject,
  sha256Hex,
  snapshotPrefix,
} from "./backup-format";
import { lastSeq } from "./message-log";
import type { ChatRef } from "./room-address";
import { writeMeta } from "./room-meta";
import { roomTables } from "./schema";
import { usageCursorSchema } from "./usage-log";

type Table = "messages" | "summaries" | "approvals" | "artifacts";
type RawRow = Record<string, string | number | null>;

function snapshotIdAt(now: Date, seq: number): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  return `${stamp}-${String(seq).padStart(12, "0")}`;
}

export function backupOf(manifest: Manifest): Backup {
  return {
    id: manifest.snapshotId,
    createdAt: manifest.createdAt,
    messages: manifest.messages,
    lastSeq: manifest.lastSeq,
    bytes: manifest.objects.reduce((sum, object) => sum + object.bytes, 0),
    sha256: manifest.sha256,
  };
}

export async function writeSnapshot(
  sql: SqlStorage,
  bucket: R2Bucket,
  chat: ChatRef,
  now = new Date(),
): Promise<Backup> {
  // The log is append-only: what is at or below `last` now is what the snapshot holds, whatever arrives meanwhile.
  const last = lastSeq(sql);
  const snapshotId = snapshotIdAt(now, last);
  const prefix = `${snapshotPrefix(chat.orgId, chat.chatId)}${snapshotId}/`;
  const objects: ManifestObject[] = [];
  // An approval's row also carries its `votes` (backups made before votes have none).
  const put = async (name: string, kind: ManifestObject["kind"], rows: unknown[], seqs?: [number, number]) => {
    const bytes = await gzipLines(rows);
    const sha256 = await sha256Hex(bytes);
    const key = `${prefix}${name}`;
    await bucket.put(key, bytes, { sha256, httpMetadata: { contentType: "application/gzip" } });
    objects.push({
      key,
      kind,
      rows: rows.length,
      bytes: bytes.byteLength,
      sha256,
      ...(seqs ? { firstSeq: seqs[0], lastSeq: seqs[1] } : {}),
    });
  };
  const first = last === 0 ? 0 : sql.exec<{ seq: number }>("SELECT min(seq) AS seq FROM messages").one().seq;
  for (let from = first; last > 0 && from <= last; from += MESSAGES_PER_CHUNK) {
    const to = Math.min(last, from + MESSAGES_PER_CHUNK - 1);
    const rows = sql
      .exec<RawRow>("SELECT * FROM messages WHERE seq >= ? AND seq <= ? ORDER BY seq", from, to)
      .toArray();
    await put(`messages-${from}-${to}.jsonl.gz`, "messages", rows, [from, to]);
  }
  await put("summaries.jsonl.gz", "summaries", sql.exec<RawRow>("SELECT * FROM summaries ORDER BY version").toArray());
  await put(
    "approvals.jsonl.gz",
    "approvals",
    sql
      .exec<RawRow>("SELECT * FROM approvals ORDER BY created_at, approval_id")
      .toArray()
      .map((row) => withBackupVotes(sql, row)),
  );
  for (let offset = 0; ; offset += ARTIFACTS_PER_CHUNK) {
    const rows = sql
      .exec<RawRow>(
        "SELECT * FROM artifacts ORDER BY created_at, artifact_id LIMIT ? OFFSET ?",
        ARTIFACTS_PER_CHUNK,
        offset,
      )
      .toArray();
    if (rows.length === 0 && offset > 0) break;
    await put(`artifacts-${offset / ARTIFACTS_PER_CHUNK}.jsonl.gz`, "artifacts", rows);
    if (rows.length < ARTIFACTS_PER_CHUNK) break;
  }
  const manifest: Manifest = {
    version: 1,
    orgId: chat.orgId,
    chatId: chat.chatId,
    snapshotId,
    createdAt: now.toISOString(),
    messages: last === 0 ? 0 : last - first + 1,
    firstSeq: first,
    lastSeq: last,
    objects,
    sha256: await manifestDigest(objects),
  };
  // The manifest last: a snapshot without one is incomplete and never restored.
  await bucket.put(manifestKey(chat.orgId, chat.chatId, snapshotId), JSON.stringify(manifest), {
    httpMetadata: { contentType: "application/json" },
  });
  await bucket.put(
    `${snapshotPrefix(chat.orgId, chat.chatId)}latest.json`,
    JSON.stringify({ snapshotId, lastSeq: last }),
  );
  return backupOf(manifest);
}

/**
 * Fills an empty room from a snapshot, checking each object as it is read. On any failure everything written is
 * removed again and the error is thrown: the room is left empty.
 */
export async function restoreSnapshot(sql: SqlStorage, bucket: R2Bucket, manifest: Manifest): Promise<number> {
  if (lastSeq(sql) !== 0) throw new Error("a restore needs an empty room");
  try {
    for (const entry of manifest.objects) {
      const rows = await readObject<RawRow>(bucket, entry);
      for (const row of rows) {
        insertRow(sql, entry.kind, entry.kind === "approvals" ? expirePending(row) : row);
        if (entry.kind === "approvals") restoreVotes(sql, String(row.approval_id), (row as { votes?: unknown }).votes);
      }
    }
  } catch (error) {
    for (const table of ["messages", "summaries", "approvals", "artifacts", "approval_votes"] as const) {
      sql.exec(`DELETE FROM ${table}`);
    }
    throw error instanceof BackupCorrupt ? error : new BackupCorrupt(`the backup could not be restored: ${error}`);
  }
  // Restored messages are not new use: usage counts from here on.
  const head = sql.exec<{ seq: number }>("SELECT coalesce(max(seq), 0) AS seq FROM messages").one().seq;
  writeMeta(sql, "usage_cursor", usageCursorSchema.parse({ usageId: 0, seq: head }));
  return head;
}

/** A request nobody decided before the snapshot cannot be decided in the restored chat: it comes back expired. */
function expirePending(row: RawRow): RawRow {
  return row.status === "pending" ? { ...row, status: "expired", decided_by: "parlor", agent_notified: 1 } : row;
}

function insertRow(sql: SqlStorage, table: Table, row: RawRow): void {
  // Only the table's own columns, named from the schema, never from the object.
  const columns = Object.keys(roomTables[table]).filter((column) => column in row);
  sql.exec(
    `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
    ...columns.map((column) => row[column] ?? null),
  );
}
