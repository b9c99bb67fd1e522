/**
 * Header values written before secrets existed are plain text in `agents.tools`. A SQL migration cannot seal them
 * (only the Worker holds the key), so the Worker moves them the first time it reads such an agent: each becomes a
 * secret `AGENT_<HANDLE>_<HEADER>` granted to that agent only, and the header references it. The row is locked while
 * it moves, so two readers at once move it once. Without a key configured nothing moves (and nothing is shown).
 */
import { eq } from "drizzle-orm";
import type { NodePgDatabase } from "drizzle-orm/node-postgres";
import type { AgentTools } from "../../protocol/agents";
import { isPlainHeaderValue } from "../../protocol/secrets";
import { agents, secrets } from "./schema";
import { sealValue, secretScope, secretsConfigured } from "./secret-values";

export function hasPlainHeaders(tools: AgentTools): boolean {
  return Object.values(tools.http?.headers ?? {}).some(isPlainHeaderValue);
}

/** The secret a plain header of an agent moves into: uppercased, anything but A-Z and 0-9 as `_`, at most 64. */
export function movedSecretName(handle: string, header: string): string {
  return `AGENT_${handle}_${header}`
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "_")
    .slice(0, 64);
}

/** Moves the agent's plain header values into secrets; answers its tools as they are now (null: no such agent). */
export async function movePlainHeaders<S extends Record<string, unknown>>(
  env: Env,
  db: NodePgDatabase<S>,
  agentId: string,
): Promise<AgentTools | null> {
  return db.transaction(async (tx) => {
    const [agent] = await tx
      .select({ orgId: agents.orgId, handle: agents.handle, tools: agents.tools })
      .from(agents)
      .where(eq(agents.id, agentId))
      .for("update");
    if (!agent) return null;
    const headers = agent.tools.http?.headers;
    if (!agent.tools.http || !headers || !hasPlainHeaders(agent.tools) || !secretsConfigured(env)) return agent.tools;
    const rows = await tx.select({ name: secrets.name }).from(secrets).where(eq(secrets.orgId, agent.orgId));
    const taken = new Set(rows.map((row) => row.name));
    const moved: Record<string, string> = {};
    for (const [header, value] of Object.entries(headers)) {
      if (!isPlainHeaderValue(value)) {
        moved[header] = value;
        continue;
      }
      const name = freeName(taken, movedSecretName(agent.handle, header));
      taken.add(name);
      await tx.insert(secrets).values({
        orgId: agent.orgId,
        name,
        grants: { chats: "all", agents: [agentId] },
        ...(await sealValue(env, secretScope(agent.orgId, name), value)),
      });
      moved[header] = `{{secret:${name}}}`;
    }
    const tools: AgentTools = { ...agent.tools, http: { ...agent.tools.http, headers: moved } };
    await tx.update(agents).set({ tools }).where(eq(agents.id, agentId));
    return tools;
  });
}

/** The name, or the name with `_2`, `_3`… when an admin already holds it. */
function freeName(taken: Set<string>, base: string): string {
  for (let n = 1; ; n++) {
    const suffix = n === 1 ? "" : `_${n}`;
    const name = base.slice(0, 64 - suffix.length) + suffix;
    if (!taken.has(name)) return name;
  }
}
