/** `GET|PUT /api/orgs/:orgId/egress`: org admins read and replace the org's egress settings. */
import { describe, expect, it } from "vitest";
import { chatWithMembers, client, tokenFor, unique } from "./helpers";

const empty = { allowHosts: [], denyHosts: [], allowPorts: [] };

describe("org egress settings", () => {
  it("admins read the defaults, replace them, and read back what was stored", async () => {
    const fixture = await chatWithMembers(1);
    const egress = client(fixture.admin.token).api.orgs[":orgId"].egress;
    const param = { orgId: fixture.orgId };
    const first = await egress.$get({ param });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ egress: empty });

    const settings = {
      allowHosts: ["api.example.com", "*.partner.example", "api.example.com"],
      denyHosts: ["evil.example.com"],
      allowPorts: [8443, 8080, 8443],
    };
    const put = await egress.$put({ param, json: { egress: settings } });
    expect(put.status).toBe(200);
    const stored = {
      allowHosts: ["api.example.com", "*.partner.example"],
      denyHosts: ["evil.example.com"],
      allowPorts: [8080, 8443],
    };
    expect(await put.json()).toEqual({ egress: stored });
    expect(await (await egress.$get({ param })).json()).toEqual({ egress: stored });

    const cleared = await egress.$put({ param, json: { egress: empty } });
    expect(await cleared.json()).toEqual({ egress: empty });
    // Two changes are audited; putting the same settings again changes nothing and writes nothing.
    await egress.$put({ param, json: { egress: empty } });
    const audit = await client(fixture.admin.token).api.orgs[":orgId"].audit.$get({
      param,
      query: { action: "egress.settings_changed" },
    });
    const { entries } = await audit.json();
    expect(entries.map((e) => e.target)).toEqual([
      `egress:${fixture.orgId} allowHosts=0 denyHosts=0 allowPorts=none`,
      `egress:${fixture.orgId} allowHosts=2 denyHosts=1 allowPorts=8080,8443`,
    ]);
    expect(entries.every((e) => e.actor.id === fixture.admin.userId && e.requestId)).toBe(true);
  });

  it("refuses bad hosts, ports and sizes", async () => {
    const fixture = await chatWithMembers(0);
    const egress = client(fixture.admin.token).api.orgs[":orgId"].egress;
    const param = { orgId: fixture.orgId };
    const put = (body: unknown) => egress.$put({ param, json: body as never });
    for (const host of [
      "API.example.com",
      "*",
      "*.",
      "a..b",
      "-a.com",
      "http://a.com",
      "a.com/x",
      "a b",
      "*.*.a.com",
    ]) {
      expect((await put({ egress: { ...empty, denyHosts: [host] } })).status, host).toBe(400);
    }
    for (const port of [0, 65536, 1.5, -1, "80"]) {
      expect((await put({ egress: { ...empty, allowPorts: [port] } })).status, String(port)).toBe(400);
    }
    const many = Array.from({ length: 101 }, (_, i) => `h${i}.example.com`);
    expect((await put({ egress: { ...empty, allowHosts: many } })).status).toBe(400);
    const ports = Array.from({ length: 21 }, (_, i) => 8000 + i);
    expect((await put({ egress: { ...empty, allowPorts: ports } })).status).toBe(400);
    expect((await put({ egress: { ...empty, extra: true } })).status).toBe(400);
    expect((await put({ allowHosts: [] })).status).toBe(400);
  });

  it("members get 403, outsiders 404", async () => {
    const fixture = await chatWithMembers(1);
    const param = { orgId: fixture.orgId };
    const asMember = client(fixture.members[0].token).api.orgs[":orgId"].egress;
    expect((await asMember.$get({ param })).status).toBe(403);
    expect((await asMember.$put({ param, json: { egress: empty } })).status).toBe(403);
    const outsider = client(await tokenFor(unique("outsider"))).api.orgs[":orgId"].egress;
    expect((await outsider.$get({ param })).status).toBe(404);
    expect((await outsider.$put({ param, json: { egress: empty } })).status).toBe(404);
    expect((await outsider.$get({ param: { orgId: "not-a-uuid" } })).status).toBe(404);
    expect((await client(null).api.orgs[":orgId"].egress.$get({ param })).status).toBe(401);
  });
});
