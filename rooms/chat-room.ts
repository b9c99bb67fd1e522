/**
 * The Chat Controller: one room per chat, the single writer of its ordered message log.
 * The class holds lifecycle hooks and the RPC surface the Orchestrator calls; the work lives in sibling modules.
 */

import { type Connection, type ConnectionContext, Server, type WSMessage } from "partyserver";
import type { ChatLifecycle } from "../api/db/chat-lifecycle";
import { errorFields, log } from "../api/log";
import type { RoomBilling } from "../billing/allowance";
import type { Approval, Artifact } from "../protocol/agents";
import type { Backup, Manifest } from "../protocol/backups";
import type { RunRefusal } from "../protocol/billing";
import { closeCodes, MAX_CATCH_UP, type Message, type PostMessageBody, type PresentUser } from "../protocol/chat";
import type { ChatCounters } from "../protocol/counters";
import { rateLimitsOf, retryAfterSeconds } from "../protocol/limits";
import { activate, activeChat } from "./activation";
import { approvalDeadlines, decideApproval, postNotice, recountVotesOf } from "./approval-flow";
import { approvalReminders } from "./approval-reminders";
import { noteRole } from "./approval-votes";
import { type Decider, listApprovals } from "./approvals";
import { getArtifact } from "./artifacts";
import { auditOutbox } from "./audit-outbox";
import { noteBackup, scheduledBackups } from "./backup-schedule";
import { restoreSnapshot, writeSnapshot } from "./backups";
import { setRoomBilling } from "./billing-gate";
import { chatActivity, noteActivity } from "./chat-activity";
import {
  type ChatClosed,
  chatPurge,
  closedFor,
  closedMessages,
  isDeleted,
  roomLifecycle,
  setLifecycle,
} from "./chat-lifecycle";
import { pendingApprovals, RoomCounterLog, roomCounters } from "./counters";
import { runDeadlines, type Stopper, stopRun } from "./ending-runs";
import { parseClientFrame } from "./frames";
import { deleteMessage, type Editor, editMessage, rebuildSummaries } from "./message-edits";
import {
  type AppendResult,
  appendMessage,
  type HistoryPage,
  lastSeq,
  messagesAfter,
  messagesUpTo,
  readPage,
} from "./message-log";
import { presentUsers } from "./presence";
import { MessageLimiter, storedByMember } from "./rate-limits";
import { isRevoked, readmit, revoke } from "./revocation";
import { type ChatRef, type MemberIdentity, readForwardedSocket } from "./room-address";
import type { RoomAgent } from "./room-agents";
import {
  type CallCounter,
  CountedRunCapability,
  countCalls,
  countingBucket,
  countingSql,
  type RoomOperations,
  roomOperations,
} from "./room-operations";
import { cachedChat, type RoomEvent, type RoomState, roomState } from "./room-state";
import type { RunCapability } from "./run-capability";
import { runSecretMatches } from "./runs";
import { Scheduler } from "./scheduler";
import { migrateRoomSchema } from "./schema";
import { migrateSearchIndex, type SearchHit, searchIndex } from "./search-index";
import { retryRun, setAgents, wakeAgents } from "./starting-runs";
import { welcomeEvents } from "./streaming-runs";
import { latestSummary, type Summary } from "./summaries";
import { acceptSummary, messagesBetween, summarizeIfDue } from "./summary-jobs";
import { noteUsage, startUsageCursor, usageBatches } from "./usage-batches";
import { countSummaryTokens } from "./usage-log";

export type { RunContext } from "./summary-jobs";

const MAX_SOCKETS_PER_MEMBER = 20;
const TYPING_INTERVAL_MS = 2_000;

type Member = Connection<MemberIdentity>;

