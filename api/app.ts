import { requestId } from "hono/request-id";
import { clientFrameSchema } from "../protocol/chat";
import { roomEventSchema } from "../protocol/events";
import { openApiDocumentResponse } from "../protocol/operations";
import { configResponse, healthResponse } from "../protocol/orgs";
import { devAuthEnabled, devTokenRoutes } from "./auth/dev-token";
import { DATABASE_RETRY_AFTER_SECONDS } from "./db/client";
import { errorBody, toErrorResponse } from "./errors";
import { checkHealth } from "./health";
import { authenticate } from "./middleware/authenticate";
import { database } from "./middleware/database";
import { strictBody } from "./middleware/strict-body";
import { jsonContent, publicRoute, router } from "./openapi";
import { agentTemplateRoutes } from "./routes/agent-templates";
import { chatAgentRoutes, orgAgentRoutes } from "./routes/agents";
import { approvalRoutes } from "./routes/approvals";
import { auditRoutes } from "./routes/audit";
import { chatBackupRoutes, orgRestoreRoutes } from "./routes/backups";
import { billingRoutes } from "./routes/billing";
import { chatLifecycleRoutes, orgRenameRoutes } from "./routes/chat-lifecycle";
import { chatMemberRoutes, orgChatRoutes } from "./routes/chats";
import { devCounterRoutes } from "./routes/dev-counters";
import { devToolRoutes } from "./routes/dev-tools";
import { egressRoutes } from "./routes/egress";
import { invitationRoutes } from "./routes/invitations";
import { marketplaceRoutes, orgMarketplaceRoutes } from "./routes/marketplace";
import { messageEditRoutes } from "./routes/message-edits";
import { messageRoutes, socketRoutes } from "./routes/messages";
import { orgRoutes } from "./routes/orgs";
import { readingRoutes } from "./routes/reading";
import { runRoutes } from "./routes/runs";
import { chatSearchRoutes, orgSearchRoutes } from "./routes/search";
import { secretRoutes } from "./routes/secrets";
import { stripeWebhookRoutes } from "./routes/stripe-webhook";
import { webhookRoutes } from "./routes/webhooks";

const healthRoute = publicRoute({
  method: "get",
  path: "/health",
  tags: ["meta"],
  summary: "Are the Worker, its database and its rooms up",
  responses: {
    200: jsonContent(healthResponse, "The database and a probe room answered; each with its latency in ms."),
    503: jsonContent(healthResponse, "The database or the probe room did not answer within the deadline."),
  },
});
const configRoute = publicRoute({
  method: "get",
  path: "/config",
  tags: ["meta"],
  summary: "How a client signs in here",
  responses: { 200: jsonContent(configResponse, "Clerk's publishable key, or development sign-in.") },
});

// Middleware is added in statements of its own, so it stays out of the routes' type (and the typed client's).
const authenticatedRoot = router();
authenticatedRoot.use("/orgs/*", authenticate(), database);
authenticatedRoot.use("/chats/*", authenticate(), database);
authenticatedRoot.use("/marketplace/*", authenticate(), database);
const authenticated = authenticatedRoot
  .route("/orgs", orgRoutes)
  .route("/orgs", orgChatRoutes)
  .route("/orgs", orgAgentRoutes)
  .route("/orgs", secretRoutes)
  .route("/orgs", egressRoutes)
  .route("/orgs", billingRoutes)
  .route("/orgs", auditRoutes)
  .route("/chats", chatAgentRoutes)
  .route("/chats", approvalRoutes)
  .route("/chats", chatMemberRoutes)
  .route("/chats", messageRoutes)
  .route("/chats", runRoutes)
  .route("/chats", chatBackupRoutes)
  .route("/orgs", orgRestoreRoutes)
  .route("/chats", messageEditRoutes)
  .route("/chats", chatSearchRoutes)
  .route("/orgs", orgSearchRoutes)
  .route("/chats", chatLifecycleRoutes)
  .route("/orgs", orgRenameRoutes)
  .route("/marketplace", marketplaceRoutes)
  .route("/orgs", orgMarketplaceRoutes)
  .route("/orgs", agentTemplateRoutes)
  .route("/orgs", invitationRoutes)
  .route("/chats", readingRoutes);

const root = router().basePath("/api");
root.use(requestId());
root.use(strictBody);
const api = root
  .openapi(healthRoute, async (c) => {
    const health = await checkHealth(c.env, (promise) => c.executionCtx.waitUntil(promise));
    if (health.ok) return c.json(health, 200);
    c.header("Retry-After", String(DATABASE_RETRY_AFTER_SECONDS));
    return c.json(health, 503);
  })
  .openapi(configRoute, (c) =>
    c.json(
      { clerkPublishableKey: c.env.CLERK_PUBLISHABLE_KEY ?? null, devSignIn: devAuthEnabled(c.env, c.req.url) },
      200,
    ),
  )
  .route("/dev", devTokenRoutes)
  .route("/dev", devToolRoutes)
  .route("/dev", devCounterRoutes)
  .route("/chats", socketRoutes)
  .route("/webhooks", webhookRoutes)
  .route("/webhooks", stripeWebhookRoutes)
  .route("/", authenticated);

api.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
  type: "http",
  scheme: "bearer",
  bearerFormat: "JWT",
  description: "A Clerk session token (or, in development, one from POST /api/dev/token).",
});
// No route references the socket's events and frames, so they are added to components by hand. Not through
// `register()`: it calls zod-to-openapi's prototype extension, which schemas built before that extension loaded lack;
// the generator reads the name from each schema's own `.meta({ id })`.
const registry = api.openAPIRegistry as unknown as { _definitions: { type: "schema"; schema: unknown }[] };
registry._definitions.push({ type: "schema", schema: roomEventSchema }, { type: "schema", schema: clientFrameSchema });

export const openApiInfo = {
  openapi: "3.1.0",
  info: {
    title: "Parlor API",
    version: "0.1.0",
    description:
      "Realtime chat rooms where people and AI agents work together. Errors are `{ error: { code, message } }`. " +
      "The socket upgrades are listed with their 101 answer; the events a room sends are `RoomEvent`, the frames a " +
      "client sends are `ClientFrame` (components.schemas).",
  },
} as const;

const openApiRoute = publicRoute({
  method: "get",
  path: "/openapi.json",
  tags: ["meta"],
  summary: "This document (OpenAPI 3.1)",
  responses: { 200: jsonContent(openApiDocumentResponse, "The OpenAPI 3.1 document.") },
});

/** Generated once per isolate: the routes do not change while it lives, and generating takes a while. */
let openApiDocument: Record<string, unknown> | null = null;

export const app = api
  .openapi(openApiRoute, (c) => {
    openApiDocument ??= api.getOpenAPI31Document(openApiInfo) as unknown as Record<string, unknown>;
    return c.json(openApiDocument, 200);
  })
  .notFound((c) => c.json(errorBody("not_found", "no such endpoint"), 404))
  .onError(toErrorResponse);

export type AppType = typeof app;
