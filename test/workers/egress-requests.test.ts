/**
 * The HTTP tool's requests as sent: names resolved and checked first, redirects followed by hand and checked at every
 * hop, secret-carrying headers dropped off-origin, a mutating request's 3xx returned as is, size caps, the org's
 * settings read at send time. The test service (test/external-service.ts) records what reached it.
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { type EgressScope, MAX_REDIRECTS, performRequest } from "../../agents/tools/http-request";
import { openDatabase } from "../../api/db/client";
import { orgEgress } from "../../api/db/schema";
import type { HttpRequestInput } from "../../protocol/agents";
import { chatWithMembers, unique } from "./helpers";

const service = (env as unknown as { TEST_SERVICE_URL: string }).TEST_SERVICE_URL;
/** The same service under a second origin (also a development origin in the test configuration). */
const otherOrigin = service.replace("127.0.0.1", "localhost");
type Recorded = { method: string; path: string; body: string; headers: Record<string, string> };

async function received(prefix: string): Promise<Recorded[]> {
  const response = await fetch(`${service}/__requests?prefix=${encodeURIComponent(prefix)}`);
  return ((await response.json()) as { requests: Recorded[] }).requests;
}

const methods = ["GET", "HEAD", "POST", "PUT", "DELETE"] as const;
function scope(bases: string[], orgId: string | null = null): EgressScope {
  return {
    env: env as unknown as Env,
    orgId,
    http: { allow: bases.map((baseUrl) => ({ baseUrl, methods: [...methods] })) },
  };
}
const send = (s: EgressScope, input: HttpRequestInput, headers: Record<string, string> = {}) =>
  performRequest(
    new URL(input.url),
    input,
    headers,
    Object.entries(headers).map(([name, value]) => ({ name, value })),
    s,
  );

