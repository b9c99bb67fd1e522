/** Tool results stored with their run, for members to open and for replies to cite. */
import type { Artifact } from "../protocol/agents";

type ArtifactRow = {
  artifact_id: string;
  run_id: string;
  kind: "http_response";
  status: number | null;
  content_type: string | null;
  body: string;
  truncated: number;
};

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
  if (!row) return null;
  const artifact: Artifact = {
    id: row.artifact_id,
    runId: row.run_id,
    kind: row.kind,
    body: row.body,
    truncated: row.truncated === 1,
  };
  if (row.status !== null) artifact.status = row.status;
  if (row.content_type !== null) artifact.contentType = row.content_type;
  return artifact;
}
