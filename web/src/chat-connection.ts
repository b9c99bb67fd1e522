/**
 * One chat's live connection. The first socket asks for the newest page (`tail`); older pages are fetched on
 * demand (`before`). partysocket reconnects after a drop and the socket resumes from the highest seq held without a
 * gap (`after`); when the room's bounded catch-up stops short (`ready.hasMore`), the rest is paged over REST up to
 * `ready.lastSeq` while live events are buffered. Messages are keyed by seq, so every merge is idempotent, and the
 * view only ever shows a gap-free run of them. Unacknowledged sends are re-sent with their clientMessageId, which the
 * room stores once.
 *
 * Every (re)connect asks for a fresh one-use socket ticket (`POST /api/chats/:chatId/socket-ticket`, sent with a
 * fresh token) and opens the socket with `?ticket=`, so no session token is ever in a URL. A 401, 403 or 404 to the
 * ticket request stops it and says why; any other failure counts as a failed connect. A browser cannot read why a
 * handshake was refused (it sees close 1006), so after a connect that failed, or a socket closed before `ready`
 * without a 4xxx code, the client renews its token and probes `GET /api/chats/:chatId/members`: a 401, 403 or 404
 * stops it and says why; anything else is taken as transient and it retries, 1 s doubling to 30 s. A 4003 close
 * (removed from the chat) or 4004 (the chat was deleted) stops it at once.
 */
import { WebSocket as ReconnectingWebSocket } from "partysocket";
import type { ApprovalEvent } from "../../protocol/agents";
import type { ApprovalVote } from "../../protocol/approval-policy";
import { type ClientFrame, clientFrameSchema, closeCodes, type Message, type PresentUser } from "../../protocol/chat";
import { type RoomEvent, roomEventSchema } from "../../protocol/events";
import { call, client, RequestFailed } from "./api";
import { fromListed, fromRequested, withApprovalEvent } from "./approval-state";
import { tokens } from "./tokens";

/** A reply an agent is still writing, with the tools it is using. */
export type LiveRun = {
  runId: string;
  agentId: string;
  /** Who started it (with org admins, who may stop it); unknown from a room older than the field. */
  initiator?: string;
  text: string;
  tools: { toolCallId: string; name: string; status: string; input: unknown; output?: unknown }[];
};

export type ApprovalView = Omit<
  Extract<ApprovalEvent, { type: "approval.requested" }>,
  "type" | "votes" | "counted"
> & {
  decision: "approved" | "denied" | "expired" | null;
  by: string | null;
  /** Every vote so far (`approval.vote`, or those it had when this socket connected). */
  votes: ApprovalVote[];
  /** Approving votes the room counts toward the quorum (never counted here: see approval-state.ts). */
  counted: number;
  /** The latest reminder this member got: who the request still waits for. */
  reminder: { expiresAt: string; waitingFor: string[] } | null;
};

export type ChatView = {
  /** A gap-free run of the log, ascending; messages beyond a gap wait until the gap is filled. */
  messages: Message[];
  /** Older messages exist below the first one shown. */
  hasEarlier: boolean;
  loadingEarlier: boolean;
  /** Catching up over REST after a long absence. */
  catchingUp: boolean;
  pending: { clientMessageId: string; text: string }[];
  present: PresentUser[];
  typing: PresentUser[];
  runs: LiveRun[];
  approvals: ApprovalView[];
  connected: boolean;
  /** The connection stopped for good and will not reconnect: why (removed, no such chat, signed out). */
  stopped: string | null;
  error: string | null;
  /** The chat's title and archive state once the room has said them (`chat.updated`); null: as the list had them. */
  chat: { title: string; archived: boolean } | null;
};

export const emptyView: ChatView = {
  messages: [],
  hasEarlier: false,
  loadingEarlier: false,
  catchingUp: false,
  pending: [],
  present: [],
  typing: [],
  runs: [],
  approvals: [],
  connected: false,
  stopped: null,
  error: null,
  chat: null,
};

const TYPING_SHOWN_MS = 4000;
/** The newest messages a chat opens with, and the size of each older page. */
export const PAGE = 100;
/** The page size of forward catch-up over REST (the API's maximum). */
const CATCH_UP_PAGE = 500;
/**
 * Forward catch-up asks for this many pages at once: each REST request waits mostly on fixed costs (the hops, the
 * session check, the database), which overlap (docs/performance.md). Seqs are dense, so the pages after
 * `after + i × CATCH_UP_PAGE` cover the gap without holes; any overlap is the same messages twice.
 */
