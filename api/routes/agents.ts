/** Agents of an org (admins write, members read), and which agents sit in a chat (chat members decide). */
import { and, asc, eq } from "drizzle-orm";
import {
  type AgentTools,
  addedChatAgentResponse,
  agentIdParams,
  agentResponse,
  agentsResponse,
  chatAgentBody,
  chatAgentsResponse,
  createAgentBody,
  mergeSecretHeaders,
  removedAgentResponse,
  toolsForDisplay,
  updateAgentBody,
} from "../../protocol/agents";
import { chatIdParams, createdResponse, orgIdParams } from "../../protocol/orgs";
import { isUuid, requireChatMember, requireOrgAdmin, requireOrgMember } from "../access";
import { requireNamedApproversInOrg } from "../approval-deciders";
import { type Database, postgresErrorCode } from "../db/client";
import { hasPlainHeaders, movePlainHeaders } from "../db/plain-headers";
import { agents, chatAgents } from "../db/schema";
import { badRequest, conflict, notFound } from "../errors";
import { authedRoute, jsonBody, jsonContent, router } from "../openapi";
import { syncRoomAgents } from "../orchestrator";

const agentColumns = {
  id: agents.id,
  name: agents.name,
  handle: agents.handle,
  systemPrompt: agents.systemPrompt,
  model: agents.model,
  trigger: agents.trigger,
  tools: agents.tools,
  createdAt: agents.createdAt,
  updatedAt: agents.updatedAt,
};

const tags = ["agents"];

const listAgentsRoute = authedRoute(
  {
    method: "get",
    path: "/{orgId}/agents",
    tags,
    summary: "The org's agents (secrets in header values shown by name)",
    request: { params: orgIdParams },
    responses: { 200: jsonContent(agentsResponse, "By handle.") },
  },
  ["not_found"],
);
const createAgentRoute = authedRoute(
  {
    method: "post",
    path: "/{orgId}/agents",
    tags,
    summary: "Define an agent (org admins)",
    request: { params: orgIdParams, body: jsonBody(createAgentBody) },
    responses: { 201: jsonContent(createdResponse, "The new agent's id.") },
  },
  ["forbidden", "not_found", "conflict"],
);
const updateAgentRoute = authedRoute(
  {
    method: "patch",
    path: "/{orgId}/agents/{agentId}",
    tags,
    summary: "Change an agent (org admins); only the fields sent change",
    description:
      "Header values may use `{{secret:NAME}}` (or `[secret:NAME]`, as shown); `[hidden]` keeps the value stored " +
      "before. A plain value is moved into a secret `AGENT_<HANDLE>_<HEADER>` granted to this agent only.",
    request: { params: agentIdParams, body: jsonBody(updateAgentBody) },
    responses: { 200: jsonContent(agentResponse, "The agent as it is now.") },
  },
  ["forbidden", "not_found", "conflict"],
);
const deleteAgentRoute = authedRoute(
  {
    method: "delete",
    path: "/{orgId}/agents/{agentId}",
    tags,
    summary: "Delete an agent (org admins); it leaves every chat",
    request: { params: agentIdParams },
    responses: { 200: jsonContent(removedAgentResponse, "Deleted.") },
  },
  ["forbidden", "not_found"],
);
const listChatAgentsRoute = authedRoute(
  {
    method: "get",
    path: "/{chatId}/agents",
    tags,
    summary: "The agents in a chat",
    request: { params: chatIdParams },
    responses: { 200: jsonContent(chatAgentsResponse, "By handle.") },
  },
  ["forbidden", "not_found"],
);
const addChatAgentRoute = authedRoute(
  {
    method: "post",
    path: "/{chatId}/agents",
    tags,
    summary: "Add an agent of the org to the chat (chat members)",
    request: { params: chatIdParams, body: jsonBody(chatAgentBody) },
    responses: { 201: jsonContent(addedChatAgentResponse, "Added (idempotent).") },
  },
  ["forbidden", "not_found"],
);
const removeChatAgentRoute = authedRoute(
  {
    method: "delete",
    path: "/{chatId}/agents",
    tags,
    summary: "Remove an agent from the chat (chat members)",
    request: { params: chatIdParams, body: jsonBody(chatAgentBody) },
    responses: { 200: jsonContent(removedAgentResponse, "Removed (idempotent).") },
  },
  ["forbidden", "not_found"],
);

