/**
 * What each agent is doing right now, read from the chat's live-progress document (Yjs): thinking, calling a tool,
 * or waiting for approval; then done or failed (the last few runs stay listed).
 */
import type { ProgressView } from "./progress";

type Run = ProgressView[number];

/** The one-line state of a run. */
export function agentActivity(run: Run): string {
  if (run.status === "done" || run.status === "failed") return run.status;
  const waiting = run.tools.find((t) => t.status === "waiting_approval");
  if (run.status === "waiting_approval" || waiting) {
    return `waiting for approval${waiting ? ` (${waiting.name})` : ""}`;
  }
  const calling = run.tools.find((t) => t.status === "running");
  if (calling) return `calling a tool (${calling.name})`;
  return "thinking…";
}

export function AgentState({ progress, agentName }: { progress: ProgressView; agentName: (id: string) => string }) {
  if (progress.length === 0) return null;
  return (
    <ul class="progress" data-testid="progress" aria-live="polite">
      {progress.slice(0, 5).map((run) => (
        <li key={run.runId} class={`progress-${run.status}`} data-testid="agent-state">
          {agentName(run.agentId)}: {agentActivity(run)}
        </li>
      ))}
    </ul>
  );
}
