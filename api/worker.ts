/** The one Worker: the App API and Orchestrator in front, the chat rooms (Durable Objects) behind. */
import { app } from "./app";

export { ChatRoom } from "../rooms/chat-room";

export default {
  fetch(request, env, ctx) {
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
