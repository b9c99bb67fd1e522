/** An agent's definition, read from Postgres when a run starts (never on the room's message path). */
import { eq } from "drizzle-orm";
import { openDatabase } from "../api/db/client";
import { agents } from "../api/db/schema";
import type { AgentTools } from "../protocol/agents";

export type AgentConfig = {
  id: string;
  name: string;
  handle: string;
  systemPrompt: string;
  model: string | null;
  tools: AgentTools;
};

export async function loadAgentConfig(env: Env, agentId: string): Promise<AgentConfig | null> {
  const { db, close } = openDatabase(env);
  try {
    const [row] = await db
      .select({
        id: agents.id,
        name: agents.name,
        handle: agents.handle,
        systemPrompt: agents.systemPrompt,
        model: agents.model,
        tools: agents.tools,
      })
      .from(agents)
      .where(eq(agents.id, agentId));
    return row ?? null;
  } finally {
    await close();
  }
}
