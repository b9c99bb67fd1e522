/**
 * The agent's end of its run: the capability the room hands out for one run (`ChatRoom.openRun`, see
 * `rooms/run-capability.ts`), opened with the run's secret when first used. A stub lives only as long as its RPC
 * session: when a call fails on a stub that worked before (the room restarted, or the session ended), the run is
 * opened again once and the call repeated; every capability call may be repeated safely (deltas carry their offset,
 * tool states replace, approvals are one per tool call, a run ends once). A fiber closes its link when it ends, so
 * nothing is held while a run waits for a human.
 */

import type { RunRequest } from "../protocol/agent-runs";
import type { Artifact } from "../protocol/agents";
import { type Room, type RunStub, roomOf } from "./room";
import { RunFailure } from "./run-failure";

type ApprovalAsk = Parameters<RunStub["requestApproval"]>[0];
type ToolState = Parameters<RunStub["tool"]>[0];

export class RunLink {
  private stub: RunStub | null = null;
  private readonly room: Room;

  constructor(
    env: Env,
    private readonly request: RunRequest,
  ) {
    this.room = roomOf(env, request.chatId);
  }

  delta(text: string, index: number): Promise<void> {
    return this.call((run) => run.delta(text, index));
  }

  tool(tool: ToolState): Promise<void> {
    return this.call((run) => run.tool(tool));
  }

  usage(step: number, tokensIn: number, tokensOut: number): Promise<void> {
    return this.call((run) => run.usage(step, tokensIn, tokensOut));
  }

  refused(action: "egress.refused" | "secret.refused", reason: string): Promise<void> {
    return this.call((run) => run.refused(action, reason));
  }

  context(budget: { maxMessages: number; maxChars: number }) {
    return this.call((run) => run.context(budget));
  }

  searchHistory(query: string, limit: number) {
    return this.call((run) => run.searchHistory(query, limit));
  }

  storeArtifact(artifact: Omit<Artifact, "id" | "runId">): Promise<string> {
    return this.call((run) => run.storeArtifact(artifact));
  }

  requestApproval(ask: ApprovalAsk) {
    return this.call((run) => run.requestApproval(ask));
  }

  finish(text: string, artifactIds: string[]): Promise<{ seq: number }> {
    return this.call((run) => run.finish(text, artifactIds));
  }

  fail(reason: string): Promise<{ seq: number }> {
    return this.call((run) => run.fail(reason));
  }

  /** Lets go of the stub: the room owes this run nothing until it is opened again. */
  close(): void {
    const stub = this.stub;
    this.stub = null;
    stub?.[Symbol.dispose]?.();
  }

  private async call<T>(use: (run: RunStub) => Promise<T>): Promise<T> {
    const reused = this.stub !== null;
    const stub = this.stub ?? (await this.open());
    try {
      return await use(stub);
    } catch (error) {
      if (!reused) throw error;
      this.close();
      return use(await this.open());
    }
  }

  private async open(): Promise<RunStub> {
    const stub = (await this.room.openRun(this.request.runId, this.request.runSecret)) as unknown as RunStub | null;
    if (!stub) throw new RunFailure("the room does not know this run");
    this.stub = stub;
    return stub;
  }
}
