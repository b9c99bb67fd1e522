import { describe, expect, it } from "vitest";
import { checkAnswer } from "./contract";
import { api, call, chatWithMembers, client, expectStatus, tokenFor, unique } from "./helpers";

describe("App API", () => {
  it("answers health without a token", async () => {
    const response = await call("/api/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ok: true,
      database: { ok: true, ms: expect.any(Number) },
      room: { ok: true, ms: expect.any(Number) },
    });
  });

  it("refuses a request without a token, or with a forged one, with 401 and the error shape", async () => {
    const missing = await api(null, "GET", "/orgs");
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ error: { code: "unauthenticated", message: expect.any(String) } });

    const token = await tokenFor(unique("user"));
    const [header, payload] = token.split(".");
    const forgedPayload = btoa(JSON.stringify({ ...JSON.parse(atob(payload)), sub: "someone-else" }))
      .replaceAll("=", "")
      .replaceAll("+", "-")
      .replaceAll("/", "_");
    const forged = await api(`${header}.${forgedPayload}.${token.split(".")[2]}`, "GET", "/orgs");
    expect(forged.status).toBe(401);
    expect(forged.body).toMatchObject({ error: { code: "unauthenticated" } });
  });

  it("refuses development tokens outside a loopback host, and mints them on one", async () => {
    const userId = unique("mallory");
    const init = { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ userId }) };
    // The same request on a loopback host is answered: the refusals below are for the host alone.
    const loopback = await client().api.dev.token.$post({ json: { userId } });
    expect(loopback.status).toBe(200);
    const { token } = await loopback.json();
    expect((await api(token, "GET", "/orgs")).status).toBe(200);
    for (const host of ["127.0.0.1", "[::1]"]) {
      expect((await fetchAt(`http://${host}/api/dev/token`, init)).status, host).toBe(200);
    }
    for (const host of ["parlor.example.com", "localhost.example.com", "127.0.0.1.nip.io", "10.0.0.1"]) {
      const refused = await fetchAt(`https://${host}/api/dev/token`, init);
      expect(refused.status, host).toBe(404);
      expect(await refused.json(), host).toEqual({ error: { code: "not_found", message: expect.any(String) } });
    }
  });

  it("makes the creator of an org its admin, and lists orgs, members and chats as plural nouns", async () => {
    const userId = unique("founder");
    const token = await tokenFor(userId, "Founder");
    const created = await api<{ id: string }>(token, "POST", "/orgs", { name: "Acme" });
    expect(created.status).toBe(201);
    const orgs = await api<{ orgs: { id: string; role: string }[] }>(token, "GET", "/orgs");
    expect(orgs.body.orgs).toContainEqual(expect.objectContaining({ id: created.body.id, role: "admin" }));
    const members = await api(token, "GET", `/orgs/${created.body.id}/members`);
    expect(members.body).toEqual({ members: [{ userId, name: "Founder", role: "admin" }] });
    const chats = await api(token, "GET", `/orgs/${created.body.id}/chats`);
    expect(chats.body).toEqual({ chats: [] });
  });

  it("lets only admins manage org members, and hides an org from outsiders", async () => {
    const { orgId, members } = await chatWithMembers(1);
    const [member] = members;
    const byMember = await api(member.token, "POST", `/orgs/${orgId}/members`, { userId: "x", role: "member" });
    expect(byMember.status).toBe(403);
    const outsider = await tokenFor(unique("outsider"));
    expect((await api(outsider, "GET", `/orgs/${orgId}/members`)).status).toBe(404);
    expect((await api(outsider, "POST", `/orgs/${orgId}/chats`, { title: "x" })).status).toBe(404);
  });

  it("keeps at least one admin in an org", async () => {
    const { orgId, admin } = await chatWithMembers(0);
    const leave = await api(admin.token, "DELETE", `/orgs/${orgId}/members`, { userId: admin.userId });
    expect(leave.status).toBe(409);
    const demote = await api(admin.token, "POST", `/orgs/${orgId}/members`, { userId: admin.userId, role: "member" });
    expect(demote.status).toBe(409);
    expect((await api(admin.token, "GET", `/orgs/${orgId}/members`)).body).toMatchObject({
      members: [{ userId: admin.userId, role: "admin" }],
    });
  });

  it("adds only org members to a chat, and refuses chat content to org members outside it", async () => {
    const { orgId, chatId, admin } = await chatWithMembers(0);
    const stranger = unique("stranger");
    const notInOrg = await api(admin.token, "POST", `/chats/${chatId}/members`, { userId: stranger });
    expect(notInOrg.status).toBe(400);

    const colleague = unique("colleague");
    const colleagueToken = await tokenFor(colleague);
    await api(admin.token, "POST", `/orgs/${orgId}/members`, { userId: colleague, role: "member" });
    expect((await api(colleagueToken, "GET", `/chats/${chatId}/messages`)).status).toBe(403);
    expect(
      (await api(colleagueToken, "POST", `/chats/${chatId}/messages`, { text: "hi", clientMessageId: "c1" })).status,
    ).toBe(403);
    const outsider = await tokenFor(unique("outsider"));
    expect((await api(outsider, "GET", `/chats/${chatId}/messages`)).status).toBe(404);
    expect((await api(outsider, "GET", "/chats/not-a-uuid/messages")).status).toBe(404);
  });

  it("lists a chat's members in the order they joined, to the chat's members only", async () => {
    const { orgId, chatId, admin, members } = await chatWithMembers(2);
    const list = (token: string) => client(token).api.chats[":chatId"].members.$get({ param: { chatId } });
    const listed = await expectStatus(await list(members[0].token), 200);
    expect(await listed.json()).toEqual({
      members: [
        { userId: admin.userId, name: `Admin ${admin.userId}` },
        { userId: members[0].userId, name: "Member 0" },
        { userId: members[1].userId, name: "Member 1" },
      ],
    });

    const colleague = unique("colleague");
    await api(admin.token, "POST", `/orgs/${orgId}/members`, { userId: colleague, role: "member" });
    expect((await list(await tokenFor(colleague))).status).toBe(403);
    expect((await list(await tokenFor(unique("outsider")))).status).toBe(404);
    expect((await list((await chatWithMembers(0)).admin.token)).status).toBe(404);

    // Someone who leaves is no longer listed, and may no longer list.
    expect(
      (await api(members[1].token, "DELETE", `/chats/${chatId}/members`, { userId: members[1].userId })).status,
    ).toBe(200);
    const after = await expectStatus(await list(admin.token), 200);
    expect((await after.json()).members.map((m) => m.userId)).toEqual([admin.userId, members[0].userId]);
    expect((await list(members[1].token)).status).toBe(403);
  });

  it("stores a REST message once per clientMessageId: 201 first, 200 with the stored one after", async () => {
    const { chatId, admin } = await chatWithMembers(0);
    const first = await api<{ message: { seq: number; id: string; text: string } }>(
      admin.token,
      "POST",
      `/chats/${chatId}/messages`,
      { text: "hello", clientMessageId: "same" },
    );
    expect(first.status).toBe(201);
    const retry = await api<{ message: { seq: number; id: string } }>(
      admin.token,
      "POST",
      `/chats/${chatId}/messages`,
      { text: "hello", clientMessageId: "same" },
    );
    expect(retry.status).toBe(200);
    expect(retry.body.message).toEqual(first.body.message);
    const list = await api<{ messages: unknown[] }>(admin.token, "GET", `/chats/${chatId}/messages`);
    expect(list.body.messages).toHaveLength(1);
  });

  it("pages history in seq order with after and limit", async () => {
    const { chatId, admin } = await chatWithMembers(0);
    for (let i = 1; i <= 7; i++) {
      await api(admin.token, "POST", `/chats/${chatId}/messages`, { text: `m${i}`, clientMessageId: `c${i}` });
    }
    const page = await api<{ messages: { seq: number; text: string }[] }>(
      admin.token,
      "GET",
      `/chats/${chatId}/messages?after=2&limit=3`,
    );
    expect(page.body.messages.map((m) => [m.seq, m.text])).toEqual([
      [3, "m3"],
      [4, "m4"],
      [5, "m5"],
    ]);
    expect((await api(admin.token, "GET", `/chats/${chatId}/messages?limit=0`)).status).toBe(400);
    expect((await api(admin.token, "GET", `/chats/${chatId}/messages?after=-1`)).status).toBe(400);
  });

  it("answers bad input with 400 and leaves the log unchanged", async () => {
    const { chatId, admin } = await chatWithMembers(0);
    await api(admin.token, "POST", `/chats/${chatId}/messages`, { text: "kept", clientMessageId: "k" });
    const bad: [string, unknown][] = [
      ["not JSON", "{oops"],
      ["missing text", { clientMessageId: "a" }],
      ["blank text", { text: "   ", clientMessageId: "b" }],
      ["oversized text", { text: "x".repeat(16 * 1024 + 1), clientMessageId: "c" }],
      ["lone surrogate", { text: "bad \ud800 text", clientMessageId: "d" }],
      ["missing clientMessageId", { text: "hi" }],
      ["clientMessageId with spaces", { text: "hi", clientMessageId: "has space" }],
    ];
    for (const [what, body] of bad) {
      const result = await api(admin.token, "POST", `/chats/${chatId}/messages`, body);
      expect(result.status, what).toBe(400);
      expect(result.body, what).toEqual({ error: { code: "bad_request", message: expect.any(String) } });
    }
    const invalidUtf8 = await call(`/api/chats/${chatId}/messages`, {
      method: "POST",
      headers: { Authorization: `Bearer ${admin.token}`, "Content-Type": "application/json" },
      body: new Uint8Array([
        ...new TextEncoder().encode('{"text":"a'),
        0xff,
        ...new TextEncoder().encode('","clientMessageId":"u"}'),
      ]),
    });
    expect(invalidUtf8.status).toBe(400);
    const list = await api<{ messages: { text: string }[] }>(admin.token, "GET", `/chats/${chatId}/messages`);
    expect(list.body.messages.map((m) => m.text)).toEqual(["kept"]);
  });

  it("answers unknown endpoints with 404 in the error shape, with or without a token", async () => {
    const token = await tokenFor(unique("user"));
    const result = await api(token, "GET", "/nope");
    expect(result.status).toBe(404);
    expect(result.body).toMatchObject({ error: { code: "not_found" } });
    expect((await api(null, "GET", "/nope")).status).toBe(404);
  });

  it("refuses a body over 64 KiB even when it is streamed without a Content-Length", async () => {
    const { chatId, admin } = await chatWithMembers(0);
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await call(`/api/chats/${chatId}/messages`, {
      method: "POST",
      headers: { Authorization: `Bearer ${admin.token}`, "Content-Type": "application/json" },
      body,
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({
      error: { code: "payload_too_large", message: expect.stringMatching(/larger/) },
    });
  });
});

/** A request to the Worker at another host than the tests' own; its answer is checked against the contract too. */
async function fetchAt(url: string, init: RequestInit): Promise<Response> {
  const { exports } = await import("cloudflare:workers");
  const response = await exports.default.fetch(new Request(url, init));
  checkAnswer(init.method ?? "GET", new URL(url).pathname, response.status, await response.clone().json());
  return response;
}
