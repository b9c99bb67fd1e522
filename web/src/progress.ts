/** The chat's live-progress document (Yjs, synced by y-partyserver): agent runs, their tools and status. */
import YProvider from "y-partyserver/provider";
import * as Y from "yjs";
import type { RunProgress } from "../../protocol/agents";
import { tokens } from "./tokens";

export type ProgressView = (RunProgress & { runId: string })[];

export function watchProgress(chatId: string, onChange: (runs: ProgressView) => void): () => void {
  const doc = new Y.Doc();
  const provider = new YProvider(location.host, chatId, doc, {
    prefix: `/api/chats/${chatId}/progress`,
    // Asked again before every reconnect, so a short-lived token is fresh each time.
    params: async () => ({ token: await tokens.fresh() }),
    protocol: location.protocol === "https:" ? "wss" : "ws",
  });
  const runs = doc.getMap<RunProgress>("runs");
  const emit = () =>
    onChange(
      [...runs.entries()]
        .map(([runId, run]) => ({ runId, ...run }))
        .sort((a, b) => b.startedAt.localeCompare(a.startedAt)),
    );
  runs.observe(emit);
  return () => {
    provider.destroy();
    doc.destroy();
  };
}
