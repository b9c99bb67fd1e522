/**
 * One model call of a run: streams its text to the room as it comes, saves what the model said to the run's state,
 * and returns the tool calls it made. The tools have no `execute` (see `tools/definitions.ts`), so the AI SDK stops
 * after this one step and the run decides what each call may do.
 */
import { type ModelMessage, streamText } from "ai";
import { MAX_REPLY_CHARS } from "../protocol/agents";
import { cutText, storableText } from "../protocol/primitives";
import type { AgentConfig } from "./agent-config";
import { DeltaPusher } from "./delta-pusher";
import { MODEL_TIMEOUT_MS, resolveModel } from "./models";
import { systemPrompt } from "./prompt";
import { RunFailure } from "./run-failure";
import type { RunScope } from "./run-scope";
import { type RunState, saveRunState } from "./run-state";
import type { ToolCall } from "./tool-calls";
import { toolsFor } from "./tools/definitions";

export async function modelStep(
  { env, sql, run }: RunScope,
  agent: AgentConfig,
  state: RunState,
  cancel: AbortSignal,
): Promise<ToolCall[]> {
  const pusher = new DeltaPusher((text, index) => run.delta(text, index), state.text.length);
  const result = streamText({
    model: resolveModel(env, agent.model),
    system: systemPrompt(agent, state.summary ?? null),
    messages: state.messages,
    tools: toolsFor(agent),
    abortSignal: AbortSignal.any([cancel, AbortSignal.timeout(MODEL_TIMEOUT_MS)]),
    // The SDK's default prints the whole error, and a vendor's may echo the prompt; the error part below ends the
    // run, and failureReason logs it without its text (api/log.ts).
    onError: () => {},
  });
  const calls: ToolCall[] = [];
  let separated = false;
  for await (const part of result.fullStream) {
    if (part.type === "text-delta") {
      // Past the cap nothing more is streamed, so what members saw is exactly what is stored.
      if (state.text.length >= MAX_REPLY_CHARS) continue;
      const text = cutText(storableText(part.text), MAX_REPLY_CHARS - state.text.length);
      // Steps' texts are one reply; a paragraph break keeps them apart, streamed like the rest.
      if (!separated && state.text && !/\s$/.test(state.text)) {
        state.text += "\n\n";
        pusher.push("\n\n");
      }
      separated = true;
      state.text += text;
      pusher.push(text);
    } else if (part.type === "tool-call") {
      calls.push({ toolCallId: part.toolCallId, toolName: part.toolName, input: part.input });
    } else if (part.type === "error") {
      throw part.error;
    } else if (part.type === "abort") {
      throw new RunFailure("the run was cancelled or timed out");
    }
  }
  await pusher.flush();
  // Counted for billing before the step is saved: a step repeated after a crash reports under the same number.
  const usage = await result.usage;
  await run.usage(state.steps, usage.inputTokens ?? 0, usage.outputTokens ?? 0);
  state.messages.push(...((await result.response).messages as ModelMessage[]));
  state.steps++;
  saveRunState(sql, state);
  return calls;
}
