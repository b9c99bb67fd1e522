/**
 * A call that changes the outside world waits for a member's decision, durably, however long it takes: the wait is
 * saved before the room is asked (the room keeps one approval per tool call, so asking twice is harmless), a
 * decision is saved before `resumeRun` returns (so the room may mark it delivered), and an approved request is marked
 * `executing` before it is sent, so a crash can only report it, never send it twice. Decisions come from the room
 * alone, through `resumeRun`.
 */
import { type AgentConfig, loadAgentConfig } from "./agent-config";
import { RunFailure } from "./run-failure";
import type { RunScope } from "./run-scope";
import { loadRunState, type PendingCall, type RunState, saveRunState, type ToolResult } from "./run-state";
import { reportEgressRefusal, runHttpCall, type ToolCall, toolFailed } from "./tool-calls";
import { HTTP_TOOL } from "./tools/definitions";
import { type CallPlan, egressFor, type HttpTool, maskedHeaders } from "./tools/policy";

export type Decision = NonNullable<RunState["decision"]>;

/** Stops the run at `call`: `done` holds the step's results so far, `later` its calls still to run. */
export async function waitForApproval(
  scope: RunScope,
  agent: AgentConfig,
  state: RunState,
  call: ToolCall,
  plan: Extract<CallPlan, { tool: "http" }>,
  done: ToolResult[],
  later: ToolCall[],
): Promise<void> {
  // The wait is saved before the room hears of it, so a crash in between cannot lose the request.
  state.phase = "waiting";
  state.pending = {
    approvalId: null,
    toolCallId: call.toolCallId,
    input: { ...plan.input, url: plan.url.toString() },
    done,
    later,
  };
  saveRunState(scope.sql, state);
  await askForApproval(scope, state, agent);
  await scope.run.tool({ ...call, name: call.toolName, status: "waiting_approval" });
}

/** Asks the room to put the pending call to its members; also after a restart that came between saving and asking. */
export async function askForApproval(scope: RunScope, state: RunState, known?: AgentConfig): Promise<void> {
  const pending = state.pending as PendingCall;
  const agent = known ?? (await loadAgentConfig(scope.env, state.request.agentId));
  const http = agent?.tools.http;
  if (!http) throw new RunFailure("the agent no longer has the HTTP tool");
  const approval = await scope.run.requestApproval({
    toolCallId: pending.toolCallId,
    method: pending.input.method,
    url: pending.input.url,
    headers: maskedHeaders(http),
    body: pending.input.body ?? null,
    approvers: http.approval?.approvers ?? "initiator",
    timeoutSeconds: http.approval?.timeoutSeconds ?? 600,
    quorum: http.approval?.quorum,
    onExpiry: http.approval?.onExpiry,
  });
  if (!approval) throw new RunFailure("the room no longer runs this request");
  // A decision may have arrived during the call above: patch the saved state, never write back a stale one.
  const saved = loadRunState(scope.sql, state.request.runId);
  if (saved?.pending && saved.pending.toolCallId === pending.toolCallId) {
    saved.pending.approvalId ??= approval.approvalId;
    saveRunState(scope.sql, saved);
  }
  pending.approvalId = approval.approvalId;
}

/**
 * Saves the room's decision on the call the run waits for (phase `decided`) and says whether it did: a decision on
 * another call, or one that arrives twice, changes nothing.
 */
export function recordDecision(
  sql: SqlStorage,
  runId: string,
  approvalId: string,
  toolCallId: string,
  decision: Decision,
): boolean {
  const state = loadRunState(sql, runId);
  if (!state || state.pending?.toolCallId !== toolCallId || state.phase !== "waiting") return false;
  state.pending.approvalId ??= approvalId;
  state.phase = "decided";
  state.decision = decision;
  saveRunState(sql, state);
  return true;
}

/**
 * Carries out a saved decision: an approved request is checked against the allow list again and sent once; a denied
 * or expired one is reported as not sent. Returns the step's results so far and the calls still to run.
 */
export async function carryOutDecision(
  { env, sql, run }: RunScope,
  agent: AgentConfig,
  http: HttpTool,
  state: RunState,
): Promise<{ done: ToolResult[]; later: ToolCall[] }> {
  const pending = state.pending as PendingCall;
  const decision = state.decision as Decision;
  const call: ToolCall = { toolCallId: pending.toolCallId, toolName: HTTP_TOOL, input: pending.input };
  if (decision === "approved") {
    const verdict = egressFor(http, pending.input, env);
    if (!verdict.ok) {
      await reportEgressRefusal(run, verdict.reason);
      pending.done.push(await toolFailed(run, call, verdict.reason));
    } else {
      // From here the request may have gone out: a crash now is reported, never silently retried.
      state.phase = "executing";
      saveRunState(sql, state);
      pending.done.push(await runHttpCall(env, agent, run, state, http, call, pending.input, verdict.url));
    }
  } else {
    const output = { sent: false, decision };
    await run.tool({ ...call, name: HTTP_TOOL, status: "denied", output });
    pending.done.push({ toolCallId: call.toolCallId, toolName: HTTP_TOOL, output });
  }
  state.phase = "running";
  state.pending = null;
  saveRunState(sql, state);
  return { done: pending.done, later: pending.later };
}
