/** Socket tickets: one use, 30 s, bound to their user and chat; a socket opened with one behaves as with a token. */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { SocketTickets } from "../../api/socket-tickets";
import { api, call, chatWithMembers, readySocket, tokenFor, unique } from "./helpers";

async function ticketFor(token: string, chatId: string): Promise<string> {
  const answer = await api<{ ticket: string }>(token, "POST", `/chats/${chatId}/socket-ticket`);
  expect(answer.status).toBe(200);
  return answer.body.ticket;
}

function openWithTicket(chatId: string, ticket: string, socket: "ws" | "progress" = "ws"): Promise<Response> {
  const catchUp = socket === "ws" ? "&after=0" : "";
  return call(`/api/chats/${chatId}/${socket}?ticket=${encodeURIComponent(ticket)}${catchUp}`, {
    headers: { Upgrade: "websocket" },
  });
}

describe("socket tickets", () => {
  it("a chat member gets a ticket; the socket it opens catches up and says ready, as the member", async () => {
    const { chatId, members } = await chatWithMembers(1);
    const member = members[0];
    await api(member.token, "POST", `/chats/${chatId}/messages`, { text: "before", clientMessageId: "c1" });
    const ticket = await ticketFor(member.token, chatId);
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const socket = await readySocket(await openWithTicket(chatId, ticket));
    expect(socket.of("message").map((m) => m.text)).toEqual(["before"]);
    expect(socket.of("ready")[0].you.id).toBe(member.userId);
    socket.send({ type: "message", text: "over the ticketed socket", clientMessageId: "c2" });
    await socket.until((s) => s.of("message").length === 2, "own message");
    expect(socket.of("message")[1].author).toMatchObject({ type: "user", id: member.userId });
    socket.close();
  });

  it("opens the progress socket too", async () => {
    const { chatId, admin } = await chatWithMembers(0);
    const response = await openWithTicket(chatId, await ticketFor(admin.token, chatId), "progress");
    expect(response.status).toBe(101);
    response.webSocket?.accept();
    response.webSocket?.close(1000, "test done");
  });

  it("only the chat's members get one: an org member outside the chat 403, anyone else 404, no token 401", async () => {
    const { orgId, chatId, admin } = await chatWithMembers(0);
    const colleague = unique("colleague");
    await api(admin.token, "POST", `/orgs/${orgId}/members`, { userId: colleague, role: "member" });
    const path = `/chats/${chatId}/socket-ticket`;
    expect((await api(await tokenFor(colleague), "POST", path)).status).toBe(403);
    expect((await api(await tokenFor(unique("outsider")), "POST", path)).status).toBe(404);
    expect((await api(admin.token, "POST", "/chats/not-a-chat/socket-ticket")).status).toBe(404);
    expect((await api(null, "POST", path)).status).toBe(401);
  });

  it("a ticket opens one socket: the second use is a 401, on either socket", async () => {
    const { chatId, admin } = await chatWithMembers(0);
    const ticket = await ticketFor(admin.token, chatId);
    const first = await readySocket(await openWithTicket(chatId, ticket));
    expect((await openWithTicket(chatId, ticket)).status).toBe(401);
    expect((await openWithTicket(chatId, ticket, "progress")).status).toBe(401);
    first.close();
  });

  it("many tries at once with one ticket: exactly one opens", async () => {
    const { chatId, admin } = await chatWithMembers(0);
    const ticket = await ticketFor(admin.token, chatId);
    const answers = await Promise.all(Array.from({ length: 5 }, () => openWithTicket(chatId, ticket)));
    expect(answers.map((a) => a.status).sort()).toEqual([101, 401, 401, 401, 401]);
    for (const answer of answers) {
      answer.webSocket?.accept();
      answer.webSocket?.close(1000, "test done");
    }
  });

  it("another chat's ticket, an unknown one, or an expired one is a 401", async () => {
    const one = await chatWithMembers(0);
    const other = await chatWithMembers(0);
    const ticket = await ticketFor(one.admin.token, one.chatId);
    expect((await openWithTicket(other.chatId, ticket)).status).toBe(401);
    // Refused elsewhere, it was not spent: it still opens its own chat's socket.
    const socket = await readySocket(await openWithTicket(one.chatId, ticket));
    socket.close();
    expect((await openWithTicket(one.chatId, "A".repeat(43))).status).toBe(401);
    expect((await openWithTicket(one.chatId, "not a ticket")).status).toBe(401);

    const expiring = await ticketFor(one.admin.token, one.chatId);
    const store = (env.SocketTickets as DurableObjectNamespace<SocketTickets>).getByName(one.chatId);
    await runInDurableObject(store, (_tickets, state) => {
      state.storage.sql.exec("UPDATE tickets SET expires_at = ?", Date.now() - 1);
    });
    expect((await openWithTicket(one.chatId, expiring)).status).toBe(401);
  });

  it("a ticket issued with a short life is refused once it passed", async () => {
    const { chatId, admin } = await chatWithMembers(0);
    const store = (env.SocketTickets as DurableObjectNamespace<SocketTickets>).getByName(chatId);
    const { ticket } = await store.issue({ userId: admin.userId, name: null }, 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await openWithTicket(chatId, ticket)).status).toBe(401);
  });

  it("tickets nobody redeems are gone after their expiry, by the object's alarm", async () => {
    const { chatId, admin } = await chatWithMembers(0);
    const store = (env.SocketTickets as DurableObjectNamespace<SocketTickets>).getByName(chatId);
    await store.issue({ userId: admin.userId, name: null }, 30_000);
    await store.issue({ userId: admin.userId, name: null }, 60_000);
    const rows = () =>
      runInDurableObject(
        store,
        (_tickets, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM tickets").one().n,
      );
    expect(await rows()).toBe(2);
    // The alarm waits for the newest ticket; run it as if that time had come.
    expect(await runInDurableObject(store, (_t, state) => state.storage.getAlarm())).toBeGreaterThan(Date.now());
    await runInDurableObject(store, (_t, state) => {
      state.storage.sql.exec("UPDATE tickets SET expires_at = ?", Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(store)).toBe(true);
    expect(await rows()).toBe(0);
    expect(await runInDurableObject(store, (_t, state) => state.storage.getAlarm())).toBeNull();
  });

  it("a ticket is for its user: removed from the chat since, the socket is refused as for a token (403)", async () => {
    const { chatId, admin, members } = await chatWithMembers(1);
    const ticket = await ticketFor(members[0].token, chatId);
    await api(admin.token, "DELETE", `/chats/${chatId}/members`, { userId: members[0].userId });
    expect((await openWithTicket(chatId, ticket)).status).toBe(403);
  });

  it("the session token keeps working in the query", async () => {
    const { chatId, admin } = await chatWithMembers(0);
    const response = await call(`/api/chats/${chatId}/ws?token=${encodeURIComponent(admin.token)}&after=0`, {
      headers: { Upgrade: "websocket" },
    });
    const socket = await readySocket(response);
    socket.close();
  });
});