export const orgAgentRoutes = router()
  .openapi(listAgentsRoute, async function listAgents(c) {
    const { orgId } = await requireOrgMember(c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
    const rows = await c.var.db
      .select(agentColumns)
      .from(agents)
      .where(eq(agents.orgId, orgId))
      .orderBy(asc(agents.handle));
    for (const row of rows) {
      if (hasPlainHeaders(row.tools)) row.tools = (await movePlainHeaders(c.env, c.var.db, row.id)) ?? row.tools;
    }
    return c.json({ agents: rows.map(forDisplay) }, 200);
  })
  .openapi(createAgentRoute, async function createAgent(c) {
    const { orgId } = await requireOrgAdmin(c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
    const body = c.req.valid("json");
    await requireNamedApproversInOrg(c.var.db, orgId, body.tools);
    const row = await c.var.db.transaction(async (tx) => {
      const [created] = await tx
        .insert(agents)
        .values({ ...body, model: body.model ?? null, orgId, createdBy: c.var.caller.userId })
        .onConflictDoNothing({ target: [agents.orgId, agents.handle] })
        .returning({ id: agents.id });
      if (created) {
        await c.var.audit.record(tx, {
          orgId,
          actor: { type: "user", id: c.var.caller.userId },
          action: "agent.created",
          target: `agent:${created.id}`,
        });
      }
      return created;
    });
    if (!row) throw conflict(`the handle @${body.handle} is taken in this org`);
    // A plain header value becomes a secret at once, as an older agent's does on its first read.
    if (hasPlainHeaders(body.tools)) await movePlainHeaders(c.env, c.var.db, row.id);
    return c.json({ id: row.id }, 201);
  })
  .openapi(updateAgentRoute, async function updateAgent(c) {
    const params = c.req.valid("param");
    const { orgId } = await requireOrgAdmin(c.var.db, params.orgId, c.var.caller.userId);
    const agentId = await requireAgentOf(c.var.db, orgId, params.agentId);
    const body = c.req.valid("json");
    await requireNamedApproversInOrg(c.var.db, orgId, body.tools);
    const stored = await movePlainHeaders(c.env, c.var.db, agentId);
    if (body.tools) body.tools = mergeSecretHeaders(body.tools, stored ?? {});
    try {
      await c.var.db.transaction(async (tx) => {
        const [current] = await tx.select().from(agents).where(eq(agents.id, agentId)).for("update");
        // Only the fields that differ from what is stored count: a repeat changes nothing and writes nothing.
        const changed = Object.entries(body)
          .filter(([key, value]) => value !== undefined && !sameJson(value, current?.[key as keyof typeof current]))
          .map(([key]) => key);
        if (!current || changed.length === 0) return;
        await tx
          .update(agents)
          .set({ ...body, updatedAt: new Date() })
          .where(eq(agents.id, agentId));
        await c.var.audit.record(tx, {
          orgId,
          actor: { type: "user", id: c.var.caller.userId },
          action: "agent.updated",
          target: `agent:${agentId} fields=${changed.sort().join(",")}`,
        });
      });
    } catch (error) {
      if (postgresErrorCode(error) === "23505") throw conflict(`the handle @${body.handle} is taken in this org`);
      throw error;
    }
    if (body.tools && hasPlainHeaders(body.tools)) await movePlainHeaders(c.env, c.var.db, agentId);
    await syncChatsOfAgent(c.env, c.var.db, agentId);
    const [agent] = await c.var.db.select(agentColumns).from(agents).where(eq(agents.id, agentId));
    return c.json({ agent: forDisplay(agent) }, 200);
  })
  .openapi(deleteAgentRoute, async function deleteAgent(c) {
    const params = c.req.valid("param");
    const { orgId } = await requireOrgAdmin(c.var.db, params.orgId, c.var.caller.userId);
    const agentId = await requireAgentOf(c.var.db, orgId, params.agentId);
    const chats = await chatsOfAgent(c.var.db, agentId);
    await c.var.db.transaction(async (tx) => {
      const deleted = await tx.delete(agents).where(eq(agents.id, agentId)).returning({ id: agents.id });
      if (deleted.length === 0) return;
      await c.var.audit.record(tx, {
        orgId,
        actor: { type: "user", id: c.var.caller.userId },
        action: "agent.deleted",
        target: `agent:${agentId}`,
      });
    });
    await Promise.all(chats.map((chatId) => syncRoom(c.env, c.var.db, chatId)));
    return c.json({ removed: { agentId } }, 200);
  });

export const chatAgentRoutes = router()
  .openapi(listChatAgentsRoute, async function listChatAgents(c) {
    const { chat } = await requireChatMember(c.var.db, c.req.valid("param").chatId, c.var.caller.userId);
    return c.json({ agents: await agentsInChat(c.var.db, chat.id) }, 200);
  })
  .openapi(addChatAgentRoute, async function addChatAgent(c) {
    const { chat } = await requireChatMember(c.var.db, c.req.valid("param").chatId, c.var.caller.userId);
    const { agentId } = c.req.valid("json");
    const [agent] = await c.var.db
      .select({ id: agents.id })
      .from(agents)
      .where(and(eq(agents.id, agentId), eq(agents.orgId, chat.orgId)));
    if (!agent) throw badRequest("only agents of the chat's org can be added to it");
    await c.var.db.transaction(async (tx) => {
      const added = await tx
        .insert(chatAgents)
        .values({ chatId: chat.id, agentId, addedBy: c.var.caller.userId })
        .onConflictDoNothing()
        .returning({ agentId: chatAgents.agentId });
      if (added.length === 0) return;
      await c.var.audit.record(tx, {
        orgId: chat.orgId,
        actor: { type: "user", id: c.var.caller.userId },
        action: "chat.agent_added",
        target: `agent:${agentId} chat:${chat.id}`,
      });
    });
    await syncRoom(c.env, c.var.db, chat.id);
    return c.json({ agent: { agentId } }, 201);
  })
  .openapi(removeChatAgentRoute, async function removeChatAgent(c) {
    const { chat } = await requireChatMember(c.var.db, c.req.valid("param").chatId, c.var.caller.userId);
    const { agentId } = c.req.valid("json");
    await c.var.db.transaction(async (tx) => {
      const removed = await tx
        .delete(chatAgents)
        .where(and(eq(chatAgents.chatId, chat.id), eq(chatAgents.agentId, agentId)))
        .returning({ agentId: chatAgents.agentId });
      if (removed.length === 0) return;
      await c.var.audit.record(tx, {
        orgId: chat.orgId,
        actor: { type: "user", id: c.var.caller.userId },
        action: "chat.agent_removed",
        target: `agent:${agentId} chat:${chat.id}`,
      });
    });
    await syncRoom(c.env, c.var.db, chat.id);
    return c.json({ removed: { agentId } }, 200);
  });

/** Secrets show by name and plain header values not at all: no response carries a value, not even to admins. */
function forDisplay<T extends { tools: AgentTools; createdAt: Date; updatedAt: Date }>(agent: T) {
  return {
    ...agent,
    tools: toolsForDisplay(agent.tools),
    createdAt: agent.createdAt.toISOString(),
    updatedAt: agent.updatedAt.toISOString(),
  };
}

/** Equal as JSON, whatever the order of object keys (jsonb does not keep it). */
function sameJson(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

async function requireAgentOf(db: Database, orgId: string, agentId: string): Promise<string> {
  if (!isUuid(agentId)) throw notFound("agent not found");
  const [row] = await db
    .select({ id: agents.id })
    .from(agents)
    .where(and(eq(agents.id, agentId), eq(agents.orgId, orgId)));
  if (!row) throw notFound("agent not found");
  return row.id;
}

async function agentsInChat(db: Database, chatId: string) {
  return db
    .select({
      agentId: agents.id,
      name: agents.name,
      handle: agents.handle,
      trigger: agents.trigger,
      model: agents.model,
    })
    .from(chatAgents)
    .innerJoin(agents, eq(agents.id, chatAgents.agentId))
    .where(eq(chatAgents.chatId, chatId))
    .orderBy(asc(agents.handle));
}

async function chatsOfAgent(db: Database, agentId: string): Promise<string[]> {
  const rows = await db.select({ chatId: chatAgents.chatId }).from(chatAgents).where(eq(chatAgents.agentId, agentId));
  return rows.map((row) => row.chatId);
}

/** Tells a chat's room which agents sit in it now. Postgres is read here, so the room never has to. */
async function syncRoom(env: Env, db: Database, chatId: string): Promise<void> {
  const list = await agentsInChat(db, chatId);
  await syncRoomAgents(
    env,
    chatId,
    list.map(({ agentId, name, handle, trigger }) => ({ agentId, name, handle, trigger })),
  );
}

export async function syncChatsOfAgent(env: Env, db: Database, agentId: string): Promise<void> {
  await Promise.all((await chatsOfAgent(db, agentId)).map((chatId) => syncRoom(env, db, chatId)));
}
