/**
 * The room's side of agent runs: which agents a message wakes, the run's live text and tools, approvals and their
 * decisions, summaries, and the live-progress mirror. Functions over the room's SQL do the storing; this holds the
 * little in-memory state they need and talks to agents. `ChatRoom` exposes these as its RPC methods.
 */
import { getAgentByName } from "agents";
import { getServerByName } from "partyserver";
import { agentInstanceName, type RunRequest } from "../agents/run-request";
import {
  type Approval,
  type ApprovalEvent,
  type Artifact,
  approvalRequested,
  MAX_REPLY_CHARS,
  type RunEvent,
  type RunProgress,
} from "../protocol/agents";
import type { Author, Message, ServerEvent } from "../protocol/chat";
import { cutText, storableText } from "../protocol/primitives";
import { activeChat } from "./activation";
import {
  type ApprovalRequest,
  closeApprovalsOf,
  createApproval,
  type Decider,
  decide,
  getApproval,
  listApprovals,
  markNotified,
  mayDecide,
  nextWake,
  overdueApprovals,
  unnotifiedDecisions,
} from "./approvals";
import { getArtifact, storeArtifact } from "./artifacts";
import { appendMessage, messagesAfter, messagesUpTo, searchMessages } from "./message-log";
import type { ChatRef } from "./room-address";
import { agentsToWake, type RoomAgent, replaceAgents, roomAgents } from "./room-agents";
import {
  endRun,
  extendDeadline,
  LiveRuns,
  nextRunDeadline,
  overdueRuns,
  type RunRecord,
  recordRun,
  runningCount,
  runningRuns,
  runRecord,
  savePartialText,
  type ToolState,
} from "./runs";
import { latestSummary, type Summary, storeSummary, summaryDue } from "./summaries";

export type RunContext = { summary: Summary | null; messages: Message[] };

/** Runs in progress at once in one chat, at most. */
const MAX_RUNS_PER_CHAT = 10;
type RoomEvent = ServerEvent | RunEvent | ApprovalEvent;

export class AgentRuns {
  constructor(
    private readonly store: SqlStorage,
    private readonly env: Env,
    private readonly broadcast: (event: RoomEvent) => void,
    private readonly setAlarm: (at: Date) => void,
  ) {}

  /** The agents in this chat, as Postgres says; the room wakes them without asking Postgres again. */
  setAgents(agents: RoomAgent[]): void {
    replaceAgents(this.store, agents);
    this.cache.agents = undefined;
  }

  /** For a socket that joins: runs in progress (the text so far) and requests awaiting a decision. */
  welcomeEvents(): RoomEvent[] {
    this.restoreLiveRuns();
    const events: RoomEvent[] = this.live.snapshots();
    for (const approval of listApprovals(this.store, "pending")) {
      events.push(approvalRequested(approval));
    }
    return events;
  }

  /**
   * What a run's prompt is built from: the latest summary, then the most recent messages after its cursor up to
   * the one that woke the agent, newest first until the character budget or the count runs out.
   */
  contextFor(triggerSeq: number, budget: { maxMessages: number; maxChars: number }): RunContext {
    const summary = latestSummary(this.store);
    const recent = messagesUpTo(this.store, triggerSeq, budget.maxMessages).filter(
      (m) => m.seq > (summary?.messageCursor ?? 0),
    );
    let chars = summary?.text.length ?? 0;
    let start = recent.length;
    while (start > 0 && (start === recent.length || chars + recent[start - 1].text.length <= budget.maxChars)) {
      chars += recent[start - 1].text.length;
      start--;
    }
    return { summary, messages: recent.slice(start) };
  }

  /** Messages in a seq range, for the summary job. */
  messagesBetween(from: number, to: number): Message[] {
    return messagesAfter(this.store, from - 1, Math.min(500, to - from + 1));
  }

  latestSummary(): Summary | null {
    return latestSummary(this.store);
  }

  storeSummary(summary: Summary): boolean {
    this.cache.summary = undefined;
    return storeSummary(this.store, summary);
  }

