/**
 * The Agents Worker: one Agents SDK actor per chat and agent. A room wakes it with `startRun`, which returns as soon
 * as the run is durably accepted; the run then streams the model's reply back to the room, which broadcasts it and
 * stores it once at the end. Tool calls run here, step by step; one that changes the outside world stops the run
 * until a member decides, and the run continues from its saved state, however long that takes.
 */
import { Agent, type FiberRecoveryContext } from "agents";
import { generateText, type ModelMessage, streamText } from "ai";
import { httpRequestInput, MAX_REPLY_CHARS, MUTATING_METHODS } from "../protocol/agents";
import { cutText, storableText } from "../protocol/primitives";
import type { ChatRoom } from "../rooms/chat-room";
import { type AgentConfig, loadAgentConfig } from "./agent-config";
import { DeltaPusher } from "./delta-pusher";
import { resolveModel } from "./models";
import { CONTEXT_BUDGET, chatTurns, summaryPrompt, systemPrompt } from "./prompt";
import type { RunRequest } from "./run-request";
import {
  createRunState,
  loadRunState,
  migrateRunState,
  type PendingCall,
  type RunState,
  saveRunState,
  type ToolResult,
} from "./run-state";
import { runHistoryCall, runHttpCall, type ToolCall, toolFailed, toolMessage } from "./tool-calls";
import { HISTORY_TOOL, HTTP_TOOL, toolsFor } from "./tools/definitions";
import { checkEgress } from "./tools/egress";
import { maskedHeaders } from "./tools/http-request";

const RUN_TIMEOUT_MS = 120_000;
const MAX_STEPS = 6;

type Room = DurableObjectStub<ChatRoom>;

