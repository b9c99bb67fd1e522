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
      <button
        type="button"
        class="small-button"
        onClick={open}
        // The button keeps focus once it opened the result: Esc closes it, as it closes the other open things.
        onKeyDown={(e) => e.key === "Escape" && setArtifact(null)}
        data-testid="artifact"
        aria-expanded={artifact !== null}
      >
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