  runDelta(runId: string, text: string, index: number): void {
    const run = runRecord(this.store, runId);
    if (run?.status !== "running") return;
    if (!this.live.has(runId)) this.restoreLiveRuns();
    const fresh = this.live.append(runId, run.agentId, text, index);
    if (fresh) this.broadcast({ type: "run.delta", runId, agentId: run.agentId, ...fresh });
  }

  runTool(runId: string, tool: ToolState): void {
    const run = runRecord(this.store, runId);
    if (run?.status !== "running") return;
    this.live.setTool(runId, run.agentId, tool);
    this.broadcast({ type: "run.tool", runId, agentId: run.agentId, ...tool });
    this.reportProgress(runId, {
      agentId: run.agentId,
      status: tool.status === "waiting_approval" ? "waiting_approval" : "running",
      tool: { toolCallId: tool.toolCallId, name: tool.name, status: tool.status },
    });
  }

  searchHistory(query: string, beforeSeq: number, limit: number): Message[] {
    return searchMessages(this.store, query, beforeSeq, limit);
  }

  storeArtifact(artifact: Omit<Artifact, "id">): string {
    return storeArtifact(this.store, artifact);
  }

  getArtifact(artifactId: string): Artifact | null {
    return getArtifact(this.store, artifactId);
  }

  /**
   * An agent asks before a call that changes the outside world. The initiator comes from the room's own record of
   * the run, not from the agent, so nobody can borrow another member's authority.
   */
  requestApproval(request: Omit<ApprovalRequest, "initiator">): { approvalId: string; expiresAt: string } | null {
    const run = runRecord(this.store, request.runId);
    if (run?.status !== "running") return null;
    if (this.live.has(request.runId)) savePartialText(this.store, request.runId, this.live.text(request.runId));
    const { approval, created } = createApproval(this.store, { ...request, initiator: run.initiator });
    if (created) {
      this.broadcast(approvalRequested(approval));
      this.scheduleWake();
    }
    return { approvalId: approval.approvalId, expiresAt: approval.expiresAt };
  }

  listApprovals(status?: Approval["status"]): Approval[] {
    return listApprovals(this.store, status);
  }

  /** The first decision wins; a later one, or one by somebody the policy does not allow, is refused. */
  decideApproval(
    decider: Decider & { name: string },
    approvalId: string,
    decision: "approve" | "deny",
  ): { approval: Approval } | { error: "not_found" | "forbidden" | "conflict" } {
    const approval = getApproval(this.store, approvalId);
    if (!approval) return { error: "not_found" };
    if (!mayDecide(approval, decider)) return { error: "forbidden" };
    const decided = decide(this.store, approvalId, decision === "approve" ? "approved" : "denied", decider.userId);
    if (!decided) return { error: "conflict" };
    this.announceDecision(decided, decider.name);
    return { approval: decided };
  }

  /** Expires overdue approvals (an expiry denies) and re-sends decisions an agent has not acknowledged. */
  async alarm(): Promise<void> {
    for (const runId of overdueRuns(this.store, new Date())) this.failRun(runId, "the agent stopped answering");
    for (const approval of overdueApprovals(this.store, new Date())) {
      const decided = decide(this.store, approval.approvalId, "expired", "parlor");
      if (decided) this.announceDecision(decided, "nobody (it expired)");
    }
    await Promise.all(unnotifiedDecisions(this.store).map((approval) => this.notifyAgent(approval)));
    this.scheduleWake();
  }

  /** Stores the reply once; a retried call answers with the seq already stored. */
  finishRun(runId: string, text: string, artifactIds: string[] = []): { seq: number } {
    return this.endWith(runId, "finished", (run, agent) => ({
      author: { type: "agent", id: run.agentId, name: agent?.name ?? run.agentId },
      text: cutText(storableText(text), MAX_REPLY_CHARS),
      clientMessageId: `run:${runId}`,
      artifactIds,
    }));
  }

