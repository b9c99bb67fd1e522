/** A tool result (artifact) a reply used, fetched and shown on demand. */
import { useState } from "preact/hooks";
import { type Artifact, call, client } from "./api";

export function ArtifactLink({ chatId, artifactId }: { chatId: string; artifactId: string }) {
  const [artifact, setArtifact] = useState<Artifact | null>(null);
  const [error, setError] = useState<string | null>(null);
  async function open() {
    if (artifact) return setArtifact(null);
    try {
      const result = await call(
        client.api.chats[":chatId"].artifacts[":artifactId"].$get({ param: { chatId, artifactId } }),
      );
      setArtifact(result.artifact);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }
  return (
    <span class="artifact">
      <button type="button" class="small-button" onClick={open} data-testid="artifact">
        {artifact ? "hide result" : "show result"}
      </button>
      {artifact && (
        <pre>
          {artifact.status} {artifact.contentType}
          {"\n"}
          {artifact.body}
          {artifact.truncated ? "\n… (truncated)" : ""}
        </pre>
      )}
      {error && <span class="error"> {error}</span>}
    </span>
  );
}