const CATCH_UP_IN_FLIGHT = 4;
const RETRY_MS = 2000;
/** Reconnects back off from 1 s, doubling, to 30 s (the count resets once a socket has stayed up 5 s). */
const RECONNECT = { minReconnectionDelay: 1000, reconnectionDelayGrowFactor: 2, maxReconnectionDelay: 30_000 };

/** What a refused probe means, by status; anything else is transient. */
const STOPPED_BECAUSE: Record<number, string> = {
  401: "signed out: sign in again",
  403: "you were removed from this chat",
  404: "this chat does not exist or you are not in its org",
};

export class ChatConnection {
  private readonly messages = new Map<number, Message>();
  /** Edits and deletions of messages not held yet (a page may bring the older state after the event): applied on arrival. */
  private readonly changed = new Map<number, Partial<Message>>();
  /** The lowest seq of the gap-free run held (head + 1 when it is empty); null until the first catch-up. */
  private floor: number | null = null;
  /** The highest seq of the gap-free run held (floor - 1 when it is empty). */
  private head = 0;
  /** The chat's head as the last `ready` reported it: forward paging runs until `head` reaches it. */
  private target = 0;
  private paging = false;
  private earliestReached = false;
  private loadingEarlier = false;
  /** Sends not yet shown as stored: `seq` once the room acknowledged one beyond a gap still being filled. */
  private readonly pending = new Map<string, { text: string; seq?: number }>();
  private readonly typing = new Map<string, { user: PresentUser; until: number }>();
  private readonly runs = new Map<string, LiveRun>();
  private readonly snapshotted = new Set<string>();
  private readonly approvals = new Map<string, ApprovalView>();
  private present: PresentUser[] = [];
  private connected = false;
  /** The current socket said `ready`: a close after that is a drop, not a refusal. */
  private ready = false;
  /** Why the last connect failed, asked over REST; the next connect waits for the answer. */
  private probing: Promise<void> | null = null;
  /** Removed from the chat, or closed by the view: no more reconnects or paging. */
  private stopped = false;
  /** Why the connection stopped for good (removed, no such chat, signed out), shown in the chat's header. */
  private stoppedBecause: string | null = null;
  private disposed = false;
  private error: string | null = null;
  /** Why forward paging last failed (cleared when a page arrives). */
  private pagingError: string | null = null;
  /** Why the last message was not sent (cleared by the next one sent). */
  private refused: string | null = null;
  private me: string | null = null;
  private chat: ChatView["chat"] = null;
  private readonly socket: ReconnectingWebSocket;
  private readonly timer: ReturnType<typeof setInterval>;
  private emitQueued = false;

  constructor(
    private readonly chatId: string,
    private readonly onChange: (view: ChatView) => void,
  ) {
    // Called again on every reconnect (after partysocket's back-off): the newest page first, then resume after the
    // last seq held without a gap, with a ticket fresh for this connect.
    const url = async () => {
      if (this.probing) await this.probing;
      this.probing = null;
      const ticket = this.stopped ? null : await this.ticket();
      // Once stopped, partysocket sees its close() was called and opens nothing with this address.
      const query =
        this.floor === null
          ? { ticket: ticket ?? "", tail: String(PAGE) }
          : { ticket: ticket ?? "", after: String(this.contiguousHead()) };
      const address = client.api.chats[":chatId"].ws.$url({ param: { chatId }, query });
      address.protocol = location.protocol === "https:" ? "wss:" : "ws:";
      return address.toString();
    };
    this.socket = new ReconnectingWebSocket(url, [], {
      maxRetries: Number.POSITIVE_INFINITY,
      ...RECONNECT,
    });
    this.socket.addEventListener("close", (event) => {
      const refused = !this.ready;
      this.ready = false;
      if (event.code === closeCodes.removedFromChat) this.stopBecause("you were removed from this chat");
      else if (event.code === closeCodes.chatDeleted) this.stopBecause("this chat was deleted");
      // A failed connect: partysocket's error close reads 1000, the browser's 1006; neither says why.
      else if (refused && !this.stopped && !this.probing) this.probing = this.probe();
      this.setConnected(false);
    });
    this.socket.addEventListener("message", (event) => this.receiveRaw(event.data));
    // Back online: try at once rather than wait out a back-off that grew while offline.
    window.addEventListener("online", this.onOnline);
    this.timer = setInterval(() => this.expireTyping(), 1000);
  }

  /** Sends a message; one the room would refuse (empty, over 16 KiB, not well-formed text) is refused here. */
  send(text: string): void {
    const frame: ClientFrame = { type: "message", text, clientMessageId: crypto.randomUUID() };
    const checked = clientFrameSchema.safeParse(frame);
    if (!checked.success) {
      this.refused = `not sent: ${checked.error.issues[0]?.message ?? "invalid message"}`;
    } else {
      this.refused = null;
      this.pending.set(frame.clientMessageId, { text });
      this.sendFrame(frame);
    }
    this.emit();
  }

