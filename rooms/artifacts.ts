/** Tool results stored with their run, for members to open and for replies to cite. */
import type { Artifact } from "../protocol/agents";
import { type ArtifactRow, toArtifact } from "./rows";

export function storeArtifact(sql: SqlStorage, artifact: Omit<Artifact, "id">): string {
  const id = crypto.randomUUID();
  sql.exec(
    `INSERT INTO artifacts (artifact_id, run_id, kind, status, content_type, body, truncated, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    id,
    artifact.runId,
    artifact.kind,
    artifact.status ?? null,
    artifact.contentType ?? null,
    artifact.body,
    artifact.truncated ? 1 : 0,
    new Date().toISOString(),
  );
  return id;
}

export function getArtifact(sql: SqlStorage, id: string): Artifact | null {
  const row = sql.exec<ArtifactRow>("SELECT * FROM artifacts WHERE artifact_id = ?", id).toArray()[0];
  return row ? toArtifact(row) : null;
}
