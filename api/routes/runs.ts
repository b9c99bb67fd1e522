/** Agent runs in a chat: stopping one (its initiator or an org admin) and retrying one that stopped or failed. */
import { retryRunResponse, runParams, stopRunResponse } from "../../protocol/agents";
import { requireChatMember } from "../access";
import { authedRoute, jsonContent, router } from "../openapi";
import { retryInRoom, stopInRoom } from "../orchestrator";

const tags = ["agents"];

const stopRunRoute = authedRoute(
  {
    method: "post",
    path: "/{chatId}/runs/{runId}/stop",
    tags,
    summary: "Stop a running agent (the member whose message started it, or an org admin)",
    description:
      "The reply so far is stored once, marked `stopped` (a run that wrote nothing stores a short notice), and " +
      'everyone sees `run.finished` with `stopped: true`. The same as the socket frame `{ type: "stop", runId }`.',
    request: { params: runParams },
    responses: { 200: jsonContent(stopRunResponse, "Stopped; `seq` is the stored partial reply or notice.") },
  },
  ["forbidden", "not_found", "conflict"],
);
const retryRunRoute = authedRoute(
  {
    method: "post",
    path: "/{chatId}/runs/{runId}/retry",
    tags,
    summary: "Run a stopped or failed run again, for the same message (chat members)",
    description:
      "The new run is the caller's: an approval its tools ask for follows the caller's authority. Paid work: 402 when " +
      "the org's billing has lapsed, 429 `quota_exceeded` when a quota or the caller's cap is spent.",
    request: { params: runParams },
    responses: { 201: jsonContent(retryRunResponse, "The new run's id; `run.started` follows on the socket.") },
  },
  ["forbidden", "not_found", "conflict", "rate_limited", "billing_lapsed", "quota_exceeded"],
);

export const runRoutes = router()
  .openapi(stopRunRoute, async function stopRun(c) {
    const { userId } = c.var.caller;
    const { chatId, runId } = c.req.valid("param");
    const { chat, name, orgRole } = await requireChatMember(c.var.db, chatId, userId);
    const { seq } = await stopInRoom(c.env, chat.id, { userId, name, role: orgRole }, runId);
    return c.json({ runId, seq, stopped: true as const }, 200);
  })
  .openapi(retryRunRoute, async function retryRun(c) {
    const { userId } = c.var.caller;
    const { chatId, runId } = c.req.valid("param");
    const { chat, name, orgRole } = await requireChatMember(c.var.db, chatId, userId);
    return c.json(await retryInRoom(c.env, chat.id, { userId, name, role: orgRole }, runId), 201);
  });
