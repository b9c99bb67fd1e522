/**
 * The run's loop: a model step, then its tool calls, until the model answers without calling a tool or the run has
 * taken `MAX_STEPS` model calls (counted across waits, since the count is saved with the run). The loop only
 * advances the run; `ChatAgent` starts it, and finishes or fails it by what it returns or throws.
 */
import { loadAgentConfig } from "./agent-config";
import { carryOutDecision } from "./approval-wait";
import { modelStep } from "./model-step";
import { CONTEXT_BUDGET, chatTurns } from "./prompt";
import { runCalls } from "./run-calls";
import { RunFailure } from "./run-failure";
import type { RunScope } from "./run-scope";
import { type RunState, saveRunState } from "./run-state";

export const MAX_STEPS = 6;

/** `answered`: the reply is complete; `waiting`: the run is saved, waiting for a decision. */
export type StepsOutcome = "answered" | "waiting";

export async function runSteps(scope: RunScope, state: RunState, cancel: AbortSignal): Promise<StepsOutcome> {
  const agent = await loadAgentConfig(scope.env, state.request.agentId);
  if (!agent) throw new RunFailure("the agent no longer exists");
  if (state.steps === 0 && state.messages.length === 0) {
    const context = await scope.run.context(CONTEXT_BUDGET);
    state.summary = context.summary;
    state.messages = chatTurns(agent, context.messages);
    saveRunState(scope.sql, state);
  }
  while (state.steps < MAX_STEPS) {
    const calls = await modelStep(scope, agent, state, cancel);
    if (calls.length === 0) break;
    if (await runCalls(scope, agent, state, calls, [])) return "waiting";
  }
  return "answered";
}

/** After a saved decision: the decided call, then the rest of its step, then the loop again. */
export async function resumeSteps(scope: RunScope, state: RunState, cancel: AbortSignal): Promise<StepsOutcome> {
  const agent = await loadAgentConfig(scope.env, state.request.agentId);
  if (!agent?.tools.http) throw new RunFailure("the agent no longer has the HTTP tool");
  const { done, later } = await carryOutDecision(scope, agent, agent.tools.http, state);
  if (await runCalls(scope, agent, state, later, done)) return "waiting";
  return runSteps(scope, state, cancel);
}
