/**
 * Carries out a step's tool calls in order, each as its policy says (`tools/policy.ts`). A call that needs approval
 * stops the run there (`approval-wait.ts`); the calls after it run once the decision is in, and the model reads
 * every result of the step together, in the order of its calls.
 */
import type { AgentConfig } from "./agent-config";
import { waitForApproval } from "./approval-wait";
import type { RunScope } from "./run-scope";
import { type RunState, saveRunState, type ToolResult } from "./run-state";
import { reportEgressRefusal, runHistoryCall, runHttpCall, type ToolCall, toolFailed, toolMessage } from "./tool-calls";
import { planCall } from "./tools/policy";

/** Returns true when the run stopped to wait for a decision. */
export async function runCalls(
  scope: RunScope,
  agent: AgentConfig,
  state: RunState,
  calls: ToolCall[],
  done: ToolResult[],
): Promise<boolean> {
  const { env, sql, run } = scope;
  for (const [i, call] of calls.entries()) {
    await run.tool({ ...call, name: call.toolName, status: "running" });
    const plan = planCall(agent, call, env);
    if (plan.tool === "refused") {
      if (plan.egress) await reportEgressRefusal(run, plan.reason);
      done.push(await toolFailed(run, call, plan.reason));
    } else if (plan.tool === "history") {
      done.push(await runHistoryCall(run, call));
    } else if (plan.needsApproval) {
      await waitForApproval(scope, agent, state, call, plan, done, calls.slice(i + 1));
      return true;
    } else {
      done.push(await runHttpCall(env, agent, run, state, plan.http, call, plan.input, plan.url));
    }
  }
  state.messages.push(toolMessage(done));
  saveRunState(sql, state);
  return false;
}