  /** Ends a run with a stored, visible failure notice instead of a reply. */
  failRun(runId: string, failure: string): { seq: number } {
    const reason = cutText(storableText(failure), 1_000);
    return this.endWith(
      runId,
      "failed",
      (run, agent) => ({
        author: { type: "system", id: "parlor", name: "Parlor" },
        text: `@${agent?.handle ?? run.agentId} could not finish: ${reason}`,
        clientMessageId: `run-failed:${runId}`,
      }),
      reason,
    );
  }

  /** Ends a run once, with the one message that records how it ended; a repeat answers with that message's seq. */
  private endWith(
    runId: string,
    status: "finished" | "failed",
    record: (
      run: RunRecord,
      agent: RoomAgent | undefined,
    ) => { author: Author; text: string; clientMessageId: string; artifactIds?: string[] },
    reason = "",
  ): { seq: number } {
    const run = runRecord(this.store, runId);
    if (!run) throw new Error(`unknown run ${runId}`);
    if (run.status !== "running") return { seq: run.resultSeq ?? 0 };
    const { author, ...input } = record(
      run,
      this.agents().find((a) => a.agentId === run.agentId),
    );
    const { message } = appendMessage(this.store, author, input);
    endRun(this.store, runId, status, message.seq);
    closeApprovalsOf(this.store, runId);
    this.live.end(runId);
    this.broadcast({ type: "message", ...message });
    const { agentId } = run;
    this.broadcast(
      status === "finished"
        ? { type: "run.finished", runId, agentId, seq: message.seq }
        : { type: "run.failed", runId, agentId, reason, seq: message.seq },
    );
    this.reportProgress(runId, { agentId, status: status === "finished" ? "done" : "failed" });
    if (status === "finished") this.summarizeIfDue(message.seq);
    return { seq: message.seq };
  }

  readonly live = new LiveRuns();

  restoreLiveRuns(): void {
    for (const run of runningRuns(this.store)) this.live.restore(run.runId, run.agentId, run.partialText);
  }

  /**
   * What the message path reads on every message, kept in memory: SQLite stays the truth, and every writer of
   * these clears its entry (a wake from hibernation starts empty).
   */
  private readonly cache: { chat?: ChatRef | null; agents?: RoomAgent[]; summary?: Summary | null } = {};
  chat(): ChatRef | null {
    if (this.cache.chat === undefined || this.cache.chat === null) this.cache.chat = activeChat(this.store);
    return this.cache.chat;
  }
  private agents(): RoomAgent[] {
    this.cache.agents ??= roomAgents(this.store);
    return this.cache.agents;
  }
  private summary(): Summary | null {
    if (this.cache.summary === undefined) this.cache.summary = latestSummary(this.store);
    return this.cache.summary;
  }
  private progressQueue: Promise<void> = Promise.resolve();

  /**
   * Mirrors a run's progress into the chat's live-progress document (Yjs). Updates are queued so they land in
   * order; a failure only costs the view, never the record.
   */
  private reportProgress(
    runId: string,
    patch: Partial<Omit<RunProgress, "tools">> & { tool?: RunProgress["tools"][number] },
  ): void {
    const chat = this.chat();
    if (!chat) return;
    this.progressQueue = this.progressQueue
      .then(async () => {
        const progress = await getServerByName(this.env.ChatProgress, chat.chatId);
        await progress.applyRun(runId, patch);
      })
      .catch((error) => console.error("chat room: live progress not updated", error));
  }

  private announceDecision(approval: Approval, byName: string): void {
    extendDeadline(this.store, approval.runId);
    const decision = approval.status as "approved" | "denied" | "expired";
    const { message } = appendMessage(
      this.store,
      { type: "system", id: "parlor", name: "Parlor" },
      {
        text: `${byName} ${decision === "expired" ? "let expire" : decision} ${approval.method} ${approval.url}`,
        clientMessageId: `approval:${approval.approvalId}`,
      },
    );
    this.broadcast({ type: "message", ...message });
    this.broadcast({
      type: "approval.decided",
      approvalId: approval.approvalId,
      runId: approval.runId,
      agentId: approval.agentId,
      decision,
      by: approval.decidedBy ?? "parlor",
    });
    void this.notifyAgent(approval);
  }

