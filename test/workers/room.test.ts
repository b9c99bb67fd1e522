import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { closeCodes } from "../../protocol/chat";
import type { ChatRoom } from "../../rooms/chat-room";
import { api, call, chatWithMembers, connect, openSocket, TestSocket, tokenFor, unique } from "./helpers";

function roomStub(chatId: string): DurableObjectStub<ChatRoom> {
  return (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
}

describe("chat room", () => {
  it("concurrent senders converge on one gap-free order on every socket", async () => {
    const { chatId, admin, members } = await chatWithMembers(2);
    const people = [admin, ...members];
    const sockets = await Promise.all(people.map((p) => connect(chatId, p.token)));
    const perSender = 15;
    sockets.forEach((socket, i) => {
      for (let n = 0; n < perSender; n++)
        socket.send({ type: "message", text: `${i}:${n}`, clientMessageId: `s${i}-${n}` });
    });
    // REST writers join in at the same time.
    await Promise.all(
      Array.from({ length: 5 }, (_, n) =>
        api(admin.token, "POST", `/chats/${chatId}/messages`, { text: `rest:${n}`, clientMessageId: `r${n}` }),
      ),
    );
    const total = people.length * perSender + 5;
    for (const socket of sockets) await socket.until((s) => s.of("message").length >= total, `${total} messages`);
    const orders = sockets.map((s) => s.of("message").map((m) => `${m.seq}|${m.text}`));
    expect(orders[0].map((entry) => Number(entry.split("|")[0]))).toEqual(
      Array.from({ length: total }, (_, i) => i + 1),
    );
    for (const order of orders) expect(order).toEqual(orders[0]);
    // Each sender's own messages keep the order they were sent in.
    for (let i = 0; i < people.length; i++) {
      const mine = orders[0].map((e) => e.split("|")[1]).filter((t) => t.startsWith(`${i}:`));
      expect(mine).toEqual(Array.from({ length: perSender }, (_, n) => `${i}:${n}`));
    }
    for (const socket of sockets) socket.close();
  });

  it("a retried clientMessageId is stored once, over the socket and over REST alike", async () => {
    const { chatId, admin, members } = await chatWithMembers(1);
    const sender = await connect(chatId, admin.token);
    const watcher = await connect(chatId, members[0].token);
    sender.send({ type: "message", text: "once", clientMessageId: "retry-me" });
    sender.send({ type: "message", text: "once", clientMessageId: "retry-me" });
    const rest = await api<{ message: { seq: number } }>(admin.token, "POST", `/chats/${chatId}/messages`, {
      text: "once",
      clientMessageId: "retry-me",
    });
    expect(rest.status).toBe(200);
    sender.send({ type: "message", text: "next", clientMessageId: "after" });
    await watcher.until((s) => s.of("message").some((m) => m.text === "next"), "the next message");
    await sender.until((s) => s.of("message").some((m) => m.text === "next"), "the next message");
    expect(watcher.of("message").map((m) => m.text)).toEqual(["once", "next"]);
    // The sender hears its retry answered with the stored message (same seq), nobody else does.
    expect(sender.of("message").map((m) => m.seq)).toEqual([1, 1, 2]);
    expect(rest.body.message.seq).toBe(1);
    // Another author may use the same clientMessageId: idempotency is per author.
    const other = await api(members[0].token, "POST", `/chats/${chatId}/messages`, {
      text: "mine",
      clientMessageId: "retry-me",
    });
    expect(other.status).toBe(201);
  });

  it("catch-up after a seq is exact: everything after it, then live, with no gap and no duplicate", async () => {
    const { chatId, admin, members } = await chatWithMembers(1);
    for (let n = 1; n <= 20; n++) {
      await api(admin.token, "POST", `/chats/${chatId}/messages`, { text: `m${n}`, clientMessageId: `c${n}` });
    }
    const sender = await connect(chatId, admin.token);
    // Messages keep arriving while the second socket connects and catches up.
    for (let n = 21; n <= 40; n++) sender.send({ type: "message", text: `m${n}`, clientMessageId: `c${n}` });
    const late = await connect(chatId, members[0].token, 12);
    await late.until((s) => s.of("message").some((m) => m.seq === 40), "seq 40");
    expect(late.seqs()).toEqual(Array.from({ length: 28 }, (_, i) => i + 13));
    const ready = late.of("ready")[0];
    // Everything up to `ready.lastSeq` came before `ready`; everything after it came after.
    const readyIndex = late.events.findIndex((e) => e.type === "ready");
    const beforeReady = late.events.slice(0, readyIndex).filter((e) => e.type === "message");
    expect(beforeReady.at(-1)?.type === "message" ? beforeReady.at(-1) : null).toMatchObject({ seq: ready.lastSeq });

    const atEnd = await connect(chatId, members[0].token, 40);
    expect(atEnd.seqs()).toEqual([]);
    expect(atEnd.of("ready")[0].lastSeq).toBe(40);
  });

  it("bad frames get an error event, the socket stays open, and nothing stored changes", async () => {
    const { chatId, admin } = await chatWithMembers(0);
    const socket = await connect(chatId, admin.token);
    socket.send({ type: "message", text: "before", clientMessageId: "ok1" });
    await socket.until((s) => s.of("message").length === 1, "the first message");
    const badFrames: unknown[] = [
      "not json",
      "[1,2",
      { type: "shout", text: "x" },
      { text: "no type", clientMessageId: "x1" },
      { type: "message", clientMessageId: "x2" },
      { type: "message", text: "", clientMessageId: "x3" },
      { type: "message", text: "x".repeat(16 * 1024 + 1), clientMessageId: "x4" },
      { type: "message", text: "half a pair \ud83d", clientMessageId: "x5" },
      { type: "message", text: "no id" },
      JSON.stringify({ type: "message", text: "y".repeat(70_000), clientMessageId: "x6" }),
      // 30,000 characters, but 90,000 bytes of UTF-8: over the frame limit.
      JSON.stringify({ type: "message", text: "€".repeat(30_000), clientMessageId: "x7" }),
      "null",
      { type: "message", text: "a NUL \u0000 inside", clientMessageId: "x8" },
      // What the runtime makes of a text frame whose bytes were not UTF-8.
      { type: "message", text: "bad bytes \uFFFD here", clientMessageId: "x9" },
    ];
    for (const frame of badFrames) socket.send(frame);
    socket.ws.send(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
    await socket.until((s) => s.of("error").length === badFrames.length + 1, "an error per bad frame");
    const codes = socket.of("error").map((e) => e.code);
    expect(codes.filter((code) => code === "payload_too_large")).toHaveLength(2);
    expect(codes.filter((code) => code === "bad_request")).toHaveLength(badFrames.length - 1);
    expect(socket.of("error").find((e) => e.clientMessageId === "x8")?.message).toMatch(/NUL/);
    expect(socket.of("error").find((e) => e.clientMessageId === "x5")?.message).toMatch(/well-formed/);
    // Still open, and still serving.
    socket.send({ type: "message", text: "after", clientMessageId: "ok2" });
    await socket.until((s) => s.of("message").length === 2, "the second message");
    expect(socket.closed).toBeNull();
    const stored = await api<{ messages: { seq: number; text: string }[] }>(
      admin.token,
      "GET",
      `/chats/${chatId}/messages`,
    );
    expect(stored.body.messages.map((m) => [m.seq, m.text])).toEqual([
      [1, "before"],
      [2, "after"],
    ]);
  });

  it("a non-member's socket is refused before it reaches the room", async () => {
    const { chatId, orgId, admin } = await chatWithMembers(0);
    const colleague = unique("colleague");
    await api(admin.token, "POST", `/orgs/${orgId}/members`, { userId: colleague, role: "member" });
    const colleagueSocket = await openSocket(chatId, await tokenFor(colleague));
    expect(colleagueSocket.status).toBe(403);
    expect(colleagueSocket.webSocket).toBeNull();
    const outsiderSocket = await openSocket(chatId, await tokenFor(unique("outsider")));
    expect(outsiderSocket.status).toBe(404);
    const noToken = await openSocket(chatId, "");
    expect(noToken.status).toBe(401);
    const badToken = await openSocket(chatId, "not.a.token");
    expect(badToken.status).toBe(401);
  });

  it("a member of another org cannot open this chat's socket: to them it does not exist", async () => {
    const ours = await chatWithMembers(0);
    const theirs = await chatWithMembers(0);
    const watcher = await connect(theirs.chatId, theirs.admin.token);
    const refused = await openSocket(theirs.chatId, ours.admin.token);
    expect(refused.status).toBe(404);
    expect(refused.webSocket).toBeNull();
    expect(await refused.json()).toMatchObject({ error: { code: "not_found" } });
    // The room never saw the attempt: nobody joined.
    watcher.send({ type: "message", text: "marker", clientMessageId: "m" });
    await watcher.until((s) => s.of("message").length === 1, "the marker");
    expect(watcher.of("presence").flatMap((p) => p.users.map((u) => u.id))).not.toContain(ours.admin.userId);
  });

  it("a room refuses a socket that did not come through the orchestrator", async () => {
    const { chatId, admin } = await chatWithMembers(0);
    const watcher = await connect(chatId, admin.token);
    for (const url of ["https://room.internal/ws", `https://room.internal/ws?after=0&userId=${admin.userId}`]) {
      // Straight to the Durable Object, without the identity the orchestrator forwards.
      const response = await roomStub(chatId).fetch(new Request(url, { headers: { Upgrade: "websocket" } }));
      const ws = response.webSocket;
      if (!ws) throw new Error(`no socket: ${response.status}`);
      ws.accept();
      const socket = new TestSocket(ws);
      await socket.until((s) => s.closed !== null, "the close");
      expect(socket.closed?.code, url).toBe(1008);
      expect(socket.events, url).toEqual([]);
    }
    watcher.send({ type: "message", text: "marker", clientMessageId: "m" });
    await watcher.until((s) => s.of("message").length === 1, "the marker");
    expect(watcher.of("presence").every((p) => p.users.length === 1)).toBe(true);
    const stored = await api<{ messages: unknown[] }>(admin.token, "GET", `/chats/${chatId}/messages`);
    expect(stored.body.messages).toHaveLength(1);
  });

  it("identity headers a client sends never reach the room: the socket speaks as the token's user", async () => {
    const { chatId, admin, members } = await chatWithMembers(1);
    const [member] = members;
    const response = await call(`/api/chats/${chatId}/ws?token=${encodeURIComponent(member.token)}`, {
      headers: {
        Upgrade: "websocket",
        "x-parlor-identity": JSON.stringify({ userId: admin.userId, name: "Admin", role: "admin" }),
        "x-parlor-chat": JSON.stringify({ chatId, orgId: "another-org" }),
      },
    });
    const ws = response.webSocket;
    if (response.status !== 101 || !ws) throw new Error(`socket refused: ${response.status}`);
    ws.accept();
    const socket = new TestSocket(ws);
    await socket.until((s) => s.of("ready").length === 1, "ready");
    expect(socket.of("ready")[0].you).toEqual({ id: member.userId, name: "Member 0" });
    socket.send({ type: "message", text: "who am I?", clientMessageId: "w" });
    await socket.until((s) => s.of("message").length === 1, "the message");
    expect(socket.of("message")[0].author).toEqual({ type: "user", id: member.userId, name: "Member 0" });
  });

  it("a removed member's socket closes, and a revoked member may not re-subscribe or post", async () => {
    const { chatId, admin, members } = await chatWithMembers(1);
    const [member] = members;
    const watcher = await connect(chatId, admin.token);
    const socket = await connect(chatId, member.token);
    await watcher.until((s) => s.of("presence").some((p) => p.users.length === 2), "both present");
    const removed = await api(admin.token, "DELETE", `/chats/${chatId}/members`, { userId: member.userId });
    expect(removed.status).toBe(200);
    await socket.until((s) => s.closed !== null, "the close");
    expect(socket.closed?.code).toBe(closeCodes.removedFromChat);
    await watcher.until((s) => s.of("presence").at(-1)?.users.length === 1, "presence without the member");
    expect((await openSocket(chatId, member.token)).status).toBe(403);
    // Even a request that passed the membership check before the removal is refused by the room itself.
    const lateRest = await roomStub(chatId).postMessage(
      { chatId, orgId: (await runInDurableObject(roomStub(chatId), (_room, state) => chatOrg(state))) ?? "" },
      { userId: member.userId, name: "late" },
      { text: "sneaky", clientMessageId: "late" },
    );
    expect(lateRest).toEqual({ revoked: true });
    // Re-added, the member is welcome again.
    expect((await api(admin.token, "POST", `/chats/${chatId}/members`, { userId: member.userId })).status).toBe(201);
    const back = await connect(chatId, member.token);
    expect(back.closed).toBeNull();
  });

  it("removing someone from the org closes their sockets in every chat of that org", async () => {
    const { chatId, orgId, admin, members } = await chatWithMembers(1);
    const socket = await connect(chatId, members[0].token);
    const result = await api(admin.token, "DELETE", `/orgs/${orgId}/members`, { userId: members[0].userId });
    expect(result.status).toBe(200);
    await socket.until((s) => s.closed !== null, "the close");
    expect(socket.closed?.code).toBe(closeCodes.removedFromChat);
    expect((await api(members[0].token, "GET", `/chats/${chatId}/messages`)).status).toBe(404);
  });

  it("sockets survive hibernation, and seq continues where it was", async () => {
    const { chatId, admin, members } = await chatWithMembers(1);
    const a = await connect(chatId, admin.token);
    const b = await connect(chatId, members[0].token);
    a.send({ type: "message", text: "before sleep", clientMessageId: "b1" });
    await b.until((s) => s.of("message").length === 1, "the first message");
    await evictDurableObject(roomStub(chatId));
    b.send({ type: "message", text: "after sleep", clientMessageId: "b2" });
    await a.until((s) => s.of("message").length === 2, "the message sent after hibernation");
    expect(a.of("message").map((m) => [m.seq, m.text, m.author.id])).toEqual([
      [1, "before sleep", admin.userId],
      [2, "after sleep", members[0].userId],
    ]);
    expect(a.closed).toBeNull();
    expect(b.closed).toBeNull();
  });

  it("a removed member's frames count for nothing, even from a client that ignores the close", async () => {
    const { chatId, admin, members } = await chatWithMembers(1);
    const [member] = members;
    const watcher = await connect(chatId, admin.token);
    const socket = await connect(chatId, member.token);
    // The member's own socket, as the room holds it, and frames handed to the room as the runtime hands them over:
    // one while the member is in the chat, then more after the removal closed the socket, as from a client that
    // ignores the close and keeps sending.
    const delivered = await runInDurableObject(roomStub(chatId), async (room: ChatRoom) => {
      const [own] = [...room.getConnections<{ userId: string }>()].filter((c) => c.state?.userId === member.userId);
      if (!own) throw new Error("the member's socket is not in the room");
      await room.webSocketMessage(own, JSON.stringify({ type: "message", text: "before", clientMessageId: "m-0" }));
      expect(room.removeMember(member.userId)).toBe(1);
      for (const [n, frame] of [
        { type: "message", text: "still here?", clientMessageId: "ghost-1" },
        { type: "typing" },
      ].entries()) {
        await room.webSocketMessage(own, JSON.stringify(frame));
        await room.webSocketMessage(own, new TextEncoder().encode(JSON.stringify({ ...frame, n })));
      }
      return own.readyState;
    });
    expect(delivered).not.toBe(WebSocket.OPEN);
    await socket.until((s) => s.closed !== null, "the close");
    expect(socket.closed?.code).toBe(closeCodes.removedFromChat);
    watcher.send({ type: "message", text: "after", clientMessageId: "a1" });
    await watcher.until((s) => s.of("message").length === 2, "the admin's message");
    expect(watcher.of("typing")).toEqual([]);
    expect(watcher.of("message").map((m) => m.text)).toEqual(["before", "after"]);
    const stored = await api<{ messages: { text: string }[] }>(admin.token, "GET", `/chats/${chatId}/messages`);
    expect(stored.body.messages.map((m) => m.text)).toEqual(["before", "after"]);
  });

  it("typing is announced at most once per interval per socket", async () => {
    const { chatId, admin, members } = await chatWithMembers(1);
    const a = await connect(chatId, admin.token);
    const b = await connect(chatId, members[0].token);
    for (let i = 0; i < 10; i++) b.send({ type: "typing" });
    b.send({ type: "message", text: "marker", clientMessageId: "m" });
    await a.until((s) => s.of("message").length === 1, "the marker");
    expect(a.of("typing")).toHaveLength(1);
  });

  it("shows who is present and who is typing, and stores neither", async () => {
    const { chatId, admin, members } = await chatWithMembers(1);
    const a = await connect(chatId, admin.token);
    const b = await connect(chatId, members[0].token);
    await a.until((s) => s.of("presence").at(-1)?.users.length === 2, "two present");
    expect(
      a
        .of("presence")
        .at(-1)
        ?.users.map((u) => u.id)
        .sort(),
    ).toEqual([admin.userId, members[0].userId].sort());
    b.send({ type: "typing" });
    await a.until((s) => s.of("typing").length === 1, "typing");
    expect(a.of("typing")[0].user).toEqual({ id: members[0].userId, name: "Member 0" });
    expect(b.of("typing")).toEqual([]);
    b.close();
    await a.until((s) => s.of("presence").at(-1)?.users.length === 1, "one present");
    const stored = await api<{ messages: unknown[] }>(admin.token, "GET", `/chats/${chatId}/messages`);
    expect(stored.body.messages).toEqual([]);
  });
});

function chatOrg(state: DurableObjectState): string | null {
  const row = state.storage.sql.exec<{ value: string }>("SELECT value FROM room_meta WHERE key = 'chat'").toArray()[0];
  return row ? (JSON.parse(row.value) as { orgId: string }).orgId : null;
}