export class ChatAgent extends Agent<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrateRunState(ctx.storage.sql);
  }

  /** Accepts a run once per runId (a retried call changes nothing) and returns without waiting for the model. */
  async startRun(run: RunRequest): Promise<{ accepted: boolean }> {
    createRunState(this.ctx.storage.sql, run);
    const attempt = crypto.randomUUID();
    const result = await this.startFiber(
      "run",
      (fiber) => this.driving(run.runId, attempt, () => this.advance(run.runId, fiber.signal)),
      { idempotencyKey: run.runId, metadata: { runId: run.runId, attempt } },
    );
    return { accepted: result.accepted };
  }

  /**
   * The room reports a decision on the call this run waits for. The decision is saved before this returns (so the
   * room need not tell it again), and the run continues in the background.
   */
  async resumeRun(
    runId: string,
    approvalId: string,
    toolCallId: string,
    decision: "approved" | "denied" | "expired",
  ): Promise<void> {
    const state = loadRunState(this.ctx.storage.sql, runId);
    if (!state || state.pending?.toolCallId !== toolCallId || state.phase !== "waiting") return;
    state.pending.approvalId ??= approvalId;
    state.phase = "decided";
    state.decision = decision;
    saveRunState(this.ctx.storage.sql, state);
    await this.continueInBackground(runId);
  }

  private async continueInBackground(runId: string): Promise<void> {
    const attempt = crypto.randomUUID();
    await this.startFiber(
      "resume",
      (fiber) => this.driving(runId, attempt, () => this.continueAfterDecision(runId, fiber.signal)),
      { idempotencyKey: `${runId}:${attempt}`, metadata: { runId, attempt } },
    );
  }

  /**
   * The summary job (the instance named `<chatId>:summaries`): folds the previous summary and the messages since
   * into the next version. It stores nothing unless it succeeds, and the room keeps only the next version.
   */
  async summarize(job: { chatId: string; from: number; to: number; version: number }): Promise<void> {
    await this.startFiber(
      "summary",
      async () => {
        const room = roomOf(this.env, job.chatId);
        const latest = await room.latestSummary();
        if ((latest?.version ?? 0) !== job.version - 1) return; // another job got there first; nothing to do
        const previous = latest;
        const messages = await room.messagesBetween(job.from, job.to);
        const last = messages.at(-1);
        if (!last) return;
        const { system, prompt } = summaryPrompt(previous, messages);
        const { text } = await generateText({
          model: resolveModel(this.env, null),
          system,
          prompt,
          abortSignal: AbortSignal.timeout(RUN_TIMEOUT_MS),
        });
        // The cursor is the last message actually read, so nothing past a capped batch is skipped.
        if (text.trim()) await room.storeSummary({ version: job.version, messageCursor: last.seq, text: text.trim() });
      },
      // No idempotency key: a failed job must be able to run again; the room stores only the next version.
    );
  }

  async onFiberRecovered(context: FiberRecoveryContext): Promise<void> {
    const { runId, attempt } = (context.metadata ?? {}) as { runId?: string; attempt?: string };
    const state = runId ? loadRunState(this.ctx.storage.sql, runId) : null;
    if (!state || state.attempt !== attempt || state.phase === "done") return;
    if (state.phase === "decided") {
      // The decision was saved but the call not yet made: carry on from there.
      await this.continueInBackground(state.request.runId);
      return;
    }
    if (state.phase === "waiting") {
      // Interrupted between saving the wait and asking the room: ask again (the room stores one per tool call).
      if (state.pending && !state.pending.approvalId) await this.askForApproval(state);
      return;
    }
    const reason =
      state.phase === "executing"
        ? "the agent restarted while an approved request was in flight; it was not sent again"
        : "the agent was restarted before it finished";
    await this.fail(state, reason);
  }

  /** Marks which fiber drives the run, so that only its own interruption is reported as one. */
  private async driving(runId: string, attempt: string, work: () => Promise<void>): Promise<void> {
    const state = loadRunState(this.ctx.storage.sql, runId);
    if (!state) return;
    state.attempt = attempt;
    saveRunState(this.ctx.storage.sql, state);
    await work();
  }

  // ---- the run, step by step ----

  private async advance(runId: string, cancel: AbortSignal): Promise<void> {
    const sql = this.ctx.storage.sql;
    let state = loadRunState(sql, runId);
    if (state?.phase !== "running") return;
    const room = roomOf(this.env, state.request.chatId);
    try {
      const agent = await loadAgentConfig(this.env, state.request.agentId);
      if (!agent) throw new RunFailure("the agent no longer exists");
      if (state.steps === 0 && state.messages.length === 0) {
        const context = await room.contextFor(state.request.triggerSeq, CONTEXT_BUDGET);
        state.summary = context.summary;
        state.messages = chatTurns(agent, context.messages);
        saveRunState(sql, state);
      }
      while (state.steps < MAX_STEPS) {
        const calls = await this.step(agent, state, room, cancel);
        if (calls.length === 0) break;
        const paused = await this.runCalls(agent, state, room, calls, []);
        if (paused) return;
        state = loadRunState(sql, runId) as RunState;
      }
      await this.finish(state, room);
    } catch (error) {
      await this.fail(state, failureReason(error));
    }
  }

  /** One model call: streams its text to the room, saves what it said, and returns the tool calls it made. */
  private async step(agent: AgentConfig, state: RunState, room: Room, cancel: AbortSignal): Promise<ToolCall[]> {
    const pusher = new DeltaPusher((text, index) => room.runDelta(state.request.runId, text, index), state.text.length);
    const result = streamText({
      model: resolveModel(this.env, agent.model),
      system: systemPrompt(agent, state.summary ?? null),
      messages: state.messages,
      tools: toolsFor(agent),
      abortSignal: AbortSignal.any([cancel, AbortSignal.timeout(RUN_TIMEOUT_MS)]),
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
    state.messages.push(...((await result.response).messages as ModelMessage[]));
    state.steps++;
    saveRunState(this.ctx.storage.sql, state);
    return calls;
  }

  /**
   * Runs a step's tool calls in order. A call that needs approval saves the run as waiting and returns true; the
   * remaining calls run after the decision.
   */
  private async runCalls(
    agent: AgentConfig,
    state: RunState,
    room: Room,
    calls: ToolCall[],
    done: ToolResult[],
  ): Promise<boolean> {
    const runId = state.request.runId;
    for (const [i, call] of calls.entries()) {
      await room.runTool(runId, { ...call, name: call.toolName, status: "running" });
      if (call.toolName === HTTP_TOOL && agent.tools.http) {
        const input = httpRequestInput.safeParse(call.input);
        if (!input.success) {
          done.push(await toolFailed(room, runId, call, "invalid request"));
          continue;
        }
        const verdict = checkEgress(agent.tools.http, input.data.method, input.data.url, {
          development: this.env.PARLOR_ENV === "development",
        });
        if (!verdict.ok) {
          done.push(await toolFailed(room, runId, call, verdict.reason));
          continue;
        }
        if (MUTATING_METHODS.has(input.data.method)) {
          // The wait is saved before the room hears of it, so a crash in between cannot lose the request.
          state.phase = "waiting";
          state.pending = {
            approvalId: null,
            toolCallId: call.toolCallId,
            input: { ...input.data, url: verdict.url.toString() },
            done,
            later: calls.slice(i + 1),
          };
          saveRunState(this.ctx.storage.sql, state);
          await this.askForApproval(state, agent);
          await room.runTool(runId, { ...call, name: call.toolName, status: "waiting_approval" });
          return true;
        }
        done.push(await runHttpCall(room, state, agent.tools.http, call, input.data, verdict.url));
      } else if (call.toolName === HISTORY_TOOL && agent.tools.history) {
        done.push(await runHistoryCall(room, runId, call, state.request.triggerSeq));
      } else {
        done.push(await toolFailed(room, runId, call, "this agent has no such tool"));
      }
    }
    state.messages.push(toolMessage(done));
    saveRunState(this.ctx.storage.sql, state);
    return false;
  }

  private async askForApproval(state: RunState, known?: AgentConfig): Promise<void> {
    const pending = state.pending as PendingCall;
    const agent = known ?? (await loadAgentConfig(this.env, state.request.agentId));
    const http = agent?.tools.http;
    if (!http) throw new RunFailure("the agent no longer has the HTTP tool");
    const approval = await roomOf(this.env, state.request.chatId).requestApproval({
      runId: state.request.runId,
      agentId: state.request.agentId,
      toolCallId: pending.toolCallId,
      method: pending.input.method,
      url: pending.input.url,
      headers: maskedHeaders(http),
      body: pending.input.body ?? null,
      approvers: http.approval?.approvers ?? "initiator",
      timeoutSeconds: http.approval?.timeoutSeconds ?? 600,
    });
    if (!approval) throw new RunFailure("the room no longer runs this request");
    // A decision may have arrived during the call above: patch the saved state, never write back a stale one.
    const saved = loadRunState(this.ctx.storage.sql, state.request.runId);
    if (saved?.pending && saved.pending.toolCallId === pending.toolCallId) {
      saved.pending.approvalId ??= approval.approvalId;
      saveRunState(this.ctx.storage.sql, saved);
    }
    pending.approvalId = approval.approvalId;
  }

  private async continueAfterDecision(runId: string, cancel: AbortSignal): Promise<void> {
    const sql = this.ctx.storage.sql;
    const state = loadRunState(sql, runId);
    if (!state?.pending || state.phase !== "decided" || !state.decision) return;
    const decision = state.decision;
    const room = roomOf(this.env, state.request.chatId);
    const { pending } = state;
    const call: ToolCall = { toolCallId: pending.toolCallId, toolName: HTTP_TOOL, input: pending.input };
    try {
      const agent = await loadAgentConfig(this.env, state.request.agentId);
      if (!agent?.tools.http) throw new RunFailure("the agent no longer has the HTTP tool");
      if (decision === "approved") {
        const verdict = checkEgress(agent.tools.http, pending.input.method, pending.input.url, {
          development: this.env.PARLOR_ENV === "development",
        });
        if (!verdict.ok) {
          pending.done.push(await toolFailed(room, runId, call, verdict.reason));
        } else {
          // From here the request may have gone out: a crash now is reported, never silently retried.
          state.phase = "executing";
          saveRunState(sql, state);
          pending.done.push(await runHttpCall(room, state, agent.tools.http, call, pending.input, verdict.url));
        }
      } else {
        const output = { sent: false, decision };
        await room.runTool(runId, { ...call, name: HTTP_TOOL, status: "denied", output });
        pending.done.push({ toolCallId: call.toolCallId, toolName: HTTP_TOOL, output });
      }
      state.phase = "running";
      state.pending = null;
      saveRunState(sql, state);
      const paused = await this.runCalls(agent, state, room, pending.later, pending.done);
      if (!paused) await this.advance(runId, cancel);
    } catch (error) {
      await this.fail(state, failureReason(error));
    }
  }

  private async finish(state: RunState, room: Room): Promise<void> {
    if (!state.text.trim()) throw new RunFailure("the model returned no text");
    await room.finishRun(state.request.runId, state.text, state.artifactIds);
    saveRunState(this.ctx.storage.sql, ended(state));
  }

  private async fail(state: RunState, reason: string): Promise<void> {
    await roomOf(this.env, state.request.chatId).failRun(state.request.runId, reason);
    saveRunState(this.ctx.storage.sql, ended(state));
  }
}

class RunFailure extends Error {}

/** An ended run keeps only what identifies it: its prompt and reply are in the chat's log already. */
function ended(state: RunState): RunState {
  return { ...state, phase: "done", pending: null, messages: [], text: "", summary: null };
}

function failureReason(error: unknown): string {
  if (error instanceof RunFailure) return error.message;
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return "the model took too long";
  }
  console.error("agent run failed", error);
  return "the model failed to answer";
}

function roomOf(env: Env, chatId: string): Room {
  return (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
}