describe("HTTP tool requests", () => {
  it("a name with a private answer is refused before anything is sent, and so is an unresolvable one", async () => {
    const s = scope(["http://rebind.test", "http://mixed.test", "http://nowhere.test", "http://v6private.test"]);
    await expect(send(s, { method: "GET", url: "http://rebind.test/x" })).rejects.toThrow(/private address/);
    await expect(send(s, { method: "GET", url: "http://mixed.test/x" })).rejects.toThrow(/10\.0\.0\.7/);
    await expect(send(s, { method: "GET", url: "http://v6private.test/x" })).rejects.toThrow(/::1/);
    await expect(send(s, { method: "GET", url: "http://nowhere.test/x" })).rejects.toThrow(/does not resolve/);
  });

  it("follows a GET's redirects on the allow list, at most five", async () => {
    const prefix = `/${unique("chain")}`;
    const s = scope([`${service}${prefix}`]);
    const ok = await send(s, { method: "GET", url: `${service}${prefix}/redirect-chain-${MAX_REDIRECTS}` });
    expect(ok).toMatchObject({ status: 200, body: "end of the chain" });
    expect(await received(prefix)).toHaveLength(MAX_REDIRECTS + 1);
    await expect(
      send(s, { method: "GET", url: `${service}${prefix}/redirect-chain-${MAX_REDIRECTS + 1}` }),
    ).rejects.toThrow(/more than 5 redirects/);
  });

  it("a hop to a private address or off the allow list is not taken: the redirect is the result", async () => {
    const prefix = `/${unique("hop")}`;
    const s = scope([`${service}${prefix}`, "http://169.254.169.254", "http://rebind.test"]);
    for (const to of [
      "http://169.254.169.254/latest/meta-data/",
      "http://rebind.test/",
      "http://[::ffff:7f00:1]/",
      "http://elsewhere.test/",
      `${service}/outside${prefix}`,
      "file:///etc/passwd",
    ]) {
      const url = `${service}${prefix}/redirect-to?to=${encodeURIComponent(to)}`;
      const outcome = await send(s, { method: "GET", url });
      expect(outcome.status, to).toBe(302);
      expect(outcome.redirectRefused, to).toBeTruthy();
    }
    expect(await received(`/outside${prefix}`)).toEqual([]);
  });

  it("drops secret-carrying headers when a hop leaves the origin, and keeps them on the same origin", async () => {
    const prefix = `/${unique("drop")}`;
    const s = scope([`${service}${prefix}`, `${otherOrigin}${prefix}`]);
    const headers = { "X-Token": "tok-123456", Authorization: "Bearer abcdef", Accept: "text/plain" };
    const same = `${service}${prefix}/redirect-to?to=${encodeURIComponent(`${prefix}/same`)}`;
    expect((await send(s, { method: "GET", url: same }, headers)).status).toBe(200);
    const cross = `${service}${prefix}/redirect-to?to=${encodeURIComponent(`${otherOrigin}${prefix}/cross`)}`;
    expect((await send(s, { method: "GET", url: cross }, headers)).status).toBe(200);
    const seen = await received(prefix);
    const at = (path: string) => seen.find((r) => r.path === `${prefix}/${path}`)?.headers ?? {};
    expect(at("same")).toMatchObject({ "x-token": "tok-123456", authorization: "Bearer abcdef" });
    expect(at("cross")["x-token"]).toBeUndefined();
    expect(at("cross").authorization).toBeUndefined();
    expect(
      seen.filter((r) => r.path.endsWith("/redirect-to")).every((r) => r.headers["x-token"] === "tok-123456"),
    ).toBe(true);
  });

  it("a 303 turns into a GET; a mutating request's 3xx is its result, never re-sent", async () => {
    const prefix = `/${unique("mut")}`;
    const s = scope([`${service}${prefix}`]);
    for (const status of [301, 302, 303, 307, 308]) {
      const url = `${service}${prefix}/redirect-to?status=${status}&to=${encodeURIComponent(`${prefix}/target`)}`;
      const outcome = await send(s, { method: "POST", url, body: '{"a":1}' });
      expect(outcome.status).toBe(status);
    }
    expect((await received(`${prefix}/target`)).length).toBe(0);
    const get = `${service}${prefix}/redirect-to?status=303&to=${encodeURIComponent(`${prefix}/target`)}`;
    expect((await send(s, { method: "GET", url: get })).status).toBe(200);
    expect((await received(`${prefix}/target`)).map((r) => r.method)).toEqual(["GET"]);
  });

  it("refuses a request body over 64 KiB (bytes, not characters) before sending", async () => {
    const prefix = `/${unique("big")}`;
    const s = scope([`${service}${prefix}`]);
    await expect(send(s, { method: "POST", url: `${service}${prefix}/x`, body: "é".repeat(40_000) })).rejects.toThrow(
      /64|65536/,
    );
    expect(await received(prefix)).toEqual([]);
  });

  it("reads the org's settings when it sends: its deny list and its port rule hold over the agent's allow list", async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("org")}`;
    const s = scope([`${service}${prefix}`], fixture.orgId);
    expect((await send(s, { method: "GET", url: `${service}${prefix}/a` })).status).toBe(200);
    const { db, close } = openDatabase(env as unknown as Env);
    try {
      await db
        .insert(orgEgress)
        .values({ orgId: fixture.orgId, allowHosts: [], denyHosts: ["127.0.0.1"], allowPorts: [] });
      await expect(send(s, { method: "GET", url: `${service}${prefix}/b` })).rejects.toThrow(/deny list/);
      await db
        .update(orgEgress)
        .set({ denyHosts: [], allowHosts: ["*.example.com"] })
        .where(eq(orgEgress.orgId, fixture.orgId));
      await expect(send(s, { method: "GET", url: `${service}${prefix}/c` })).rejects.toThrow(/org's allow list/);
    } finally {
      await db.delete(orgEgress).where(eq(orgEgress.orgId, fixture.orgId));
      await close();
    }
    expect((await received(prefix)).map((r) => r.path)).toEqual([`${prefix}/a`]);
  });
});