  typingNow(): void {
    if (this.socket.readyState === this.socket.OPEN) this.sendFrame({ type: "typing" });
  }

  decide(approvalId: string, decision: "approve" | "deny"): void {
    this.sendFrame({ type: "approval", approvalId, decision });
  }

  /** Stops an agent's run; the room refuses (with an error event) anyone but its initiator or an org admin. */
  stop(runId: string): void {
    this.sendFrame({ type: "stop", runId });
  }

  close(): void {
    this.stopped = true;
    this.disposed = true;
    clearInterval(this.timer);
    window.removeEventListener("online", this.onOnline);
    this.socket.close();
  }

  /** Fetches the page just below the lowest seq held and prepends it. */
  async loadEarlier(): Promise<void> {
    if (this.loadingEarlier || this.floor === null || this.floor <= 1) return;
    this.loadingEarlier = true;
    this.emit();
    try {
      const { messages } = await call(
        client.api.chats[":chatId"].messages.$get({
          param: { chatId: this.chatId },
          query: { before: String(this.floor), limit: String(PAGE) },
        }),
      );
      this.hold(messages);
      // An empty page below a floor above 1 should not happen; stop offering more rather than loop.
      if (messages.length === 0) this.earliestReached = true;
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.loadingEarlier = false;
      this.emit();
    }
  }

  // ---- internals ----

  /** Every approval of the chat, pending or decided, merged with what the socket told meanwhile. */
  private async loadApprovals(): Promise<void> {
    try {
      const { approvals } = await call(
        client.api.chats[":chatId"].approvals.$get({ param: { chatId: this.chatId }, query: {} }),
      );
      for (const approval of approvals) {
        this.approvals.set(approval.approvalId, fromListed(approval, this.approvals.get(approval.approvalId)));
      }
      this.emit();
    } catch (e) {
      // Pending requests still come over the socket; only decided cards are missing until the next connect.
      console.warn("chat: could not list approvals", e);
    }
  }

  private readonly onOnline = () => {
    if (!this.stopped && !this.connected) this.socket.reconnect();
  };

  /** Stops reconnecting for good and says why in the chat's header. */
  private stopBecause(reason: string): void {
    this.stopped = true;
    this.stoppedBecause = reason;
    this.socket.close();
    this.emit();
  }

  /**
   * A one-use ticket for the next connect (signed out: none, and the connection stops). A 401, 403 or 404 to the
   * ticket request is taken as a refused connect: the probe (with a token minted now) says whether to stop. Any
   * failure that leaves the connection going throws, which partysocket takes as a failed connect and backs off.
   */
  private async ticket(): Promise<string | null> {
    if (!(await tokens.fresh())) {
      this.stopBecause(STOPPED_BECAUSE[401] as string);
      return null;
    }
    const response = await client.api.chats[":chatId"]["socket-ticket"].$post({ param: { chatId: this.chatId } });
    if (response.ok) return (await response.json()).ticket;
    if (STOPPED_BECAUSE[response.status]) {
      this.probing ??= this.probe();
      await this.probing;
      this.probing = null;
      if (this.stopped) return null;
    }
    throw new Error(`no socket ticket (${response.status})`);
  }

  /** Asks REST why the socket was refused, with a token minted now; a 401, 403 or 404 stops the connection. */
  private async probe(): Promise<void> {
    try {
      await tokens.renewed();
      await call(client.api.chats[":chatId"].members.$get({ param: { chatId: this.chatId } }));
    } catch (e) {
      const reason = e instanceof RequestFailed ? STOPPED_BECAUSE[e.status] : undefined;
      if (reason && !this.stopped) this.stopBecause(reason);
      // Anything else (offline, a 5xx, a dev server reloading) is transient: partysocket backs off and tries again.
    }
  }

  private sendFrame(frame: ClientFrame): void {
    this.socket.send(JSON.stringify(frame));
  }

  private receiveRaw(data: unknown): void {
    let json: unknown;
    try {
      json = JSON.parse(String(data));
    } catch {
      console.warn("chat: ignored a frame that is not JSON", data);
      return;
    }
    const parsed = roomEventSchema.safeParse(json);
    if (!parsed.success) {
      console.warn("chat: ignored an event that does not match the protocol", json, parsed.error.issues);
      return;
    }
    this.receive(parsed.data);
  }

