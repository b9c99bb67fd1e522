/**
 * What a tool call may do, decided before anything runs: a call to a tool the agent lacks, with input that does not
 * parse, or off the egress allow list is refused; an HTTP call that changes the outside world (POST, PUT, PATCH,
 * DELETE) waits for a member's approval; the rest run at once. Members see a request's headers with each secret shown
 * as `[secret:NAME]` in place; the values are put in only when the call runs (`secret-headers.ts`).
 */
import {
  type AgentTools,
  type HttpRequestInput,
  headersForDisplay,
  httpRequestInput,
  MUTATING_METHODS,
} from "../../protocol/agents";
import type { AgentConfig } from "../agent-config";
import type { ToolCall } from "../tool-calls";
import { HISTORY_TOOL, HTTP_TOOL } from "./definitions";
import { checkEgress, devAllowOrigins, type EgressVerdict } from "./egress";

export type HttpTool = NonNullable<AgentTools["http"]>;

export type CallPlan =
  | { tool: "http"; http: HttpTool; input: HttpRequestInput; url: URL; needsApproval: boolean }
  | { tool: "history" }
  | { tool: "refused"; reason: string; egress?: true };

export function planCall(agent: AgentConfig, call: ToolCall, env: Env): CallPlan {
  const http = agent.tools.http;
  if (call.toolName === HTTP_TOOL && http) {
    const input = httpRequestInput.safeParse(call.input);
    if (!input.success) return { tool: "refused", reason: "invalid request" };
    const verdict = egressFor(http, input.data, env);
    if (!verdict.ok) return { tool: "refused", reason: verdict.reason, egress: true };
    return {
      tool: "http",
      http,
      input: input.data,
      url: verdict.url,
      needsApproval: MUTATING_METHODS.has(input.data.method),
    };
  }
  if (call.toolName === HISTORY_TOOL && agent.tools.history) return { tool: "history" };
  return { tool: "refused", reason: "this agent has no such tool" };
}

/**
 * The egress check, also made again after a decision: the allow list may have changed while the call waited. The
 * org's settings and the host's addresses are checked again right before sending (`http-request.ts`).
 */
export function egressFor(http: HttpTool, input: HttpRequestInput, env: Env): EgressVerdict {
  const verdict = checkEgress(http, input.method, input.url, {
    development: env.PARLOR_ENV === "development",
    devAllowOrigins: devAllowOrigins(env),
  });
  return verdict;
}

/** What members see of the request's headers: each secret as `[secret:NAME]`, in place (never a value). */
export function maskedHeaders(config: HttpTool): Record<string, string> {
  return headersForDisplay(config.headers);
}
