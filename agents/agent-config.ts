/**
 * An agent's definition, read from Postgres when a run starts (never on the room's message path). The table is the
 * one drizzle schema's (`api/db/schema.ts`; agents take from `api/` only what is in `api/db/`); the connection is the agents'
 * own (`database.ts`).
 */
import { eq } from "drizzle-orm";
import { hasPlainHeaders, movePlainHeaders } from "../api/db/plain-headers";
import { agents } from "../api/db/schema";
import type { AgentTools } from "../protocol/agents";
import { readDatabase } from "./database";

export type AgentConfig = {
  id: string;
  orgId: string;
  name: string;
  handle: string;
  systemPrompt: string;
  model: string | null;
  tools: AgentTools;
};

export async function loadAgentConfig(env: Env, agentId: string): Promise<AgentConfig | null> {
  const [row] = await readDatabase(env, (db) =>
    db
      .select({
        id: agents.id,
        orgId: agents.orgId,
        name: agents.name,
        handle: agents.handle,
        systemPrompt: agents.systemPrompt,
        model: agents.model,
        tools: agents.tools,
      })
      .from(agents)
      .where(eq(agents.id, agentId)),
  );
  if (!row) return null;
  // Plain header values left from before secrets are moved the first time anything reads the agent.
  if (hasPlainHeaders(row.tools))
    row.tools = (await readDatabase(env, (db) => movePlainHeaders(env, db, agentId))) ?? row.tools;
  return row;
}
