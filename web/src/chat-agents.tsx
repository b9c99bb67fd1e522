/**
 * The agents in a chat: pick any of the org's agents to add, or bring in the built-in assistant, which is created
 * from the server's template (`GET …/agent-templates`) the first time.
 */
import { useEffect, useState } from "preact/hooks";
import { listTemplates } from "./agents";
import { type ChatAgent, type ChatRef, call, client, type OrgRef } from "./api";

export function ChatAgents({
  chat,
  org,
  onChange,
}: {
  chat: ChatRef;
  org: OrgRef;
  onChange: (agents: ChatAgent[]) => void;
}) {
  const [agents, setAgents] = useState<ChatAgent[]>([]);
  const [orgAgents, setOrgAgents] = useState<{ id: string; handle: string; name: string }[]>([]);
  const [pick, setPick] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const chatAgents = client.api.chats[":chatId"].agents;
  const orgAgentsApi = client.api.orgs[":orgId"].agents;

  async function reload() {
    try {
      const listed = (await call(chatAgents.$get({ param: { chatId: chat.id } }))).agents;
      setAgents(listed);
      onChange(listed);
      setOrgAgents((await call(orgAgentsApi.$get({ param: { orgId: org.id } }))).agents);
      setProblem(null);
    } catch (e) {
      setProblem((e as Error).message);
    }
  }
  useEffect(() => {
    void reload();
  }, [chat.id]);

  async function add(agentId: string) {
    await call(chatAgents.$post({ param: { chatId: chat.id }, json: { agentId } }));
    setPick("");
    await reload();
  }
  async function addAssistant() {
    try {
      let agentId = orgAgents.find((a) => a.handle === "assistant")?.id;
      if (!agentId) {
        const template = (await listTemplates(org.id)).find((t) => t.id === "assistant");
        if (!template) throw new Error("this server offers no assistant template");
        agentId = (await call(orgAgentsApi.$post({ param: { orgId: org.id }, json: template.agent }))).id;
      }
      await add(agentId);
    } catch (e) {
      setProblem((e as Error).message);
    }
  }
  const inChat = new Set(agents.map((a) => a.agentId));
  const addable = orgAgents.filter((a) => !inChat.has(a.id));
  return (
    <div class="agents" data-testid="agents">
      agents: {agents.map((a) => `@${a.handle}`).join(", ") || "none"}{" "}
      {!agents.some((a) => a.handle === "assistant") && (
        <button type="button" class="small-button" onClick={() => void addAssistant()}>
          add @assistant
        </button>
      )}
      {addable.length > 0 && (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            if (pick) add(pick).catch((err: Error) => setProblem(err.message));
          }}
        >
          <label>
            Add an agent{" "}
            <select name="chatAgent" value={pick} onChange={(e) => setPick(e.currentTarget.value)}>
              <option value="">choose…</option>
              {addable.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name} (@{a.handle})
                </option>
              ))}
            </select>
          </label>{" "}
          <button type="submit" class="small-button">
            add to chat
          </button>
        </form>
      )}
      {problem && <span class="error"> {problem}</span>}
    </div>
  );
}
