/**
 * Running one tool call for a run and reporting it to the room: its status for everyone to see, its artifact, and
 * the result the model gets next. Whether a call may run at all, and when, is `tools/policy.ts`.
 */
import type { ModelMessage } from "ai";
import { type AgentTools, type HttpRequestInput, historyInput } from "../protocol/agents";
import { rateLimitsOf } from "../protocol/limits";
import { takeEgress } from "./org-limiter";
import type { RunLink } from "./run-link";
import type { RunState, ToolResult } from "./run-state";
import { EgressRefused, performRequest } from "./tools/http-request";
import { redactSecrets } from "./tools/redaction";
import { resolveHeaders } from "./tools/secret-headers";

export type ToolCall = { toolCallId: string; toolName: string; input: unknown };

/** What the model sees of a response body; the whole (capped) body is in the artifact. */
const BODY_FOR_MODEL = 4_000;

export async function runHttpCall(
  env: Env,
  agent: { id: string; orgId: string },
  run: RunLink,
  state: RunState,
  http: AgentTools["http"],
  call: ToolCall,
  input: HttpRequestInput,
  url: URL,
): Promise<ToolResult> {
  if (!http) return toolFailed(run, call, "this agent has no HTTP tool");
  const target = { orgId: agent.orgId, agentId: agent.id, chatId: state.request.chatId };
  // Before any secret is read: a request over the org's or the agent's rate is not sent at all.
  const take = await takeEgress(env, agent.orgId, agent.id, rateLimitsOf(env));
  if (!take.ok) {
    const reason = `rate limited: this org or agent sent too many requests this minute; try again in ${Math.ceil(take.retryAfterMs / 1000)} s; nothing was sent`;
    await reportEgressRefusal(run, "rate limited: too many requests this minute");
    return toolFailed(run, call, reason);
  }
  const resolved = await resolveHeaders(env, target, http.headers ?? {});
  if (!resolved.ok) {
    // Audited in the room (once a minute per reason, with a count); the call fails whatever happens to the report.
    await run.refused("secret.refused", resolved.reason).catch(() => {});
    return toolFailed(run, call, resolved.reason);
  }
  try {
    const outcome = await performRequest(url, input, resolved.headers, resolved.revealed, {
      env,
      orgId: agent.orgId,
      http,
    });
    if (outcome.redirectRefused) await reportEgressRefusal(run, outcome.redirectRefused);
    const artifactId = await run.storeArtifact({
      kind: "http_response",
      status: outcome.status,
      contentType: outcome.contentType ?? undefined,
      body: outcome.body,
      truncated: outcome.truncated,
    });
    state.artifactIds.push(artifactId);
    const output = {
      status: outcome.status,
      contentType: outcome.contentType,
      body: outcome.body.slice(0, BODY_FOR_MODEL),
      truncated: outcome.truncated,
      artifactId,
      ...(outcome.redirectRefused ? { redirectRefused: outcome.redirectRefused } : {}),
    };
    await run.tool({ ...call, name: call.toolName, status: "done", output: { status: outcome.status, artifactId } });
    return { toolCallId: call.toolCallId, toolName: call.toolName, output };
  } catch (error) {
    const reason = redactSecrets(error instanceof Error ? error.message : "the request failed", resolved.revealed);
    if (error instanceof EgressRefused) await reportEgressRefusal(run, reason);
    return toolFailed(run, call, reason);
  }
}

/** Audited in the room (once a minute per reason, with a count); the call is refused whatever happens to the report. */
export async function reportEgressRefusal(run: RunLink, reason: string): Promise<void> {
  await run.refused("egress.refused", reason).catch(() => {});
}

/** Searches the chat before the message that woke the run (the room bounds it by its own record of the run). */
export async function runHistoryCall(run: RunLink, call: ToolCall): Promise<ToolResult> {
  const input = historyInput.safeParse(call.input);
  if (!input.success) return toolFailed(run, call, "invalid search");
  const found = await run.searchHistory(input.data.query, input.data.limit ?? 10);
  const output = {
    query: input.data.query,
    messages: found.map((m) => ({ seq: m.seq, author: m.author.name ?? m.author.id, text: m.text })),
  };
  await run.tool({ ...call, name: call.toolName, status: "done", output });
  return { toolCallId: call.toolCallId, toolName: call.toolName, output };
}

export async function toolFailed(run: RunLink, call: ToolCall, reason: string): Promise<ToolResult> {
  const output = { error: reason };
  await run.tool({ ...call, name: call.toolName, status: "failed", output });
  return { toolCallId: call.toolCallId, toolName: call.toolName, output };
}

/** The tool turn the model reads next: every result of a step, in the order of its calls. */
export function toolMessage(results: ToolResult[]): ModelMessage {
  return {
    role: "tool",
    content: results.map((result) => ({
      type: "tool-result",
      toolCallId: result.toolCallId,
      toolName: result.toolName,
      output: { type: "json", value: result.output as never },
    })),
  };
}