  private async notifyAgent(approval: Approval): Promise<void> {
    const chat = this.chat();
    if (!chat) return;
    try {
      const agent = await getAgentByName(this.env.ChatAgent, agentInstanceName(chat.chatId, approval.agentId));
      await agent.resumeRun(
        approval.runId,
        approval.approvalId,
        approval.toolCallId,
        approval.status as "approved" | "denied" | "expired",
      );
      markNotified(this.store, approval.approvalId);
    } catch (error) {
      console.error("chat room: the agent did not take the decision yet; retrying", error);
      this.scheduleWake();
    }
  }

  private scheduleWake(): void {
    const candidates = [nextWake(this.store), nextRunDeadline(this.store)].filter((d): d is Date => d !== null);
    if (candidates.length === 0) return;
    const at = new Date(Math.max(Date.now() + 1_000, Math.min(...candidates.map((d) => d.getTime()))));
    this.setAlarm(at);
  }

  private summaryAsked: { version: number; at: number } | null = null;

  /** Asks the summary job for the next summary once enough has accumulated; the message path never waits for it. */
  summarizeIfDue(lastSeq: number): void {
    const chat = this.chat();
    const due = summaryDue(this.summary(), lastSeq, {
      every: Number(this.env.PARLOR_SUMMARY_EVERY ?? 50),
      keepRecent: Number(this.env.PARLOR_SUMMARY_KEEP ?? 20),
    });
    if (!chat || !due) return;
    const version = (this.summary()?.version ?? 0) + 1;
    // One request per version while the job works; asked again only if it has not delivered within a minute.
    const asked = this.summaryAsked;
    if (asked && asked.version === version && Date.now() - asked.at < 60_000) return;
    this.summaryAsked = { version, at: Date.now() };
    void (async () => {
      try {
        const summarizer = await getAgentByName(this.env.ChatAgent, agentInstanceName(chat.chatId, "summaries"));
        await summarizer.summarize({ chatId: chat.chatId, from: due.from, to: due.to, version });
      } catch (error) {
        // Nothing was stored; the next message asks again.
        console.error("chat room: the summary job could not start", error);
      }
    })();
  }

  /** Only members' messages wake agents (never an agent's own), and at most a configured number per message. */
  /**
   * Returns the handles of agents the message called but that were not started because the chat already has its
   * most runs in progress: a busy or hostile room cannot pile up model calls without bound.
   */
  wakeAgents(message: Message): string[] {
    const chat = this.chat();
    if (!chat || message.author.type !== "user") return [];
    const max = Number(this.env.PARLOR_MAX_AGENTS_PER_MESSAGE ?? 3);
    const woken = agentsToWake(this.agents(), message.text, max);
    if (woken.length === 0) return [];
    const room = MAX_RUNS_PER_CHAT - runningCount(this.store);
    for (const agent of woken.slice(0, Math.max(0, room))) {
      const run: RunRequest = {
        runId: crypto.randomUUID(),
        chatId: chat.chatId,
        orgId: chat.orgId,
        agentId: agent.agentId,
        triggerSeq: message.seq,
        initiator: message.author.id,
      };
      recordRun(this.store, run);
      this.scheduleWake();
      this.live.start(run.runId, run.agentId);
      this.broadcast({ type: "run.started", runId: run.runId, agentId: run.agentId, triggerSeq: run.triggerSeq });
      this.reportProgress(run.runId, { agentId: run.agentId, status: "running" });
      // Not awaited: the room keeps serving while the agent works.
      void this.invoke(run);
    }
    return woken.slice(Math.max(0, room)).map((agent) => agent.handle);
  }

  private async invoke(run: RunRequest): Promise<void> {
    try {
      const agent = await getAgentByName(this.env.ChatAgent, agentInstanceName(run.chatId, run.agentId));
      await agent.startRun(run);
    } catch (error) {
      console.error("chat room: could not start an agent run", error);
      this.failRun(run.runId, "the agent could not be started");
    }
  }
}
