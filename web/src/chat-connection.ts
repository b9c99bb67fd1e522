/**
 * One chat's live connection: partysocket reconnects after a drop and resumes from the last seq seen, and
 * unacknowledged sends are re-sent with their clientMessageId, which the room stores once.
 */
import { WebSocket as ReconnectingWebSocket } from "partysocket";
import type { ApprovalEvent, RunEvent } from "../../protocol/agents";
import { closeCodes, type Message, type PresentUser, type ServerEvent } from "../../protocol/chat";

/** A reply an agent is still writing, with the tools it is using. */
export type LiveRun = {
  runId: string;
  agentId: string;
  text: string;
  tools: { toolCallId: string; name: string; status: string; input: unknown; output?: unknown }[];
};

export type ApprovalView = Omit<Extract<ApprovalEvent, { type: "approval.requested" }>, "type"> & {
  decision: "approved" | "denied" | "expired" | null;
  by: string | null;
};

export type ChatView = {
  messages: Message[];
  pending: { clientMessageId: string; text: string }[];
  present: PresentUser[];
  typing: PresentUser[];
  runs: LiveRun[];
  approvals: ApprovalView[];
  connected: boolean;
  error: string | null;
};

const TYPING_SHOWN_MS = 4000;

export class ChatConnection {
  private readonly messages = new Map<number, Message>();
  private readonly pending = new Map<string, string>();
  private readonly typing = new Map<string, { user: PresentUser; until: number }>();
  private readonly runs = new Map<string, LiveRun>();
  private readonly snapshotted = new Set<string>();
  private readonly approvals = new Map<string, ApprovalView>();
  private present: PresentUser[] = [];
  private lastSeq = 0;
  private connected = false;
  private error: string | null = null;
  private me: string | null = null;
  private readonly socket: ReconnectingWebSocket;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    chatId: string,
    token: string,
    private readonly onChange: (view: ChatView) => void,
  ) {
    const url = () => {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      const query = new URLSearchParams({ token, after: String(this.lastSeq) });
      return `${scheme}://${location.host}/api/chats/${chatId}/ws?${query}`;
    };
    this.socket = new ReconnectingWebSocket(url, [], {
      maxRetries: Number.POSITIVE_INFINITY,
      maxReconnectionDelay: 4000,
    });
    this.socket.addEventListener("open", () => this.update({ connected: true }));
    this.socket.addEventListener("close", (event) => {
      if (event.code === closeCodes.removedFromChat) {
        this.error = "You were removed from this chat.";
        this.socket.close();
      }
      this.update({ connected: false });
    });
    this.socket.addEventListener("message", (event) =>
      this.receive(JSON.parse(String(event.data)) as ServerEvent | RunEvent | ApprovalEvent),
    );
    this.timer = setInterval(() => this.expireTyping(), 1000);
  }

  send(text: string): void {
    const clientMessageId = crypto.randomUUID();
    this.pending.set(clientMessageId, text);
    this.socket.send(JSON.stringify({ type: "message", text, clientMessageId }));
    this.emit();
  }

  typingNow(): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify({ type: "typing" }));
  }

  close(): void {
    clearInterval(this.timer);
    this.socket.close();
  }

  decide(approvalId: string, decision: "approve" | "deny"): void {
    this.socket.send(JSON.stringify({ type: "approval", approvalId, decision }));
  }

  private receive(event: ServerEvent | RunEvent | ApprovalEvent): void {
    switch (event.type) {
      case "approval.requested": {
        const { type: _type, ...request } = event;
        this.approvals.set(event.approvalId, { ...request, decision: null, by: null });
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
        this.runs.set(event.runId, { runId: event.runId, agentId: event.agentId, text: "", tools: [] });
        break;
      case "run.snapshot":
        this.snapshotted.add(event.runId);
        this.runs.set(event.runId, {
          runId: event.runId,
          agentId: event.agentId,
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
        this.messages.set(message.seq, message);
        this.lastSeq = Math.max(this.lastSeq, message.seq);
        if (message.clientMessageId) this.pending.delete(message.clientMessageId);
        this.typing.delete(message.author.id);
        break;
      }
      case "ready":
        this.me = event.you.id;
        // Every run in progress was snapshotted before `ready`; any other ended while this socket was away, and the
        // catch-up already brought its stored message.
        for (const runId of this.runs.keys()) if (!this.snapshotted.has(runId)) this.runs.delete(runId);
        this.snapshotted.clear();
        this.error = null;
        // Anything still pending was lost with the old socket or never acknowledged: send it again, same id.
        for (const [clientMessageId, text] of this.pending) {
          this.socket.send(JSON.stringify({ type: "message", text, clientMessageId }));
        }
        break;
      case "presence":
        this.present = event.users;
        break;
      case "typing":
        if (event.user.id !== this.me)
          this.typing.set(event.user.id, { user: event.user, until: Date.now() + TYPING_SHOWN_MS });
        break;
      case "error":
        this.error = event.message;
        if (event.clientMessageId) this.pending.delete(event.clientMessageId);
        break;
    }
    this.emit();
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

  private update(patch: { connected: boolean }): void {
    this.connected = patch.connected;
    this.emit();
  }

  private emit(): void {
    this.onChange({
      messages: [...this.messages.values()].sort((a, b) => a.seq - b.seq),
      pending: [...this.pending].map(([clientMessageId, text]) => ({ clientMessageId, text })),
      present: this.present,
      typing: [...this.typing.values()].map((entry) => entry.user),
      runs: [...this.runs.values()],
      approvals: [...this.approvals.values()],
      connected: this.connected,
      error: this.error,
    });
  }
}