/** The methods other objects call on a room: each call counts as a request, and a throw as an error. */
const ROOM_RPC = [
  "activate",
  "postMessage",
  "backup",
  "restoreFrom",
  "setBilling",
  "history",
  "removeMember",
  "admitMember",
  "setMemberRole",
  "setAgents",
  "stats",
  "counters",
  "openRun",
  "messagesBetween",
  "latestSummary",
  "storeSummary",
  "stopRun",
  "retryRun",
  "getArtifact",
  "listApprovals",
  "decideApproval",
  "editMessage",
  "deleteMessage",
  "rebuildSummaries",
  "search",
  "setLifecycle",
  "noticeFromParlor",
] as const satisfies readonly (keyof ChatRoom)[];

export class ChatRoom extends Server<Env> {
  static options = { hibernate: true };

  /** What the modules below work on: the room's SQL and bindings, and what it keeps in memory. */
  private readonly room: RoomState;
  /** The room's one alarm: run deadlines, approval expiry and redelivery. */
  private readonly scheduler: Scheduler;
  /** Messages per member (`PARLOR_RATE_LIMITS`), in memory; null when that limit is off. */
  private readonly messageLimiter: MessageLimiter | null;
  /** Counter events: Analytics Engine data points in production, numbers in memory for the dev endpoint. */
  private readonly counterLog: RoomCounterLog;
  /** Requests, SQLite rows and R2 calls since the room woke, for the benchmark (`stats`). */
  private readonly operations: RoomOperations = roomOperations();
  private readonly calls: CallCounter = {
    called: () => this.operations.requests.rpc++,
    failed: () => this.counterLog.count("error"),
  };
  /** The SQL every module works on: in development it counts statements and rows (`room-operations.ts`). */
  private readonly store: SqlStorage;
  private readonly settleSql: () => void = () => {};

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Only development counts here (for the benchmark): Cloudflare's own metrics show the rows and R2 calls.
    const measured = env.PARLOR_ENV === "development";
    if (measured) {
      const counted = countingSql(ctx.storage.sql, this.operations);
      this.store = counted.sql;
      this.settleSql = counted.settle;
    } else {
      this.store = ctx.storage.sql;
    }
    migrateRoomSchema(this.store);
    migrateSearchIndex(this.store);
    this.scheduler = new Scheduler(
      (at) => void ctx.storage.setAlarm(at),
      () => this.logFields(),
    );
    this.room = roomState(
      this.store,
      measured ? { ...env, BACKUPS: countingBucket(env.BACKUPS, this.operations) } : env,
      (event) => this.broadcastEvent(event),
      () => this.scheduler.reschedule(),
    );
    const { messages } = rateLimitsOf(env);
    this.messageLimiter = messages ? new MessageLimiter(messages) : null;
    this.scheduler.register(runDeadlines(this.room));
    this.scheduler.register(approvalDeadlines(this.room));
    this.scheduler.register(usageBatches(this.room));
    this.scheduler.register(auditOutbox(this.room));
    this.scheduler.register(scheduledBackups(this.room));
    this.scheduler.register(approvalReminders(this.room));
    this.scheduler.register(chatActivity(this.room));
    this.room.sendTo = (userIds, event) => {
      for (const userId of userIds)
        for (const connection of this.getConnections(userTag(userId))) send(connection, event);
    };
    this.scheduler.register(chatPurge(this.room, () => (this.purged = true)));
    const sockets = () => this.openSockets();
    const approvals = () => pendingApprovals(this.store);
    this.counterLog = new RoomCounterLog(env.COUNTERS, () => cachedChat(this.room), {
      socket_opened: sockets,
      socket_closed: sockets,
      approval_requested: approvals,
      approval_decided: approvals,
      // A run's end closes the approvals it still waited on.
      run_finished: approvals,
      run_failed: approvals,
    });
    // A room from before usage counting counts from now on, not its whole history at once.
    if (activeChat(this.store)) startUsageCursor(this.store, true);
  }

  static {
    countCalls(ChatRoom.prototype, ROOM_RPC, (room) => room.calls);
  }

  // ---- RPC surface for the Orchestrator ----

  activate(chat: ChatRef, billing?: RoomBilling): void {
    activate(this.store, chat);
    if (billing) setRoomBilling(this.room, billing);
  }

  /**
   * The REST path for a member's message. Over the member's message limit nothing is stored and the answer says how
   * long to wait; a retry of a message already stored is answered as usual and not charged.
   */
  postMessage(
    chat: ChatRef,
    author: MemberIdentity,
    body: PostMessageBody,
  ): (AppendResult & { runsRefused?: RunRefusal[] }) | { revoked: true } | RateLimited | ChatClosed {
    activate(this.store, chat);
    if (isRevoked(this.store, author.userId)) return { revoked: true };
    const closed = closedFor(this.room);
    if (closed) return closed;
    const received = this.receive(author, body);
    if ("rateLimited" in received) return received;
    const { message, created, refused } = received;
    return refused?.length ? { message, created, runsRefused: refused } : { message, created };
  }

  /** Writes a snapshot of this chat to R2 now (an admin asked, or the schedule). */
  async backup(): Promise<Backup> {
    const chat = cachedChat(this.room);
    if (!chat) throw new Error("this room serves no chat yet");
    const backup = await writeSnapshot(this.store, this.room.env.BACKUPS, chat);
    noteBackup(this.store, backup.lastSeq);
    return backup;
  }

  /** Fills this new, empty room from a verified snapshot; on any failure it is left empty and this throws. */
  async restoreFrom(chat: ChatRef, manifest: Manifest): Promise<{ lastSeq: number }> {
    activate(this.store, chat);
    this.room.cache.summary = undefined;
    try {
      return { lastSeq: await restoreSnapshot(this.store, this.room.env.BACKUPS, manifest) };
    } catch (error) {
      // Only the message crosses RPC: the App API answers 422 for it.
      throw new Error(`backup_corrupt: ${(error as Error).message}`);
    }
  }

  /** The org's billing, pushed by the App API after every change; an older version than the one held is ignored. */
  setBilling(billing: RoomBilling): boolean {
    return setRoomBilling(this.room, billing);
  }

  history(page: HistoryPage): Message[] {
    return readPage(this.store, page);
  }

  /** Closes every socket of a member who was removed from the chat, and refuses them until re-admitted. */
  removeMember(userId: string): number {
    revoke(this.store, userId);
    recountVotesOf(this.room, userId);
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
    recountVotesOf(this.room, userId);
  }

  /** A member's org role changed: their open sockets decide approvals with the new one. */
  setMemberRole(userId: string, role: "admin" | "member"): void {
    noteRole(this.store, userId, role);
    recountVotesOf(this.room, userId);
    for (const connection of this.getConnections<MemberIdentity>(userTag(userId))) {
      if (connection.state) connection.setState({ ...connection.state, role });
    }
  }

  setAgents(agents: RoomAgent[]): void {
    setAgents(this.room, agents);
  }

  /** A notice by Parlor from outside the room (a marketplace take-down), stored once per key. */
  noticeFromParlor(key: string, text: string): void {
    postNotice(this.room, key, text);
  }

  /** What this room did since it woke, in the units Cloudflare bills; `rowsWritten` is SQLite's total_changes(). */
  stats(): { rowsWritten: number } & RoomOperations {
    const rowsWritten = this.store.exec<{ n: number }>("SELECT total_changes() AS n").one().n;
    this.settleSql();
    return { rowsWritten, ...this.operations };
  }

  /** The chat's counters: from its tables, its open sockets, and what it counted in memory since it woke. */
  counters(chatId: string): ChatCounters {
    const { since } = this.counterLog.sinceWake;
    return { chatId, since, counters: roomCounters(this.store, this.openSockets(), this.counterLog.sinceWake) };
  }

  // ---- RPC surface for agents ----

  /** An agent reaches its run only through this capability, with the secret minted for that run (see the file). */
  /** Null for a run this room does not know, or a secret that is not the run's: the agent cannot reach it. */
  openRun(runId: string, runSecret: string): RunCapability | null {
    if (isDeleted(this.room) || !runSecretMatches(this.store, runId, runSecret)) return null;
    return new CountedRunCapability(this.room, runId, {
      called: () => this.operations.requests.capability++,
      failed: () => this.counterLog.count("error"),
    });
  }

  /** For the chat's summary job (`SummaryAgent`): the older log, the latest summary, and the next version. */
  messagesBetween(from: number, to: number): Message[] {
    return messagesBetween(this.store, from, to);
  }

  latestSummary(): Summary | null {
    return latestSummary(this.store);
  }

  /** Stores the next summary; its model tokens count as the org's usage (once per version). */
  storeSummary(summary: Summary, tokens?: { tokensIn: number; tokensOut: number }, readAt?: string): boolean {
    if (tokens) {
      countSummaryTokens(this.store, summary.version, tokens);
      noteUsage(this.room);
    }
    return acceptSummary(this.room, summary, readAt);
  }

  // ---- RPC surface for the Orchestrator: runs, approvals and artifacts ----

  stopRun(
    stopper: Stopper,
    runId: string,
  ): { seq: number } | { error: "not_found" | "forbidden" | "conflict"; message: string } {
    const result = stopRun(this.room, stopper, runId);
    return "error" in result ? { ...result, message: stopRefusal[result.error] } : result;
  }

  retryRun(member: MemberIdentity, runId: string) {
    const closed = closedFor(this.room);
    if (closed) {
      return {
        error: closed.closed === "deleted" ? "not_found" : "conflict",
        message: closedMessages[closed.closed],
      } as const;
    }
    const result = retryRun(this.room, member, runId);
    if ("error" in result && (result.error === "billing_lapsed" || result.error === "quota_exceeded")) {
      this.counterLog.count("run_refused");
    }
    return result;
  }

  getArtifact(artifactId: string): Artifact | null {
    return getArtifact(this.store, artifactId);
  }

  listApprovals(status?: Approval["status"]): Approval[] {
    return listApprovals(this.store, status);
  }

  decideApproval(
    decider: Decider & { name: string },
    approvalId: string,
    decision: "approve" | "deny",
  ): { approval: Approval } | { error: "not_found" | "forbidden" | "conflict" } {
    return decideApproval(this.room, decider, approvalId, decision);
  }

  // ---- RPC surface for the Orchestrator: editing, deleting and searching messages (message-edits.ts) ----

  /** An edit costs a message from its author's bucket (it is stored, indexed and broadcast like one). */
  editMessage(editor: Editor, seq: number, text: string): ReturnType<typeof editMessage> | RateLimited {
    const take = this.messageLimiter?.take(editor.userId);
    if (take && !take.ok) return { rateLimited: { retryAfterMs: take.retryAfterMs } };
    const result = editMessage(this.room, editor, seq, text);
    if ("error" in result || !result.changed) this.messageLimiter?.refund(editor.userId);
    return result;
  }

  deleteMessage(deleter: Editor, seq: number) {
    return deleteMessage(this.room, deleter, seq);
  }

  rebuildSummaries(admin: Editor): { removed: number } {
    const result = rebuildSummaries(this.room, admin);
    summarizeIfDue(this.room, lastSeq(this.store));
    return result;
  }

  search(q: string, limit: number): SearchHit[] {
    return searchIndex(this.store, q, limit);
  }

  /** Every rename, archive and deletion, pushed by the App API; a deleted chat's sockets close at once. */
  setLifecycle(lifecycle: ChatLifecycle, chat?: ChatRef): void {
    // A room never activated (a chat older than activation at creation) would otherwise never know what to purge.
    if (chat) activate(this.store, chat);
    const held = setLifecycle(this.room, lifecycle);
    // Always: a repeated push (the cron's sweep) also repairs an alarm the purge should have set.
    this.scheduler.reschedule();
    if (!held.deleted) return;
    for (const connection of this.getConnections<MemberIdentity>()) {
      connection.setState(null);
      connection.close(closeCodes.chatDeleted, "chat deleted");
    }
  }

  // ---- lifecycle hooks ----

  getConnectionTags(_connection: Connection, context: ConnectionContext): string[] {
    const forwarded = readForwardedSocket(context.request);
    return forwarded ? [userTag(forwarded.identity.userId)] : [];
  }

  onConnect(connection: Member, context: ConnectionContext): void {
    this.operations.requests.socketUpgrades++;
    this.counterLog.count("socket_opened");
    try {
      this.welcome(connection, context);
    } catch (error) {
      // Never let partyserver answer with a stack trace; the client may retry.
      this.counterLog.count("error");
      log("error", "socket_welcome_failed", { ...this.logFields(), ...errorFields(error) });
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
    // A socket that passed the membership check just before the chat was deleted.
    if (isDeleted(this.room)) {
      connection.close(closeCodes.chatDeleted, "chat deleted");
      return;
    }
    if ([...this.getConnections(userTag(forwarded.identity.userId))].length > MAX_SOCKETS_PER_MEMBER) {
      connection.close(1008, "too many open sockets for this member");
      return;
    }
    connection.setState(forwarded.identity);
    // Catch-up runs synchronously, so no live broadcast can slip in between history and what follows it. It is
    // bounded (a long-absent client must not make the room send its whole log at once); the client pages the rest.
    const head = lastSeq(this.store);
    const { catchUp } = forwarded;
    const page =
      "tail" in catchUp
        ? messagesUpTo(this.store, head, Math.min(catchUp.tail, MAX_CATCH_UP))
        : messagesAfter(this.store, catchUp.after, MAX_CATCH_UP);
    for (const message of page) send(connection, { type: "message", ...message });
    const sentUpTo = page.length > 0 ? page[page.length - 1].seq : "tail" in catchUp ? head : catchUp.after;
    // A chat renamed or archived since it was created: its state as of now, so a client need not ask.
    const lifecycle = roomLifecycle(this.room);
    if (lifecycle) send(connection, { type: "chat.updated", title: lifecycle.title, archived: lifecycle.archived });
    // Runs in progress (the text so far; live deltas follow) and requests awaiting a decision.
    for (const event of welcomeEvents(this.room)) send(connection, event);
    const you: PresentUser = { id: forwarded.identity.userId, name: forwarded.identity.name };
    send(connection, { type: "ready", lastSeq: head, hasMore: sentUpTo < head, you });
    this.broadcastPresence();
  }

  /**
   * Group commit: a frame that arrives while the room's last writes are still being committed waits, and every frame
   * that waited is handled together, in arrival order, in one synchronous pass once that commit is done. Their writes
   * are then one transaction (one commit, one sync of the disk), and the output gate holds every answer and broadcast
   * until it: nothing is acknowledged before it is stored. A frame that finds nothing being committed is handled at
   * once, so a quiet room adds no wait. Who sent a frame and whether they may (socket open, member not removed, their
   * role) is judged as it arrives, as if it had been handled then; what it asks for (an approval still open, a run
   * still going) is judged when its batch is handled, at most one commit later.
   */
  onMessage(connection: Member, raw: WSMessage): void {
    this.operations.requests.socketMessages++;
    this.knownSockets.add(connection);
    try {
      const identity = connection.state;
      // A removed member's socket may still deliver frames if its client ignores the close; they count for nothing.
      if (!identity || connection.readyState !== WebSocket.OPEN || isRevoked(this.store, identity.userId)) return;
      if (this.committing) {
        this.queuedFrames.push({ connection, identity, raw });
        return;
      }
      this.handleFrame(connection, identity, raw);
      this.awaitCommit();
    } catch (error) {
      this.frameFailed(connection, error);
    }
  }

  /**
   * partyserver's handler deserializes a socket's attachment on every frame to check the socket is one of its own,
   * the largest single cost of a frame in the profile (docs/performance.md). A socket whose frame it already passed to
   * this instance is known: its later frames come straight here. (After hibernation the instance is new, and the first
   * frame of each socket goes through partyserver again.)
   */
  private readonly knownSockets = new WeakSet<WebSocket>();

  override webSocketMessage(ws: WebSocket, message: WSMessage): Promise<void> {
    if (!this.knownSockets.has(ws)) return super.webSocketMessage(ws, message);
    this.onMessage(ws as Member, message);
    return Promise.resolve();
  }

  private committing = false;
  private queuedFrames: { connection: Member; identity: MemberIdentity; raw: WSMessage }[] = [];

  private awaitCommit(): void {
    if (this.committing) return;
    this.committing = true;
    const next = () => {
      this.committing = false;
      const frames = this.queuedFrames;
      if (frames.length === 0) return;
      this.queuedFrames = [];
      for (const { connection, identity, raw } of frames) {
        // handleFrame answers its own failures; this only keeps one frame's trouble from dropping the rest.
        try {
          this.handleFrame(connection, identity, raw);
        } catch {}
      }
      this.awaitCommit();
    };
    // A failed commit resets the object; until then, frames that waited are handled as usual.
    try {
      void this.ctx.storage.sync().then(next, next);
    } catch {
      next();
    }
  }

  private handleFrame(connection: Member, identity: MemberIdentity, raw: WSMessage): void {
    // An exception escaping here would reset the room for everyone: every failure becomes an error event.
    try {
      const parsed = parseClientFrame(raw);
      if ("error" in parsed) {
        send(connection, parsed.error);
        return;
      }
      const { frame } = parsed;
      if (frame.type === "approval") {
        const result = decideApproval(this.room, identity, frame.approvalId, frame.decision);
        if ("error" in result) send(connection, { type: "error", code: result.error, message: refusal[result.error] });
        return;
      }
      if (frame.type === "stop") {
        const result = stopRun(this.room, identity, frame.runId);
        if ("error" in result)
          send(connection, { type: "error", code: result.error, message: stopRefusal[result.error] });
        return;
      }
      if (frame.type === "typing") {
        if (!this.typingAllowed(connection.id)) return;
        this.broadcastEvent({ type: "typing", user: { id: identity.userId, name: identity.name } }, [connection.id]);
        return;
      }
      const closed = closedFor(this.room);
      if (closed) {
        const code = closed.closed === "deleted" ? "not_found" : "conflict";
        send(connection, {
          type: "error",
          code,
          message: closedMessages[closed.closed],
          clientMessageId: frame.clientMessageId,
        });
        return;
      }
      const received = this.receive(identity, frame);
      if ("rateLimited" in received) {
        // The socket stays open: the client waits and sends again (with the same clientMessageId).
        send(connection, {
          type: "error",
          code: "rate_limited",
          message: tooManyMessages(received.rateLimited.retryAfterMs),
          clientMessageId: frame.clientMessageId,
        });
        return;
      }
      const { message, created, notStarted, refused } = received;
      // A retry is answered to its sender alone with the stored message; nobody else sees it twice.
      if (!created) send(connection, { type: "message", ...message });
      // One error per reason: the notice in the chat names the agents.
      for (const code of new Set(refused?.map((r) => r.code))) {
        const reason = refused?.find((r) => r.code === code);
        if (reason) {
          send(connection, {
            type: "error",
            code,
            message: `not started: ${reason.message}`,
            clientMessageId: frame.clientMessageId,
          });
        }
      }
      if (notStarted) {
        send(connection, {
          type: "error",
          code: "rate_limited",
          message: `not started, too many agent runs in progress here: ${notStarted.map((h) => `@${h}`).join(", ")}`,
          clientMessageId: frame.clientMessageId,
        });
      }
    } catch (error) {
      this.frameFailed(connection, error);
    }
  }

  private frameFailed(connection: Member, error: unknown): void {
    this.counterLog.count("error");
    log("error", "frame_handler_failed", { ...this.logFields(), ...errorFields(error) });
    send(connection, { type: "error", code: "internal", message: "the room could not handle that frame" });
  }

  onClose(connection: Member): void {
    this.counterLog.count("socket_closed");
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

  private receive(
    author: MemberIdentity,
    body: PostMessageBody,
  ): (AppendResult & { notStarted?: string[]; refused?: RunRefusal[] }) | RateLimited {
    // Checked before anything is stored; the hot path stays one insert, and a retry gets its token back.
    const take = this.messageLimiter?.take(author.userId);
    if (take && !take.ok) {
      const stored = storedByMember(this.store, author.userId, body.clientMessageId);
      return stored ? { message: stored, created: false } : { rateLimited: { retryAfterMs: take.retryAfterMs } };
    }
    const result = appendMessage(
      this.store,
      { type: "user", id: author.userId, name: author.name },
      { text: body.text, clientMessageId: body.clientMessageId },
    );
    if (!result.created) this.messageLimiter?.refund(author.userId);
    if (result.created) {
      this.broadcastEvent({ type: "message", ...result.message });
      noteUsage(this.room);
      const { notStarted, refused } = wakeAgents(this.room, result.message);
      if (refused.length > 0) this.counterLog.count("run_refused", refused.length);
      summarizeIfDue(this.room, result.message.seq);
      return {
        ...result,
        ...(notStarted.length > 0 ? { notStarted } : {}),
        ...(refused.length > 0 ? { refused } : {}),
      };
    }
    return result;
  }

  /** Runs what is due: fails runs past their deadline, expires approvals, re-sends decisions agents have not taken. */
  async onAlarm(): Promise<void> {
    this.operations.requests.alarms++;
    await this.scheduler.runDue();
    if (this.purged) {
      // The chat's rows and backups are gone: so goes everything this room stored, and its alarm.
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
    }
  }

  /** Set by the purge job: the alarm wipes the room's storage once every job has run. */
  private purged = false;

  private broadcastPresence(leaving?: string): void {
    this.broadcastEvent({ type: "presence", users: presentUsers(this.getConnections<MemberIdentity>(), leaving) });
  }

  /** The room's ids for a log line; none when the room cannot tell (it is never why a log line fails). */
  private logFields(): { orgId?: string; chatId?: string } {
    try {
      const chat = cachedChat(this.room);
      return chat ? { orgId: chat.orgId, chatId: chat.chatId } : {};
    } catch {
      return {};
    }
  }

  private openSockets(): number {
    return this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN).length;
  }

  private broadcastEvent(event: RoomEvent, without?: string[]): void {
    if (event.type === "message") noteActivity(this.room);
    const payload = JSON.stringify(event);
    this.counterLog.observe(event);
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

/** A member's message refused by their message limit: nothing was stored. */
export type RateLimited = { rateLimited: { retryAfterMs: number } };

function tooManyMessages(retryAfterMs: number): string {
  return `too many messages: nothing was stored; send again in ${retryAfterSeconds(retryAfterMs)} s`;
}

function userTag(userId: string): string {
  return `user:${userId}`;
}

const refusal = {
  not_found: "no such approval in this chat",
  forbidden: "this tool's approval policy does not let you decide",
  conflict: "this approval was already decided, or you already voted on it",
} as const;

const stopRefusal = {
  not_found: "no such run in this chat",
  forbidden: "only the member whose message started the run, or an org admin, may stop it",
  conflict: "this run has already ended",
} as const;

function send(connection: Connection, event: RoomEvent): void {
  try {
    connection.send(JSON.stringify(event));
  } catch {
    // The socket closed under us; its close handler updates presence.
  }
}
