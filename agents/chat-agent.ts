/**
 * The Agents Worker: one Agents SDK actor per chat and agent, holding the lifecycle of its runs. A room wakes it
 * with `startRun`, which returns as soon as the run is durably accepted; the run then streams the model's reply back
 * to the room, which broadcasts it and stores it once at the end. The steps themselves are `run-steps.ts`; a call
 * that changes the outside world stops the run until a member decides (`approval-wait.ts`), and the run continues
 * from its saved state, however long that takes.
 */
import { Agent, type FiberRecoveryContext } from "agents";
import type { RunRequest } from "../protocol/agent-runs";
import { askForApproval, type Decision, recordDecision } from "./approval-wait";
import { takeAgentRun } from "./org-limiter";
import { failureReason, RunFailure } from "./run-failure";
import { RunLink } from "./run-link";
import type { RunScope } from "./run-scope";
import { createRunState, loadRunState, migrateRunState, type RunState, saveRunState } from "./run-state";
import { resumeSteps, runSteps, type StepsOutcome } from "./run-steps";

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
  async resumeRun(runId: string, approvalId: string, toolCallId: string, decision: Decision): Promise<void> {
    if (!recordDecision(this.ctx.storage.sql, runId, approvalId, toolCallId, decision)) return;
    await this.continueInBackground(runId);
  }

  /**
   * A member stopped the run in the room (which stored the reply so far): its model call is cut off, and the saved
   * run ends here, so neither a decision nor a restart carries it on. What it still sends the room is ignored there.
   */
  async cancelRun(runId: string): Promise<void> {
    this.cancels.get(runId)?.abort(new RunFailure("stopped by a member"));
    const state = loadRunState(this.ctx.storage.sql, runId);
    if (state && state.phase !== "done") saveRunState(this.ctx.storage.sql, ended(state));
  }

  /** The runs this actor is driving now, so a stop can cut their model call off at once. */
  private readonly cancels = new Map<string, AbortController>();

  private async continueInBackground(runId: string): Promise<void> {
    const attempt = crypto.randomUUID();
    await this.startFiber(
      "resume",
      (fiber) => this.driving(runId, attempt, () => this.continueAfterDecision(runId, fiber.signal)),
      { idempotencyKey: `${runId}:${attempt}`, metadata: { runId, attempt } },
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
      if (state.pending && !state.pending.approvalId) {
        const scope = this.scopeOf(state);
        try {
          await askForApproval(scope, state);
        } finally {
          scope.run.close();
        }
      }
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

  private async advance(runId: string, fiber: AbortSignal): Promise<void> {
    const state = loadRunState(this.ctx.storage.sql, runId);
    if (state?.phase !== "running") return;
    await this.cancellable(runId, fiber, (cancel) =>
      this.settle(state, async (scope) => {
        // A run starting (not one resumed mid-way) counts against its org's runs this minute, across all its rooms.
        if (state.steps === 0 && state.messages.length === 0 && (await takeAgentRun(this.env, state.request.orgId))) {
          throw new RunFailure("rate limited: this org started too many agent runs this minute");
        }
        return runSteps(scope, state, cancel);
      }),
    );
  }

  private async continueAfterDecision(runId: string, fiber: AbortSignal): Promise<void> {
    const state = loadRunState(this.ctx.storage.sql, runId);
    if (!state?.pending || state.phase !== "decided" || !state.decision) return;
    await this.cancellable(runId, fiber, (cancel) => this.settle(state, (scope) => resumeSteps(scope, state, cancel)));
  }

  private async cancellable(runId: string, fiber: AbortSignal, work: (cancel: AbortSignal) => Promise<void>) {
    const stop = new AbortController();
    this.cancels.set(runId, stop);
    try {
      await work(AbortSignal.any([fiber, stop.signal]));
    } finally {
      if (this.cancels.get(runId) === stop) this.cancels.delete(runId);
    }
  }

  /** Finishes the run once its steps have answered, or fails it with a reason members can read. */
  private async settle(state: RunState, steps: (scope: RunScope) => Promise<StepsOutcome>): Promise<void> {
    const scope = this.scopeOf(state);
    try {
      if ((await steps(scope)) === "answered") await this.finish(scope, state);
    } catch (error) {
      await this.fail(state, failureReason(error, state.request), scope);
    } finally {
      scope.run.close();
    }
  }

  private async finish(scope: RunScope, state: RunState): Promise<void> {
    if (!state.text.trim()) throw new RunFailure("the model returned no text");
    await scope.run.finish(state.text, state.artifactIds);
    saveRunState(this.ctx.storage.sql, ended(state));
  }

  private async fail(state: RunState, reason: string, open?: RunScope): Promise<void> {
    const scope = open ?? this.scopeOf(state);
    try {
      await scope.run.fail(reason);
      saveRunState(this.ctx.storage.sql, ended(state));
    } finally {
      if (!open) scope.run.close();
    }
  }

  /** A fresh link to the run: it opens the run's capability when first used, and the caller closes it. */
  private scopeOf(state: RunState): RunScope {
    return { env: this.env, sql: this.ctx.storage.sql, run: new RunLink(this.env, state.request) };
  }
}

/** An ended run keeps only what identifies it: its prompt and reply are in the chat's log already. */
function ended(state: RunState): RunState {
  return { ...state, phase: "done", pending: null, messages: [], text: "", summary: null };
}
