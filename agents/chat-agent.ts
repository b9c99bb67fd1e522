/**
 * The Agents Worker: one Agents SDK actor per chat and agent. A room wakes it with `startRun`, which returns as soon
 * as the run is durably accepted; the run then streams the model's reply back to the room, which broadcasts it and
 * stores it once at the end. A run cut short by eviction is reported as failed, never passed off as complete.
 */
import { Agent, type FiberRecoveryContext } from "agents";
import { streamText } from "ai";
import type { ChatRoom } from "../rooms/chat-room";
import { loadAgentConfig } from "./agent-config";
import { DeltaPusher } from "./delta-pusher";
import { resolveModel } from "./models";
import { chatTurns, systemPrompt } from "./prompt";
import type { RunRequest } from "./run-request";

const RUN_TIMEOUT_MS = 120_000;
const CONTEXT_MESSAGES = 40;

export class ChatAgent extends Agent<Env> {
  /** Accepts a run once per runId (a retried call changes nothing) and returns without waiting for the model. */
  async startRun(run: RunRequest): Promise<{ accepted: boolean }> {
    const result = await this.startFiber("run", (fiber) => this.execute(run, fiber.signal), {
      idempotencyKey: run.runId,
      metadata: { ...run },
    });
    return { accepted: result.accepted };
  }

  async onFiberRecovered(context: FiberRecoveryContext): Promise<void> {
    const run = context.metadata as RunRequest | undefined;
    if (context.name !== "run" || !run?.runId) return;
    await roomOf(this.env, run.chatId).failRun(run.runId, "the agent was restarted before it finished");
  }

  private async execute(run: RunRequest, cancel: AbortSignal): Promise<void> {
    const room = roomOf(this.env, run.chatId);
    try {
      const agent = await loadAgentConfig(this.env, run.agentId);
      if (!agent) throw new RunFailure("the agent no longer exists");
      const messages = await room.contextFor(run.triggerSeq, CONTEXT_MESSAGES);
      const pusher = new DeltaPusher((text, index) => room.runDelta(run.runId, text, index));
      const result = streamText({
        model: resolveModel(this.env, agent.model),
        system: systemPrompt(agent),
        messages: chatTurns(agent, messages),
        abortSignal: AbortSignal.any([cancel, AbortSignal.timeout(RUN_TIMEOUT_MS)]),
      });
      let reply = "";
      for await (const part of result.fullStream) {
        if (part.type === "text-delta") {
          reply += part.text;
          pusher.push(part.text);
        } else if (part.type === "error") {
          throw part.error;
        } else if (part.type === "abort") {
          throw new RunFailure("the run was cancelled or timed out");
        }
      }
      await pusher.flush();
      if (!reply.trim()) throw new RunFailure("the model returned no text");
      await room.finishRun(run.runId, reply);
    } catch (error) {
      await room.failRun(run.runId, failureReason(error));
    }
  }
}

class RunFailure extends Error {}

function failureReason(error: unknown): string {
  if (error instanceof RunFailure) return error.message;
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return "the model took too long";
  }
  console.error("agent run failed", error);
  return "the model failed to answer";
}

function roomOf(env: Env, chatId: string): DurableObjectStub<ChatRoom> {
  return (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
}
