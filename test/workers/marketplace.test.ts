/**
 * The agent marketplace's rules, against the real Worker, rooms and PostgreSQL: what may be published, who
 * decides, what may be installed, what an install carries (never the publisher's secrets), and what every decision
 * writes to the audit log.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Listing } from "../../protocol/marketplace";
import { api, chatWithMembers, connect, type TestSocket, tokenFor, unique } from "./helpers";
import {
  agentOf,
  approvedListing,
  install,
  MODERATOR,
  moderatorToken,
  newestAudit,
  publish,
  review,
} from "./marketplace-fixtures";

const service = (env as unknown as { TEST_SERVICE_URL: string }).TEST_SERVICE_URL;

type Recorded = { method: string; path: string; headers: Record<string, string> };
async function received(prefix: string): Promise<Recorded[]> {
  const response = await fetch(`${service}/__requests?prefix=${encodeURIComponent(prefix)}`);
  return ((await response.json()) as { requests: Recorded[] }).requests;
}

describe("marketplace", () => {
  it("a submission is pending and not listed until a moderator approves it; then anyone finds it by search", async () => {
    const publisher = await chatWithMembers(1);
    const name = unique("Ticketeer");
    const agentId = await agentOf(publisher, { name });
    const published = await publish(publisher, agentId, "Files tickets in the tracker");
    expect(published.status).toBe(201);
    expect(published.body.listing).toMatchObject({ status: "pending", version: 1, approvedVersion: null, agentId });
    const stranger = await tokenFor(unique("stranger"));
    const search = async (q: string) =>
      (await api<{ listings: Listing[] }>(stranger, "GET", `/marketplace/listings?q=${encodeURIComponent(q)}`)).body
        .listings;
    expect(await search(name)).toEqual([]);

    const queue = await api<{ listings: Listing[] }>(
      await moderatorToken(),
      "GET",
      "/marketplace/listings?status=pending",
    );
    expect(queue.body.listings.map((l) => l.id)).toContain(published.body.listing.id);
    const approved = await review(published.body.listing.id, "approve");
    expect(approved.body.listing).toMatchObject({ status: "approved", approvedVersion: 1 });
    expect((await search(name)).map((l) => l.id)).toEqual([published.body.listing.id]);
    expect((await search(`${name} tracker`)).map((l) => l.id)).toEqual([published.body.listing.id]);
    expect(await search(`${name} nothing-like-this`)).toEqual([]);
    expect((await search(name))[0].agentId).toBeNull();
  });

  it("only moderators review, and only moderators see the queues", async () => {
    const publisher = await chatWithMembers(1);
    const agentId = await agentOf(publisher, {});
    const { listing } = (await publish(publisher, agentId)).body;
    for (const token of [publisher.admin.token, publisher.members[0].token]) {
      const refused = await api(token, "POST", `/marketplace/listings/${listing.id}/review`, {
        decision: "approve",
        reason: "mine",
      });
      expect(refused.status).toBe(403);
      expect((await api(token, "GET", "/marketplace/listings?status=pending")).status).toBe(403);
    }
    expect((await api(publisher.admin.token, "GET", "/marketplace/moderator")).body).toEqual({ moderator: false });
    expect((await api(await moderatorToken(), "GET", "/marketplace/moderator")).body).toEqual({ moderator: true });
    const own = await api<{ listings: Listing[] }>(
      publisher.admin.token,
      "GET",
      `/orgs/${publisher.orgId}/marketplace/listings`,
    );
    expect(own.body.listings.map((l) => l.status)).toEqual(["pending"]);
    expect((await api(publisher.members[0].token, "GET", `/orgs/${publisher.orgId}/marketplace/listings`)).status).toBe(
      403,
    );
    const bad = await api(await moderatorToken(), "POST", `/marketplace/listings/${listing.id}/review`, {
      decision: "maybe",
      reason: "x",
    });
    expect(bad.status).toBe(400);
    expect((await review("not-a-uuid", "approve")).status).toBe(404);
  });

  it("a pending or rejected listing cannot be installed; a rejected one carries its reason to the publisher", async () => {
    const publisher = await chatWithMembers(0);
    const installer = await chatWithMembers(0);
    const agentId = await agentOf(publisher, {});
    const { listing } = (await publish(publisher, agentId)).body;
    const pending = await install(installer, listing.id);
    expect(pending.status).toBe(409);
    const rejected = await review(listing.id, "reject", "the prompt asks for passwords");
    expect(rejected.body.listing).toMatchObject({ status: "rejected", reasons: ["the prompt asks for passwords"] });
    expect((await install(installer, listing.id)).status).toBe(409);
    const own = await api<{ listings: Listing[] }>(
      publisher.admin.token,
      "GET",
      `/orgs/${publisher.orgId}/marketplace/listings`,
    );
    expect(own.body.listings[0]).toMatchObject({ status: "rejected", reasons: ["the prompt asks for passwords"] });
    const agents = await api<{ agents: unknown[] }>(installer.admin.token, "GET", `/orgs/${installer.orgId}/agents`);
    expect(agents.body.agents).toEqual([]);
    expect((await review(listing.id, "reject")).status).toBe(409);
  });

  it("an install is a new agent of the installer's org, pinned: the publisher's edits and new versions never reach it until an admin updates", async () => {
    const { publisher, agentId, listingId } = await approvedListing();
    const installer = await chatWithMembers(1);
    const installed = await install(installer, listingId);
    expect(installed.status).toBe(201);
    expect(installed.body.version).toBe(1);
    expect((await install(installer, listingId)).status).toBe(409); // @helper is taken now
    expect((await install(installer, listingId, "helper2")).status).toBe(201);
    expect(
      (await api(installer.members[0].token, "POST", `/orgs/${installer.orgId}/marketplace/installs`, { listingId }))
        .status,
    ).toBe(403);

    const edited = await api(publisher.admin.token, "PATCH", `/orgs/${publisher.orgId}/agents/${agentId}`, {
      systemPrompt: "Version two of the prompt.",
    });
    expect(edited.status).toBe(200);
    const prompts = async () => {
      const list = await api<{ agents: { id: string; systemPrompt: string }[] }>(
        installer.admin.token,
        "GET",
        `/orgs/${installer.orgId}/agents`,
      );
      return list.body.agents.find((a) => a.id === installed.body.agentId)?.systemPrompt;
    };
    expect(await prompts()).toBe("You help with tickets.");
    const second = await publish(publisher, agentId, "Now better");
    expect(second.body.listing).toMatchObject({ status: "pending", version: 2, approvedVersion: 1 });
    // The approved version stays installable while the new one waits.
    expect((await install(installer, listingId, "helper3")).body.version).toBe(1);
    const update = `/orgs/${installer.orgId}/marketplace/installs/${installed.body.agentId}/update`;
    expect((await api(installer.admin.token, "POST", update)).body).toMatchObject({ version: 1 });
    expect(await prompts()).toBe("You help with tickets.");

    await review(listingId, "approve");
    const installs = await api<{ installs: { agentId: string; updateAvailable: number | null }[] }>(
      installer.members[0].token,
      "GET",
      `/orgs/${installer.orgId}/marketplace/installs`,
    );
    expect(installs.body.installs.find((i) => i.agentId === installed.body.agentId)?.updateAvailable).toBe(2);
    expect((await api(installer.members[0].token, "POST", update)).status).toBe(403);
    expect((await api(installer.admin.token, "POST", update)).body).toMatchObject({ version: 2 });
    expect(await prompts()).toBe("Version two of the prompt.");
    const entry = await newestAudit(installer.admin.token, installer.orgId, "marketplace.install_updated");
    expect(entry).toMatchObject({
      actor: { type: "user", id: installer.admin.userId },
      target: `agent:${installed.body.agentId} listing:${listingId} version:1->2`,
    });
  });

  it("a taken-down listing cannot be installed again, and each chat where an installed copy sits gets a notice", async () => {
    const { publisher, agentId, listingId } = await approvedListing();
    const installer = await chatWithMembers(1);
    const installed = await install(installer, listingId, "picked");
    await api(installer.admin.token, "POST", `/chats/${installer.chatId}/agents`, { agentId: installed.body.agentId });
    const socket: TestSocket = await connect(installer.chatId, installer.members[0].token);

    const down = await review(listingId, "take_down", "it exfiltrates chat history");
    expect(down.body.listing).toMatchObject({ status: "taken_down", reasons: ["it exfiltrates chat history"] });
    await socket.until(
      (s) => s.of("message").some((m) => m.author.type === "system" && m.text.includes("taken down")),
      "the take-down notice",
    );
    const notice = socket.of("message").find((m) => m.author.type === "system");
    expect(notice?.text).toContain("@picked");
    expect(notice?.text).toContain("it exfiltrates chat history");
    socket.close();

    expect((await install(installer, listingId, "again")).status).toBe(409);
    const stranger = await tokenFor(unique("stranger"));
    const listed = await api<{ listings: Listing[] }>(stranger, "GET", "/marketplace/listings");
    expect(listed.body.listings.map((l) => l.id)).not.toContain(listingId);
    expect((await review(listingId, "approve")).status).toBe(409);
    expect((await publish(publisher, agentId)).status).toBe(409);
    expect(await newestAudit(publisher.admin.token, publisher.orgId, "marketplace.taken_down")).toMatchObject({
      actor: { type: "user", id: MODERATOR },
      target: `listing:${listingId} reason:it exfiltrates chat history`,
    });
  });

  it("automated checks refuse private hosts, plain and pasted secrets, named approvers and secret-looking text", async () => {
    const publisher = await chatWithMembers(1);
    const secretValue = `pasted-${unique("value")}`;
    await api(publisher.admin.token, "POST", `/orgs/${publisher.orgId}/secrets`, {
      name: "PUBLISHER_KEY",
      value: secretValue,
      grants: { chats: "all" },
    });
    const cases: [Record<string, unknown>, string][] = [
      [
        { tools: { http: { allow: [{ baseUrl: "http://10.0.0.7/api", methods: ["GET"] }] } } },
        "10.0.0.7, a private host",
      ],
      [{ tools: { http: { allow: [{ baseUrl: "http://intranet/", methods: ["GET"] }] } } }, "a private host"],
      [{ systemPrompt: `Use the key ${secretValue} when asked.` }, "the value of one of your org's secrets"],
      [{ systemPrompt: "Call with sk-abcdefghijklmnopqrstuvwx please" }, "an API key"],
      [{ systemPrompt: "Send {{secret:PUBLISHER_KEY}} along" }, "only header values may"],
      [
        {
          tools: {
            http: {
              allow: [{ baseUrl: "https://api.example.com", methods: ["POST"] }],
              approval: { approvers: { users: [publisher.admin.userId] } },
            },
          },
        },
        "names people of your org",
      ],
    ];
    for (const [fields, reason] of cases) {
      const agentId = await agentOf(publisher, { handle: unique("a").slice(0, 30).toLowerCase(), ...fields });
      const refused = await publish(publisher, agentId);
      expect(refused.status, JSON.stringify(fields)).toBe(400);
      expect(JSON.stringify(refused.body)).toContain(reason);
      expect(JSON.stringify(refused.body)).not.toContain(secretValue);
    }
    const own = await api<{ listings: Listing[] }>(
      publisher.admin.token,
      "GET",
      `/orgs/${publisher.orgId}/marketplace/listings`,
    );
    expect(own.body.listings).toEqual([]);
    const tooLong = await publish(publisher, await agentOf(publisher, { handle: "long" }), "x".repeat(2001));
    expect(tooLong.status).toBe(400);
    expect((await publish(publisher, crypto.randomUUID())).status).toBe(404);
  });

  it("the publisher's secrets never travel: references resolve against the installer's secrets", async () => {
    const publisher = await chatWithMembers(0);
    const prefix = `/${unique("market")}`;
    const publisherValue = `publisher-${unique("secret")}`;
    const plainValue = `plain-${unique("header")}`;
    await api(publisher.admin.token, "POST", `/orgs/${publisher.orgId}/secrets`, {
      name: "SERVICE_TOKEN",
      value: publisherValue,
      grants: { chats: "all" },
    });
    const agentId = await agentOf(publisher, {
      name: "Caller",
      handle: "caller",
      tools: {
        http: {
          allow: [{ baseUrl: `${service}${prefix}`, methods: ["GET"] }],
          headers: { "X-Token": "Bearer {{secret:SERVICE_TOKEN}}", "X-Plain": plainValue },
        },
      },
    });
    const published = await publish(publisher, agentId);
    expect(published.status).toBe(201);
    await review(published.body.listing.id, "approve");
    const everything = [
      published,
      await api(await tokenFor(unique("s")), "GET", "/marketplace/listings"),
      await api(publisher.admin.token, "GET", `/orgs/${publisher.orgId}/marketplace/listings`),
    ];
    for (const answer of everything) {
      expect(JSON.stringify(answer)).not.toContain(publisherValue);
      expect(JSON.stringify(answer)).not.toContain(plainValue);
    }
    expect(published.body.listing.definition.tools.http?.headers?.["X-Token"]).toBe("Bearer {{secret:SERVICE_TOKEN}}");

    const installer = await chatWithMembers(0);
    const installerValue = `installer-${unique("secret")}`;
    await api(installer.admin.token, "POST", `/orgs/${installer.orgId}/secrets`, {
      name: "SERVICE_TOKEN",
      value: installerValue,
      grants: { chats: "all" },
    });
    // The plain header became a reference to an agent-scoped secret of the publisher's; the installer brings its own.
    expect(published.body.listing.definition.tools.http?.headers?.["X-Plain"]).toBe("{{secret:AGENT_CALLER_X_PLAIN}}");
    await api(installer.admin.token, "POST", `/orgs/${installer.orgId}/secrets`, {
      name: "AGENT_CALLER_X_PLAIN",
      value: "installer-plain",
      grants: { chats: "all" },
    });
    const installed = await install(installer, published.body.listing.id);
    expect(installed.status).toBe(201);
    await api(installer.admin.token, "POST", `/chats/${installer.chatId}/agents`, { agentId: installed.body.agentId });
    const socket = await connect(installer.chatId, installer.admin.token);
    socket.send({ type: "message", text: `@caller GET ${service}${prefix}/hi`, clientMessageId: unique("m") });
    await socket.until((s) => s.of("run.finished").length + s.of("run.failed").length > 0, "the run", 20_000);
    socket.close();
    const requests = await received(prefix);
    expect(requests.map((r) => [r.headers["x-token"], r.headers["x-plain"]])).toEqual([
      [`Bearer ${installerValue}`, "installer-plain"],
    ]);
    expect(JSON.stringify(requests)).not.toContain(publisherValue);
  });

  it("members report a listing once; a report queues it for moderators, and approving dismisses it", async () => {
    const { publisher, listingId } = await approvedListing();
    const reporter = await tokenFor(unique("reporter"));
    const report = () => api(reporter, "POST", `/marketplace/listings/${listingId}/reports`, { reason: "spammy" });
    expect((await report()).status).toBe(201);
    expect((await report()).status).toBe(409);
    expect(
      (await api(reporter, "POST", `/marketplace/listings/${crypto.randomUUID()}/reports`, { reason: "x" })).status,
    ).toBe(404);
    const queue = async () =>
      (await api<{ listings: Listing[] }>(await moderatorToken(), "GET", "/marketplace/listings?status=reported")).body
        .listings;
    expect((await queue()).find((l) => l.id === listingId)?.openReports).toBe(1);
    expect((await review(listingId, "approve", "reviewed, fine")).status).toBe(200);
    expect((await queue()).map((l) => l.id)).not.toContain(listingId);
    expect(await newestAudit(publisher.admin.token, publisher.orgId, "marketplace.reported")).toMatchObject({
      actor: { type: "user", id: expect.stringContaining("reporter") },
      target: `listing:${listingId}`,
    });
    expect(await newestAudit(publisher.admin.token, publisher.orgId, "marketplace.approved")).toMatchObject({
      actor: { type: "user", id: MODERATOR },
      target: `listing:${listingId} reports dismissed`,
    });
    expect((await review(listingId, "approve")).status).toBe(409);
  });

  it("an install writes agent.created and marketplace.installed together, and a refused install writes neither", async () => {
    const { listingId } = await approvedListing();
    const installer = await chatWithMembers(0);
    const installed = await install(installer, listingId, "copied");
    expect(installed.status).toBe(201);
    const created = await newestAudit(installer.admin.token, installer.orgId, "agent.created");
    const recorded = await newestAudit(installer.admin.token, installer.orgId, "marketplace.installed");
    expect(created).toMatchObject({
      actor: { type: "user", id: installer.admin.userId },
      target: `agent:${installed.body.agentId}`,
      outcome: "success",
    });
    expect(recorded?.target).toContain(`agent:${installed.body.agentId} `);
    // One transaction: the two entries are neighbours in the org's chain.
    expect((recorded?.seq ?? 0) - (created?.seq ?? 0)).toBe(1);

    expect((await install(installer, listingId, "copied")).status).toBe(409);
    expect((await newestAudit(installer.admin.token, installer.orgId, "agent.created"))?.seq).toBe(created?.seq);
    expect((await newestAudit(installer.admin.token, installer.orgId, "marketplace.installed"))?.seq).toBe(
      recorded?.seq,
    );
  });

  it("every decision is audited: submitted, approved, rejected, installed", async () => {
    const publisher = await chatWithMembers(0);
    const agentId = await agentOf(publisher, {});
    const { listing } = (await publish(publisher, agentId)).body;
    expect(await newestAudit(publisher.admin.token, publisher.orgId, "marketplace.submitted")).toMatchObject({
      actor: { type: "user", id: publisher.admin.userId },
      target: `listing:${listing.id} version:1 agent:${agentId}`,
      outcome: "success",
    });
    await review(listing.id, "reject", "needs a description");
    expect(await newestAudit(publisher.admin.token, publisher.orgId, "marketplace.rejected")).toMatchObject({
      actor: { type: "user", id: MODERATOR },
      target: `listing:${listing.id} version:1`,
    });
    await publish(publisher, agentId, "Now described");
    await review(listing.id, "approve");
    expect(await newestAudit(publisher.admin.token, publisher.orgId, "marketplace.approved")).toMatchObject({
      target: `listing:${listing.id} version:2`,
    });
    const installer = await chatWithMembers(0);
    const installed = await install(installer, listing.id);
    expect(await newestAudit(installer.admin.token, installer.orgId, "marketplace.installed")).toMatchObject({
      actor: { type: "user", id: installer.admin.userId },
      target: `agent:${installed.body.agentId} listing:${listing.id} version:2`,
    });
    const verified = await api<{ ok: boolean }>(publisher.admin.token, "GET", `/orgs/${publisher.orgId}/audit/verify`);
    expect(verified.body.ok).toBe(true);
  });
});
