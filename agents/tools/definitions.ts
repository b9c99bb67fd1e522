/**
 * The fixed tool set, as the model sees it. Tools have no `execute` and no approval setting here: the agent runs
 * each call itself (`run-calls.ts`), so a call that needs a human can stop the run durably and continue after the
 * decision. Not the AI SDK's approval flow: it sends an approved call again whenever its messages are replayed (after
 * a crash, say), and runs a step's other calls before the decision (docs/decisions.md, "Agents run their own tool
 * loop").
 */
import { type ToolSet, tool } from "ai";
import { historyInput, httpRequestInput } from "../../protocol/agents";
import type { AgentConfig } from "../agent-config";

export const HTTP_TOOL = "http_request";
export const HISTORY_TOOL = "chat_history";

export function toolsFor(agent: AgentConfig): ToolSet {
  const tools: ToolSet = {};
  if (agent.tools.http) {
    tools[HTTP_TOOL] = tool({
      description:
        "Make an HTTP request to an allowed service. GET and HEAD run at once; POST, PUT, PATCH and DELETE wait for a member of the chat to approve them.",
      inputSchema: httpRequestInput,
    });
  }
  if (agent.tools.history) {
    tools[HISTORY_TOOL] = tool({
      description: "Search earlier messages of this chat (this chat only) for a word or phrase.",
      inputSchema: historyInput,
    });
  }
  return tools;
}
