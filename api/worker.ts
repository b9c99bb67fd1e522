/** The one Worker: the App API and Orchestrator in front, the chat rooms (Durable Objects) behind. */
import { app } from "./app";
import { openDatabase } from "./db/client";
import { sweepDeletedChats } from "./deleted-chats";
import { deliverRevocations } from "./memberships";
import { serveWebClient } from "./web-client";

export { ChatAgent } from "../agents/chat-agent";
export { OrgLimiter } from "../agents/org-limiter";
export { SummaryAgent } from "../agents/summary-agent";
export { ChatProgress } from "../rooms/chat-progress";
export { ChatRoom } from "../rooms/chat-room";
export { AuditCheckpoints } from "./audit/checkpoint-keeper";
export { SocketTickets } from "./socket-tickets";

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname.startsWith("/api/")) return app.fetch(request, env, ctx);
    return serveWebClient(request, env);
  },
  /** Sweeps for revocations a room could not take at the time, and overdue purges (production: every minute). */
  async scheduled(_controller, env, ctx) {
    const { db, close } = openDatabase(env);
    try {
      await deliverRevocations(env, db);
      await sweepDeletedChats(env, db);
    } finally {
      ctx.waitUntil(close());
    }
  },
} satisfies ExportedHandler<Env>;
