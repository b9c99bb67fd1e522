/**
 * Carries out a step's tool calls in order, each as its policy says (`tools/policy.ts`). A call that needs approval
 * stops the run there (`approval-wait.ts`); the calls after it run once the decision is in, and the model reads
 * every result of the step together, in the order of its calls.
 */
import type { AgentConfig } from "./agent-config";
import { waitForApproval } from "./approval-wait";
import type { RunScope } from "./run-scope";
import { type RunState, saveRunState, type ToolResult } from "./run-state";
import { runHistoryCall, runHttpCall, type ToolCall, toolFailed, toolMessage } from "./tool-calls";
import { planCall } from "./tools/policy";

/** Returns true when the run stopped to wait for a decision. */
export async function runCalls(
  scope: RunScope,
  agent: AgentConfig,
  state: RunState,
  calls: ToolCall[],
  done: ToolResult[],
): Promise<boolean> {
  const { env, sql, room } = scope;
  const runId = state.request.runId;
  for (const [i, call] of calls.entries()) {
    await room.runTool(runId, { ...call, name: call.toolName, status: "running" });
    const plan = planCall(agent, call, env);
    if (plan.tool === "refused") {
      done.push(await toolFailed(room, runId, call, plan.reason));
    } else if (plan.tool === "history") {
      done.push(await runHistoryCall(room, runId, call, state.request.triggerSeq));
    } else if (plan.needsApproval) {
      await waitForApproval(scope, agent, state, call, plan, done, calls.slice(i + 1));
      return true;
    } else {
      done.push(await runHttpCall(room, state, plan.http, call, plan.input, plan.url));
    }
  }
  state.messages.push(toolMessage(done));
  saveRunState(sql, state);
  return false;
}
