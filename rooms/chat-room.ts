/**
 * The Chat Controller: one room per chat, the single writer of its ordered message log.
 * The class holds lifecycle hooks and the RPC surface the Orchestrator calls; the work lives in sibling modules.
 */
import { getAgentByName } from "agents";
import { type Connection, type ConnectionContext, getServerByName, Server, type WSMessage } from "partyserver";
import { agentInstanceName, type RunRequest } from "../agents/run-request";
import {
  type Approval,
  type ApprovalEvent,
  type Artifact,
  MAX_REPLY_CHARS,
  type RunEvent,
  type RunProgress,
} from "../protocol/agents";
import { closeCodes, type Message, type PostMessageBody, type PresentUser, type ServerEvent } from "../protocol/chat";
import { activate, activeChat } from "./activation";
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
import { parseClientFrame } from "./frames";
import { type AppendResult, appendMessage, lastSeq, messagesAfter, messagesUpTo, searchMessages } from "./message-log";
import { presentUsers } from "./presence";
import { isRevoked, readmit, revoke } from "./revocation";
import { type ChatRef, type MemberIdentity, readForwardedSocket } from "./room-address";
import { agentsToWake, type RoomAgent, replaceAgents, roomAgents } from "./room-agents";
import {
  endRun,
  extendDeadline,
  LiveRuns,
  nextRunDeadline,
  overdueRuns,
  recordRun,
  runningRuns,
  runRecord,
  savePartialText,
  type ToolState,
} from "./runs";
import { migrateRoomSchema } from "./schema";
import { latestSummary, type Summary, storeSummary, summaryDue } from "./summaries";

const CATCH_UP_PAGE = 500;
const MAX_SOCKETS_PER_MEMBER = 20;
const TYPING_INTERVAL_MS = 2_000;

type Member = Connection<MemberIdentity>;
export type RunContext = { summary: Summary | null; messages: Message[] };

