/** The chat's live-progress document (Yjs, synced by y-partyserver): agent runs, their tools and status. */
import YProvider from "y-partyserver/provider";
import * as Y from "yjs";
import type { RunProgress } from "../../protocol/agents";
import { call, client } from "./api";

export type ProgressView = (RunProgress & { runId: string })[];

export function watchProgress(chatId: string, onChange: (runs: ProgressView) => void): () => void {
  const doc = new Y.Doc();
  const provider = new YProvider(location.host, chatId, doc, {
    prefix: `/api/chats/${chatId}/progress`,
    // A fresh one-use ticket before every (re)connect, so no session token is ever in the socket's URL. Without one
    // (offline, refused) the handshake is refused and the provider backs off and asks again; it never throws here,
    // since a throw on the first connect would leave the provider unconnected for good. The chat's own socket says why.
    params: async (): Promise<Record<string, string>> => {
      try {
        return {
          ticket: (await call(client.api.chats[":chatId"]["socket-ticket"].$post({ param: { chatId } }))).ticket,
        };
      } catch {
        return {};
      }
    },
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