  private receive(event: RoomEvent): void {
    switch (event.type) {
      case "approval.requested":
        this.approvals.set(event.approvalId, fromRequested(event, this.approvals.get(event.approvalId)));
        break;
      case "approval.vote":
      case "approval.reminder": {
        const approval = this.approvals.get(event.approvalId);
        if (approval) this.approvals.set(event.approvalId, withApprovalEvent(approval, event));
        break;
      }
      case "approval.decided": {
        const approval = this.approvals.get(event.approvalId);
        if (approval) this.approvals.set(event.approvalId, { ...approval, decision: event.decision, by: event.by });
        break;
      }
      case "run.tool": {
        const run = this.runs.get(event.runId) ?? { runId: event.runId, agentId: event.agentId, text: "", tools: [] };
        const { toolCallId, name, status, input, output } = event;
        run.tools = [
          ...run.tools.filter((t) => t.toolCallId !== toolCallId),
          { toolCallId, name, status, input, output },
        ];
        this.runs.set(event.runId, run);
        break;
      }
      case "run.started":
        this.runs.set(event.runId, {
          runId: event.runId,
          agentId: event.agentId,
          initiator: event.initiator,
          text: "",
          tools: [],
        });
        break;
      case "run.snapshot":
        this.snapshotted.add(event.runId);
        this.runs.set(event.runId, {
          runId: event.runId,
          agentId: event.agentId,
          initiator: event.initiator,
          text: event.text,
          tools: event.tools,
        });
        break;
      case "run.delta": {
        const run = this.runs.get(event.runId) ?? { runId: event.runId, agentId: event.agentId, text: "", tools: [] };
        // A delta carries its offset: anything already held is dropped, so nothing doubles after a reconnect.
        if (event.index <= run.text.length) run.text = run.text.slice(0, event.index) + event.text;
        this.runs.set(event.runId, run);
        break;
      }
      case "run.finished":
      case "run.failed":
        this.runs.delete(event.runId);
        break;
      case "message": {
        const { type: _type, ...message } = event;
        this.hold([message]);
        const sent = message.clientMessageId ? this.pending.get(message.clientMessageId) : undefined;
        if (sent) sent.seq = message.seq;
        this.typing.delete(message.author.id);
        break;
      }
      case "message.edited":
        this.change(event.seq, { text: event.text, editedAt: event.editedAt });
        break;
      case "message.deleted":
        this.change(event.seq, { text: "", deletedAt: event.deletedAt, deletedBy: event.deletedBy });
        break;
      case "ready":
        this.ready = true;
        this.setConnected(true);
        this.me = event.you.id;
        // An empty chat (or a tail that brought nothing): everything up to the head is held.
        if (this.floor === null) {
          this.floor = event.lastSeq + 1;
          this.head = event.lastSeq;
        }
        // Every run in progress was snapshotted before `ready`; any other ended while this socket was away, and the
        // catch-up already brought its stored message.
        for (const runId of this.runs.keys()) if (!this.snapshotted.has(runId)) this.runs.delete(runId);
        this.snapshotted.clear();
        this.error = null;
        // Catch-up is bounded: when it stopped short of the head, page the rest over REST (live events meanwhile
        // are held beyond the gap and shown once it is filled).
        this.target = Math.max(this.target, event.lastSeq);
        if (event.hasMore || this.contiguousHead() < this.target) void this.pageForward();
        // The socket brings only pending requests: decided ones (their outcome, in place) come from the list.
        void this.loadApprovals();
        // Anything still pending was lost with the old socket or never acknowledged: send it again, same id.
        for (const [clientMessageId, { text, seq }] of this.pending) {
          if (seq === undefined) this.sendFrame({ type: "message", text, clientMessageId });
        }
        break;
      case "presence":
        this.present = event.users;
        break;
      case "typing":
        if (event.user.id !== this.me)
          this.typing.set(event.user.id, { user: event.user, until: Date.now() + TYPING_SHOWN_MS });
        break;
      case "chat.updated":
        this.chat = { title: event.title, archived: event.archived };
        break;
      case "error":
        this.error = event.message;
        if (event.clientMessageId) this.pending.delete(event.clientMessageId);
        break;
    }
    this.emit();
  }

  /** An edit or deletion: applied to the message held, or kept until it arrives. */
  private change(seq: number, change: Partial<Message>): void {
    const held = this.messages.get(seq);
    if (held) {
      if (!held.deletedAt) this.messages.set(seq, { ...held, ...change });
    } else {
      this.changed.set(seq, { ...this.changed.get(seq), ...change });
    }
  }

