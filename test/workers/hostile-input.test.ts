/**
 * Every endpoint in the OpenAPI document, swept with the bodies and parameters a hostile client sends: each gets a
 * 4xx in the contract's error shape (call() checks the shape against the route's declared answers), never a 5xx,
 * and nothing stored changes.
 */
import { describe, expect, it } from "vitest";
import { api, call, chatWithMembers } from "./helpers";

type Operation = { parameters?: { name: string; in: string }[]; requestBody?: unknown };
type Document = { paths: Record<string, Record<string, Operation>> };

const encoder = new TextEncoder();

/** Bodies no endpoint accepts. Each is [what, bytes, content type]. */
function hostileBodies(): [string, BodyInit, string][] {
  const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`;
  const deepObject = `${'{"a":'.repeat(40)}1${"}".repeat(40)}`;
  return [
    ["malformed JSON", '{"name": ', "application/json"],
    ["JSON null", "null", "application/json"],
    ["an array", "[1,2,3]", "application/json"],
    ["a string", '"hello"', "application/json"],
    [
      "wrong types",
      '{"name":5,"title":[],"userId":{},"text":true,"clientMessageId":1,"decision":7}',
      "application/json",
    ],
    ["deeply nested arrays", deep, "application/json"],
    ["deeply nested objects", deepObject, "application/json"],
    ["a lone surrogate in every field", loneSurrogateBody(), "application/json"],
    ["NUL in every field", nulBody(), "application/json"],
    ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), "application/json"],
    ["a BOM before JSON", "\uFEFF{}", "application/json"],
    ["over 64 KiB", JSON.stringify({ text: "x".repeat(70 * 1024) }), "application/json"],
    ["not JSON at all", "name=x", "application/x-www-form-urlencoded"],
    ["text/plain JSON", '{"name":"x"}', "text/plain"],
  ];
}

/** Bodies the strict reader refuses whatever the endpoint. */
const refusedOnRead = new Set([
  "malformed JSON",
  "deeply nested arrays",
  "deeply nested objects",
  "a lone surrogate in every field",
  "NUL in every field",
  "invalid UTF-8",
  "a BOM before JSON",
  "over 64 KiB",
]);

const FIELDS = [
  "name",
  "title",
  "userId",
  "text",
  "clientMessageId",
  "decision",
  "handle",
  "systemPrompt",
  "agentId",
  "role",
  "model",
];

function loneSurrogateBody(): string {
  return `{${FIELDS.map((f) => `"${f}":"x\\ud800y"`).join(",")}}`;
}

function nulBody(): string {
  return `{${FIELDS.map((f) => `"${f}":"x\\u0000y"`).join(",")}}`;
}

const BAD_NUMBERS = ["1e3", "0x10", " 5", "", "-1", "1.5", "+1", "01", "99999999999999999", "NaN"];

async function openApiDocument(): Promise<Document> {
  return (await (await call("/api/openapi.json")).json()) as Document;
}

describe("hostile input", () => {
  it("every endpoint answers hostile bodies with a 4xx, never a 5xx, and nothing stored changes", async () => {
    const { orgId, chatId, admin, members } = await chatWithMembers(1);
    await api(admin.token, "POST", `/chats/${chatId}/messages`, { text: "kept", clientMessageId: "kept-1" });
    const agent = await api<{ id: string }>(admin.token, "POST", `/orgs/${orgId}/agents`, {
      name: "Keeper",
      handle: "keeper",
    });
    const before = await storedState(admin.token, orgId, chatId);
    const ids: Record<string, string> = {
      orgId,
      chatId,
      agentId: agent.body.id,
      approvalId: crypto.randomUUID(),
      artifactId: crypto.randomUUID(),
      path: "anything",
    };
    const document = await openApiDocument();
    const failures: string[] = [];
    for (const [template, operations] of Object.entries(document.paths)) {
      const path = template.replace(/\{(\w+)\}/g, (_, name: string) => ids[name]);
      for (const [method, operation] of Object.entries(operations)) {
        if (!operation.requestBody && method === "get") continue;
        // A body where none is declared is still read strictly; one that reads cleanly is ignored, as it should be.
        const bodies = operation.requestBody
          ? hostileBodies()
          : hostileBodies().filter(([what]) => refusedOnRead.has(what));
        for (const [what, body, contentType] of bodies) {
          const response = await call(path, {
            method: method.toUpperCase(),
            headers: { Authorization: `Bearer ${admin.token}`, "Content-Type": contentType },
            body: typeof body === "string" ? encoder.encode(body) : body,
          });
          const echo = template.startsWith("/api/dev/echo/");
          const ok = echo ? response.status < 500 : response.status >= 400 && response.status < 500;
          if (!ok) failures.push(`${method.toUpperCase()} ${template} with ${what}: ${response.status}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await storedState(admin.token, orgId, chatId)).toEqual(before);
    expect(members).toHaveLength(1);
  });

  it("every number in a path or query is a plain decimal integer; anything else is a 400", async () => {
    const { chatId, admin } = await chatWithMembers(0);
    for (const name of ["after", "before", "limit"]) {
      for (const value of BAD_NUMBERS) {
        const response = await call(`/api/chats/${chatId}/messages?${name}=${encodeURIComponent(value)}`, {
          headers: { Authorization: `Bearer ${admin.token}` },
        });
        expect(response.status, `${name}=${JSON.stringify(value)}`).toBe(400);
      }
    }
    for (const name of ["after", "tail"]) {
      for (const value of BAD_NUMBERS) {
        const response = await call(
          `/api/chats/${chatId}/ws?token=${encodeURIComponent(admin.token)}&${name}=${encodeURIComponent(value)}`,
          { headers: { Upgrade: "websocket" } },
        );
        expect(response.status, `socket ${name}=${JSON.stringify(value)}`).toBe(400);
      }
    }
  });

  it("a NUL or a lone surrogate in a chat title, org name or display name is a 400, not a 500", async () => {
    const { orgId, admin } = await chatWithMembers(0);
    for (const bad of ["a\u0000b", "a\ud800b", "\udc00"]) {
      expect((await api(admin.token, "POST", `/orgs/${orgId}/chats`, { title: bad })).status).toBe(400);
      expect((await api(admin.token, "POST", "/orgs", { name: bad })).status).toBe(400);
      expect((await api(null, "POST", "/dev/token", { userId: "someone", name: bad })).status).toBe(400);
    }
  });
});

/** What a hostile request must not change: the org's chats, members and agents, and the chat's log. */
async function storedState(token: string, orgId: string, chatId: string) {
  return {
    orgs: (await api(token, "GET", "/orgs")).body,
    chats: (await api(token, "GET", `/orgs/${orgId}/chats`)).body,
    members: (await api(token, "GET", `/orgs/${orgId}/members`)).body,
    agents: (await api(token, "GET", `/orgs/${orgId}/agents`)).body,
    chatMembers: (await api(token, "GET", `/chats/${chatId}/members`)).body,
    chatAgents: (await api(token, "GET", `/chats/${chatId}/agents`)).body,
    messages: (await api(token, "GET", `/chats/${chatId}/messages`)).body,
  };
}