export class ChatRoom extends Server<Env> {
  static options = { hibernate: true };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrateRoomSchema(ctx.storage.sql);
  }

  private get store(): SqlStorage {
    return this.ctx.storage.sql;
  }

  // ---- RPC surface for the Orchestrator ----

  activate(chat: ChatRef): void {
    activate(this.store, chat);
  }

  post(chat: ChatRef, author: MemberIdentity, body: PostMessageBody): AppendResult | { revoked: true } {
    activate(this.store, chat);
    if (isRevoked(this.store, author.userId)) return { revoked: true };
    return this.receive(author, body);
  }

  history(after: number, limit: number): Message[] {
    return messagesAfter(this.store, after, limit);
  }

  /** Closes every socket of a member who was removed from the chat, and refuses them until re-admitted. */
  removeMember(userId: string): number {
    revoke(this.store, userId);
    let closed = 0;
    for (const connection of this.getConnections<MemberIdentity>(userTag(userId))) {
      // A hostile client may ignore the close frame and keep sending: without an identity, its frames are dropped.
      connection.setState(null);
      connection.close(closeCodes.removedFromChat, "removed from chat");
      closed++;
    }
    if (closed > 0) this.broadcastPresence();
    return closed;
  }

  admitMember(userId: string): void {
    readmit(this.store, userId);
  }

  /** The agents in this chat, as Postgres says; the room wakes them without asking Postgres again. */
  setAgents(agents: RoomAgent[]): void {
    replaceAgents(this.store, agents);
    this.cache.agents = undefined;
  }

  /** Rows written to this room's SQLite since it woke (SQLite's total_changes()): for the benchmark. */
  stats(): { rowsWritten: number } {
    return { rowsWritten: this.store.exec<{ n: number }>("SELECT total_changes() AS n").one().n };
  }

  // ---- RPC surface for agents ----

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
    if (fresh) this.broadcastEvent({ type: "run.delta", runId, agentId: run.agentId, ...fresh });
  }

  runTool(runId: string, tool: ToolState): void {
    const run = runRecord(this.store, runId);
    if (run?.status !== "running") return;
    this.live.setTool(runId, run.agentId, tool);
    this.broadcastEvent({ type: "run.tool", runId, agentId: run.agentId, ...tool });
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
      const { approvalId, runId, agentId, method, url, headers, body, expiresAt } = approval;
      this.broadcastEvent({
        type: "approval.requested",
        approvalId,
        runId,
        agentId,
        method,
        url,
        headers,
        body,
        expiresAt,
      });
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
  async onAlarm(): Promise<void> {
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
    const run = runRecord(this.store, runId);
    if (!run) throw new Error(`unknown run ${runId}`);
    if (run.status !== "running") return { seq: run.resultSeq ?? 0 };
    const agent = this.agents().find((a) => a.agentId === run.agentId);
    const { message } = appendMessage(
      this.store,
      { type: "agent", id: run.agentId, name: agent?.name ?? run.agentId },
      { text: text.slice(0, MAX_REPLY_CHARS), clientMessageId: `run:${runId}`, artifactIds },
    );
    endRun(this.store, runId, "finished", message.seq);
    closeApprovalsOf(this.store, runId);
    this.live.end(runId);
    this.broadcastEvent({ type: "message", ...message });
    this.broadcastEvent({ type: "run.finished", runId, agentId: run.agentId, seq: message.seq });
    this.reportProgress(runId, { agentId: run.agentId, status: "done" });
    this.summarizeIfDue(message.seq);
    return { seq: message.seq };
  }

  /** Ends a run with a stored, visible failure notice instead of a reply. */
  failRun(runId: string, reason: string): { seq: number } {
    const run = runRecord(this.store, runId);
    if (!run) throw new Error(`unknown run ${runId}`);
    if (run.status !== "running") return { seq: run.resultSeq ?? 0 };
    const agent = this.agents().find((a) => a.agentId === run.agentId);
    const { message } = appendMessage(
      this.store,
      { type: "system", id: "parlor", name: "Parlor" },
      { text: `@${agent?.handle ?? run.agentId} could not finish: ${reason}`, clientMessageId: `run-failed:${runId}` },
    );
    endRun(this.store, runId, "failed", message.seq);
    closeApprovalsOf(this.store, runId);
    this.live.end(runId);
    this.broadcastEvent({ type: "message", ...message });
    this.broadcastEvent({ type: "run.failed", runId, agentId: run.agentId, reason, seq: message.seq });
    this.reportProgress(runId, { agentId: run.agentId, status: "failed" });
    return { seq: message.seq };
  }

  // ---- lifecycle hooks ----

  getConnectionTags(_connection: Connection, context: ConnectionContext): string[] {
    const forwarded = readForwardedSocket(context.request);
    return forwarded ? [userTag(forwarded.identity.userId)] : [];
  }

  onConnect(connection: Member, context: ConnectionContext): void {
    try {
      this.welcome(connection, context);
    } catch (error) {
      // Never let partyserver answer with a stack trace; the client may retry.
      console.error("chat room: connect failed", error);
      connection.close(1011, "the room could not open this socket");
    }
  }

  private welcome(connection: Member, context: ConnectionContext): void {
    const forwarded = readForwardedSocket(context.request);
    if (!forwarded) {
      // Only the Orchestrator opens sockets here; anything else is refused outright.
      connection.close(1008, "not forwarded by the orchestrator");
      return;
    }
    activate(this.store, forwarded.chat);
    if (isRevoked(this.store, forwarded.identity.userId)) {
      connection.close(closeCodes.removedFromChat, "removed from chat");
      return;
    }
    if ([...this.getConnections(userTag(forwarded.identity.userId))].length > MAX_SOCKETS_PER_MEMBER) {
      connection.close(1008, "too many open sockets for this member");
      return;
    }
    connection.setState(forwarded.identity);
    // Catch-up runs synchronously, so no live broadcast can slip in between history and what follows it.
    let cursor = forwarded.after;
    for (;;) {
      const page = messagesAfter(this.store, cursor, CATCH_UP_PAGE);
      for (const message of page) send(connection, { type: "message", ...message });
      if (page.length < CATCH_UP_PAGE) break;
      cursor = page[page.length - 1].seq;
    }
    // Runs in progress: the text so far, then (live) the deltas that follow it; and requests awaiting a decision.
    this.restoreLiveRuns();
    for (const snapshot of this.live.snapshots()) send(connection, snapshot);
    for (const approval of listApprovals(this.store, "pending")) {
      const { approvalId, runId, agentId, method, url, headers, body, expiresAt } = approval;
      send(connection, {
        type: "approval.requested",
        approvalId,
        runId,
        agentId,
        method,
        url,
        headers,
        body,
        expiresAt,
      });
    }
    const you: PresentUser = { id: forwarded.identity.userId, name: forwarded.identity.name };
    send(connection, { type: "ready", lastSeq: Math.max(lastSeq(this.store), 0), you });
    this.broadcastPresence();
  }

  onMessage(connection: Member, raw: WSMessage): void {
    // An exception escaping here would reset the room for everyone: every failure becomes an error event.
    try {
      const identity = connection.state;
      // A removed member's socket may still deliver frames if its client ignores the close; they count for nothing.
      if (!identity || connection.readyState !== WebSocket.OPEN || isRevoked(this.store, identity.userId)) return;
      const parsed = parseClientFrame(raw);
      if ("error" in parsed) {
        send(connection, parsed.error);
        return;
      }
      const { frame } = parsed;
      if (frame.type === "approval") {
        const result = this.decideApproval(identity, frame.approvalId, frame.decision);
        if ("error" in result) send(connection, { type: "error", code: result.error, message: refusal[result.error] });
        return;
      }
      if (frame.type === "typing") {
        if (!this.typingAllowed(connection.id)) return;
        this.broadcastEvent({ type: "typing", user: { id: identity.userId, name: identity.name } }, [connection.id]);
        return;
      }
      const { message, created } = this.receive(identity, frame);
      // A retry is answered to its sender alone with the stored message; nobody else sees it twice.
      if (!created) send(connection, { type: "message", ...message });
    } catch (error) {
      console.error("chat room: message handler failed", error);
      send(connection, { type: "error", code: "internal", message: "the room could not handle that frame" });
    }
  }

  onClose(connection: Member): void {
    this.lastTyping.delete(connection.id);
    this.broadcastPresence(connection.id);
  }

  onError(connection: Member): void {
    this.broadcastPresence(connection.id);
  }

  // ---- internals ----

  /** Typing fans out to every socket, so each socket may announce it at most once per interval. */
  private readonly lastTyping = new Map<string, number>();
  private typingAllowed(connectionId: string): boolean {
    const now = Date.now();
    if (now - (this.lastTyping.get(connectionId) ?? 0) < TYPING_INTERVAL_MS) return false;
    this.lastTyping.set(connectionId, now);
    return true;
  }

  private readonly live = new LiveRuns();

  private restoreLiveRuns(): void {
    for (const run of runningRuns(this.store)) this.live.restore(run.runId, run.agentId, run.partialText);
  }

  /**
   * What the message path reads on every message, kept in memory: SQLite stays the truth, and every writer of
   * these clears its entry (a wake from hibernation starts empty).
   */
  private readonly cache: { chat?: ChatRef | null; agents?: RoomAgent[]; summary?: Summary | null } = {};
  private chat(): ChatRef | null {
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
    this.broadcastEvent({ type: "message", ...message });
    this.broadcastEvent({
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
    void this.ctx.storage.setAlarm(at);
  }

  private receive(author: MemberIdentity, body: PostMessageBody): AppendResult {
    const result = appendMessage(
      this.store,
      { type: "user", id: author.userId, name: author.name },
      { text: body.text, clientMessageId: body.clientMessageId },
    );
    if (result.created) {
      this.broadcastEvent({ type: "message", ...result.message });
      this.wakeAgents(result.message);
      this.summarizeIfDue(result.message.seq);
    }
    return result;
  }

  private summaryAsked: { version: number; at: number } | null = null;

  /** Asks the summary job for the next summary once enough has accumulated; the message path never waits for it. */
  private summarizeIfDue(lastSeq: number): void {
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
  private wakeAgents(message: Message): void {
    const chat = this.chat();
    if (!chat || message.author.type !== "user") return;
    const max = Number(this.env.PARLOR_MAX_AGENTS_PER_MESSAGE ?? 3);
    for (const agent of agentsToWake(this.agents(), message.text, max)) {
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
      this.broadcastEvent({ type: "run.started", runId: run.runId, agentId: run.agentId, triggerSeq: run.triggerSeq });
      this.reportProgress(run.runId, { agentId: run.agentId, status: "running" });
      // Not awaited: the room keeps serving while the agent works.
      void this.invoke(run);
    }
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

  private broadcastPresence(leaving?: string): void {
    this.broadcastEvent({ type: "presence", users: presentUsers(this.getConnections<MemberIdentity>(), leaving) });
  }

  private broadcastEvent(event: ServerEvent | RunEvent | ApprovalEvent, without?: string[]): void {
    const payload = JSON.stringify(event);
    if (without) {
      this.broadcast(payload, without);
      return;
    }
    // The hot path: partyserver's broadcast deserializes every socket's attachment to read its id; with nobody to
    // leave out, the runtime's own socket list is enough. Every socket here was accepted through onConnect.
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(payload);
      } catch {
        // Closing sockets refuse sends; their close handler updates presence.
      }
    }
  }
}

function userTag(userId: string): string {
  return `user:${userId}`;
}

const refusal = {
  not_found: "no such approval in this chat",
  forbidden: "this tool's approval policy does not let you decide",
  conflict: "this approval was already decided",
} as const;

function send(connection: Connection, event: ServerEvent | RunEvent | ApprovalEvent): void {
  try {
    connection.send(JSON.stringify(event));
  } catch {
    // The socket closed under us; its close handler updates presence.
  }
}