  /** Merges messages (socket or REST; any order, duplicates welcome) into the log held. */
  private hold(messages: Message[]): void {
    for (const message of messages) {
      const change = this.changed.get(message.seq);
      this.changed.delete(message.seq);
      // A page read before an edit or deletion it raced must not bring the older text back.
      const known = this.messages.get(message.seq) ?? null;
      let latest = newest(message, known);
      if (change) latest = newest(latest, { ...latest, ...change });
      this.messages.set(message.seq, latest);
    }
    // The first catch-up of a chat (the newest page) starts the run at its lowest seq.
    if (this.floor === null && messages.length > 0) {
      this.floor = Math.min(...messages.map((m) => m.seq));
      this.head = this.floor - 1;
    }
    this.extendDown();
  }

  private extendDown(): void {
    if (this.floor === null) return;
    while (this.floor > 1 && this.messages.has(this.floor - 1)) this.floor--;
  }

  /** The highest seq up to which every message from the floor is held. */
  private contiguousHead(): number {
    if (this.floor === null) return 0;
    if (this.head < this.floor - 1) this.head = this.floor - 1;
    while (this.messages.has(this.head + 1)) this.head++;
    return this.head;
  }

  /** Pages forward over REST from the highest seq held without a gap until the chat's head is reached. */
  private async pageForward(): Promise<void> {
    if (this.paging) return;
    this.paging = true;
    this.emit();
    try {
      while (!this.stopped && this.contiguousHead() < this.target) {
        const after = this.contiguousHead();
        const pages = Math.min(CATCH_UP_IN_FLIGHT, Math.ceil((this.target - after) / CATCH_UP_PAGE));
        const results = await Promise.all(
          Array.from({ length: pages }, (_, i) =>
            call(
              client.api.chats[":chatId"].messages.$get({
                param: { chatId: this.chatId },
                query: { after: String(after + i * CATCH_UP_PAGE), limit: String(CATCH_UP_PAGE) },
              }),
            ),
          ),
        );
        for (const { messages } of results) this.hold(messages);
        this.pagingError = null;
        this.emit();
        // A page that brings nothing new means the log ends here; the next `ready` says where the head is.
        if (this.contiguousHead() === after) break;
      }
    } catch (e) {
      this.pagingError = `catching up failed: ${(e as Error).message}`;
      // Try again while the socket is up; a reconnect's `ready` restarts paging anyway.
      setTimeout(() => {
        if (!this.stopped && this.connected) void this.pageForward();
      }, RETRY_MS);
    } finally {
      this.paging = false;
      this.emit();
    }
  }

  private expireTyping(): void {
    const now = Date.now();
    let changed = false;
    for (const [id, entry] of this.typing) {
      if (entry.until < now) {
        this.typing.delete(id);
        changed = true;
      }
    }
    if (changed) this.emit();
  }

  private setConnected(connected: boolean): void {
    this.connected = connected;
    this.emit();
  }

  /** A burst of socket events (a catch-up of up to 1,000 messages) renders once, not once per event. */
  private emit(): void {
    if (this.emitQueued || this.disposed) return;
    this.emitQueued = true;
    setTimeout(() => {
      this.emitQueued = false;
      this.emitNow();
    }, 0);
  }

  private emitNow(): void {
    if (this.disposed) return;
    const messages: Message[] = [];
    const head = this.contiguousHead();
    // A send is shown as pending until its stored message is shown.
    for (const [clientMessageId, { seq }] of this.pending)
      if (seq !== undefined && seq <= head) this.pending.delete(clientMessageId);
    if (this.floor !== null) {
      for (let seq = this.floor; seq <= head; seq++) {
        const message = this.messages.get(seq);
        if (message) messages.push(message);
      }
    }
    this.onChange({
      messages,
      hasEarlier: this.floor !== null && this.floor > 1 && !this.earliestReached,
      loadingEarlier: this.loadingEarlier,
      catchingUp: this.paging,
      pending: [...this.pending].map(([clientMessageId, { text }]) => ({ clientMessageId, text })),
      present: this.present,
      typing: [...this.typing.values()].map((entry) => entry.user),
      runs: [...this.runs.values()],
      approvals: [...this.approvals.values()],
      connected: this.connected,
      stopped: this.stoppedBecause,
      error: this.error ?? this.pagingError ?? this.refused,
      chat: this.chat,
    });
  }
}

/** Of two states of one message, the later: a deletion is final, else the later edit. */
function newest(a: Message, b: Message | null): Message {
  if (!b) return a;
  if (a.deletedAt || b.deletedAt) return a.deletedAt ? a : b;
  return (b.editedAt ?? "") > (a.editedAt ?? "") ? b : a;
}
