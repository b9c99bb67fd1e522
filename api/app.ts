/** The App API: every REST endpoint and the socket route, under /api. */
import { Hono } from "hono";
import { devTokenRoutes } from "./auth/dev-token";
import type { AppEnv } from "./context";
import { errorBody, toErrorResponse } from "./errors";
import { authenticate } from "./middleware/authenticate";
import { database } from "./middleware/database";
import { strictBody } from "./middleware/strict-body";
import { chatAgentRoutes, orgAgentRoutes } from "./routes/agents";
import { approvalRoutes } from "./routes/approvals";
import { chatMemberRoutes, orgChatRoutes } from "./routes/chats";
import { devToolRoutes } from "./routes/dev-tools";
import { messageRoutes, socketRoutes } from "./routes/messages";
import { orgRoutes } from "./routes/orgs";
import { webhookRoutes } from "./routes/webhooks";

const authenticated = new Hono<AppEnv>()
  .use("/orgs/*", authenticate(), database)
  .use("/chats/*", authenticate(), database)
  .route("/orgs", orgRoutes)
  .route("/orgs", orgChatRoutes)
  .route("/orgs", orgAgentRoutes)
  .route("/chats", chatAgentRoutes)
  .route("/chats", approvalRoutes)
  .route("/chats", chatMemberRoutes)
  .route("/chats", messageRoutes);

export const app = new Hono<AppEnv>()
  .basePath("/api")
  .use(strictBody)
  .get("/health", (c) => c.json({ ok: true }))
  .route("/dev", devTokenRoutes)
  .route("/dev", devToolRoutes)
  .route("/chats", socketRoutes)
  .route("/webhooks", webhookRoutes)
  .route("/", authenticated)
  .notFound((c) => c.json(errorBody("not_found", "no such endpoint"), 404))
  .onError(toErrorResponse);

export type AppType = typeof app;
