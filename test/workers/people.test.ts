/**
 * People and agent templates: the built-in assistant offered by the server (its echo allow list at both loopback
 * forms of the request's origin, in development only), members found by name within the org only, and invitations
 * (a development user by name; an email invitation through Clerk, against the local stand-in).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../api/app";
import type { AgentTemplate } from "../../protocol/agent-templates";
import { STAND_IN_SECRET_KEY } from "../clerk-constants";
import { type ApiResult, api, chatWithMembers, tokenFor, unique } from "./helpers";

type Templates = { templates: AgentTemplate[] };
const standInUrl = (env as unknown as { TEST_CLERK_API_URL: string }).TEST_CLERK_API_URL;

/** The Worker called directly, with another environment or origin than the tests' default. */
async function appFetch<T>(
  environment: Env,
  url: string,
  token: string,
  method = "GET",
  body?: unknown,
): Promise<ApiResult<T>> {
  const ctx = createExecutionContext();
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await app.fetch(
    new Request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
    environment,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { status: response.status, body: (await response.json()) as T };
}

describe("agent templates", () => {
  it("offers the assistant, allowed to reach the echo at both loopback forms of this origin", async () => {
    const fixture = await chatWithMembers(1);
    const url = `http://127.0.0.1:8787/api/orgs/${fixture.orgId}/agent-templates`;
    const listed = await appFetch<Templates>(env, url, fixture.members[0].token);
    expect(listed.status).toBe(200);
    const assistant = listed.body.templates.find((t) => t.id === "assistant");
    expect(assistant?.agent.handle).toBe("assistant");
    expect(assistant?.agent.tools.history).toEqual({});
    expect(assistant?.agent.tools.http?.allow.map((a) => a.baseUrl)).toEqual([
      "http://localhost:8787/api/dev/echo",
      "http://127.0.0.1:8787/api/dev/echo",
    ]);
  });

  it("creates an agent from the template as it is, and adds it to a chat", async () => {
    const fixture = await chatWithMembers(0);
    const token = fixture.admin.token;
    const { body } = await api<Templates>(token, "GET", `/orgs/${fixture.orgId}/agent-templates`);
    const template = body.templates[0];
    const created = await api<{ id: string }>(token, "POST", `/orgs/${fixture.orgId}/agents`, template.agent);
    expect(created.status).toBe(201);
    const added = await api(token, "POST", `/chats/${fixture.chatId}/agents`, { agentId: created.body.id });
    expect(added.status).toBe(201);
    const listed = await api<{ agents: { id: string; tools: unknown }[] }>(
      token,
      "GET",
      `/orgs/${fixture.orgId}/agents`,
    );
    expect(listed.body.agents.find((a) => a.id === created.body.id)?.tools).toEqual(template.agent.tools);
  });

  it("outside development the assistant has no HTTP tool", async () => {
    const fixture = await chatWithMembers(0);
    const production = { ...env, PARLOR_ENV: "production" } as Env;
    const url = `http://localhost/api/orgs/${fixture.orgId}/agent-templates`;
    const listed = await appFetch<Templates>(production, url, fixture.admin.token);
    expect(listed.status).toBe(200);
    expect(listed.body.templates[0].agent.tools).toEqual({ history: {} });
  });

  it("is for the org's members only", async () => {
    const fixture = await chatWithMembers(0);
    const outsider = await tokenFor(unique("outsider"));
    const refused = await api(outsider, "GET", `/orgs/${fixture.orgId}/agent-templates`);
    expect(refused.status).toBe(404);
  });
});

describe("finding members by name", () => {
  it("searches the org's members by name, in any case, and nobody outside it", async () => {
    const fixture = await chatWithMembers(0);
    const token = fixture.admin.token;
    const tag = unique("x").replace(/-/g, "");
    const carla = await api<{ invitation: { userId: string } }>(token, "POST", `/orgs/${fixture.orgId}/invitations`, {
      name: `Carla ${tag}`,
    });
    expect(carla.status).toBe(201);
    // Someone of the same name outside the org is never found.
    await tokenFor(unique("carla"), `Carla ${tag} outside`);
    const found = await api<{ members: { userId: string; name: string }[] }>(
      token,
      "GET",
      `/orgs/${fixture.orgId}/members?q=${encodeURIComponent(`cARLA ${tag}`)}`,
    );
    expect(found.body.members).toEqual([
      { userId: carla.body.invitation.userId, name: `Carla ${tag}`, role: "member" },
    ]);
    const wildcard = await api<{ members: unknown[] }>(token, "GET", `/orgs/${fixture.orgId}/members?q=%25`);
    expect(wildcard.body.members).toEqual([]);
    const all = await api<{ members: unknown[] }>(token, "GET", `/orgs/${fixture.orgId}/members?q=`);
    expect(all.body.members).toHaveLength(2);
  });
});

describe("invitations", () => {
  it("in development adds a development user by name at once, audited; twice is a conflict", async () => {
    const fixture = await chatWithMembers(0);
    const token = fixture.admin.token;
    const name = `Dana ${unique("d").slice(-4)}`;
    const invited = await api<{ invitation: Record<string, unknown> }>(
      token,
      "POST",
      `/orgs/${fixture.orgId}/invitations`,
      { name },
    );
    expect(invited.status).toBe(201);
    const userId = name.toLowerCase().replace(/ /g, "-");
    expect(invited.body.invitation).toEqual({
      id: null,
      email: null,
      userId,
      name,
      role: "member",
      status: "added",
    });
    // They sign in with that id and are a member.
    const theirs = await api(await tokenFor(userId), "GET", `/orgs/${fixture.orgId}/members`);
    expect(theirs.status).toBe(200);
    const again = await api(token, "POST", `/orgs/${fixture.orgId}/invitations`, { name });
    expect(again.status).toBe(409);
    const audit = await api<{ entries: { target: string }[] }>(
      token,
      "GET",
      `/orgs/${fixture.orgId}/audit?action=member.added`,
    );
    expect(audit.body.entries.map((e) => e.target)).toContain(`user:${userId} role=member`);
  });

  it("refuses bad input and non-admins, changing nothing", async () => {
    const fixture = await chatWithMembers(1);
    const path = `/orgs/${fixture.orgId}/invitations`;
    for (const body of [{}, { email: "not an email" }, { name: "!!!" }, { name: "Eve", role: "owner" }]) {
      const refused = await api<{ error: { code: string } }>(fixture.admin.token, "POST", path, body);
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe("bad_request");
    }
    const byMember = await api(fixture.members[0].token, "POST", path, { name: "Eve" });
    expect(byMember.status).toBe(403);
    const members = await api<{ members: unknown[] }>(fixture.admin.token, "GET", `/orgs/${fixture.orgId}/members`);
    expect(members.body.members).toHaveLength(2);
  });

  it("under Clerk sends Clerk's organization invitation by email, audited as member.invited", async () => {
    const clerkEnv = { ...env, CLERK_SECRET_KEY: STAND_IN_SECRET_KEY, CLERK_API_URL: standInUrl } as Env;
    const adminId = unique("admin");
    const admin = await tokenFor(adminId);
    const org = await appFetch<{ id: string }>(clerkEnv, "http://localhost/api/orgs", admin, "POST", {
      name: "Clerk org",
    });
    expect(org.status).toBe(201);
    const url = `http://localhost/api/orgs/${org.body.id}/invitations`;
    const byName = await appFetch(clerkEnv, url, admin, "POST", { name: "Frank" });
    expect(byName.status).toBe(400);
    const sent = await appFetch<{ invitation: Record<string, unknown> }>(clerkEnv, url, admin, "POST", {
      email: "frank@example.com",
      role: "admin",
    });
    expect(sent.status).toBe(202);
    expect(sent.body.invitation).toMatchObject({
      email: "frank@example.com",
      userId: null,
      role: "admin",
      status: "pending",
    });
    expect(String(sent.body.invitation.id)).toMatch(/^orginv_/);
    const audit = await api<{ entries: { target: string; actor: { id: string } }[] }>(
      admin,
      "GET",
      `/orgs/${org.body.id}/audit?action=member.invited`,
    );
    expect(audit.body.entries).toHaveLength(1);
    expect(audit.body.entries[0]).toMatchObject({
      target: "email:frank@example.com role=admin",
      actor: { id: adminId },
    });
  });
});
