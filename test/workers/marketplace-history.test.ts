/**
 * What installers and moderators see of a listing's past: installers its approved versions with the publisher's
 * change notes and the version they are pinned to; moderators each report's reason and the org its reporter named.
 */
import { describe, expect, it } from "vitest";
import type { ListingReport, ListingVersion } from "../../protocol/marketplace";
import { api, chatWithMembers, tokenFor, unique } from "./helpers";
import { agentOf, approvedListing, install, moderatorToken, publish, review } from "./marketplace-fixtures";

type History = { versions: ListingVersion[]; version: number; updateAvailable: number | null; takenDown: boolean };

// Each test publishes, reviews and installs: a longer timeout on a loaded machine.
describe("marketplace history", { timeout: 60_000 }, () => {
  it("installers see the approved versions with their change notes, the pinned one, and whether an update is available", async () => {
    const { publisher, agentId, listingId } = await approvedListing();
    const installer = await chatWithMembers(1);
    const installed = await install(installer, listingId);
    expect((await publish(publisher, agentId, "Now with a tracker", "Adds the tracker tool")).status).toBe(201);
    await review(listingId, "approve");
    expect((await publish(publisher, agentId, "Still waiting", "Not approved yet")).status).toBe(201);
    const path = `/orgs/${installer.orgId}/marketplace/installs/${installed.body.agentId}/versions`;

    const history = await api<History>(installer.members[0].token, "GET", path);
    expect(history.status).toBe(200);
    expect(history.body).toMatchObject({ version: 1, updateAvailable: 2, takenDown: false });
    expect(history.body.versions.map((v) => [v.version, v.note, v.description])).toEqual([
      [2, "Adds the tracker tool", "Now with a tracker"],
      [1, null, "Helps with tickets"],
    ]);
    expect(Date.parse(history.body.versions[0].approvedAt)).toBeGreaterThanOrEqual(
      Date.parse(history.body.versions[1].approvedAt),
    );

    await api(
      installer.admin.token,
      "POST",
      `/orgs/${installer.orgId}/marketplace/installs/${installed.body.agentId}/update`,
    );
    expect((await api<History>(installer.admin.token, "GET", path)).body).toMatchObject({
      version: 2,
      updateAvailable: null,
    });
    await review(listingId, "take_down", "gone");
    expect((await api<History>(installer.admin.token, "GET", path)).body).toMatchObject({
      takenDown: true,
      updateAvailable: null,
    });
  });

  it("another org's install, an agent not installed from the marketplace, or a stranger gets 404", async () => {
    const { listingId } = await approvedListing();
    const installer = await chatWithMembers(0);
    const installed = await install(installer, listingId);
    const other = await chatWithMembers(0);
    const handMade = await agentOf(installer, { handle: "byhand" });
    const versions = (orgId: string, agentId: string) => `/orgs/${orgId}/marketplace/installs/${agentId}/versions`;
    expect((await api(other.admin.token, "GET", versions(installer.orgId, installed.body.agentId))).status).toBe(404);
    expect((await api(other.admin.token, "GET", versions(other.orgId, installed.body.agentId))).status).toBe(404);
    expect((await api(installer.admin.token, "GET", versions(installer.orgId, handMade))).status).toBe(404);
    expect((await api(installer.admin.token, "GET", versions(installer.orgId, "not-a-uuid"))).status).toBe(404);
  });

  it("a change note is checked like the description: a secret reference or an overlong note is refused and nothing stored", async () => {
    const { publisher, agentId, listingId } = await approvedListing();
    const refused = await publish(publisher, agentId, "Fine", "uses {{secret:TOKEN}} now");
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain("the change note");
    expect((await publish(publisher, agentId, "Fine", "x".repeat(501))).status).toBe(400);
    expect((await publish(publisher, agentId, "Fine", "   ")).status).toBe(400);
    const own = await api<{ listings: { id: string; version: number }[] }>(
      publisher.admin.token,
      "GET",
      `/orgs/${publisher.orgId}/marketplace/listings`,
    );
    expect(own.body.listings.find((l) => l.id === listingId)?.version).toBe(1);
  });

  it("moderators see each report's reason and the org its reporter named; a reporter cannot name an org they are not in", async () => {
    const { listingId } = await approvedListing();
    const reporterOrg = await chatWithMembers(1);
    const named = reporterOrg.members[0];
    const anonymous = await tokenFor(unique("reporter"));
    const outsider = await tokenFor(unique("outsider"));
    const reportsPath = `/marketplace/listings/${listingId}/reports`;

    expect(
      (await api(named.token, "POST", reportsPath, { reason: "spam links", orgId: reporterOrg.orgId })).status,
    ).toBe(201);
    expect((await api(anonymous, "POST", reportsPath, { reason: "misleading name" })).status).toBe(201);
    expect((await api(outsider, "POST", reportsPath, { reason: "x", orgId: reporterOrg.orgId })).status).toBe(404);
    expect((await api(outsider, "POST", reportsPath, { reason: "x", orgId: "nope" })).status).toBe(400);

    const moderator = await moderatorToken();
    const seen = await api<{ reports: ListingReport[] }>(moderator, "GET", reportsPath);
    expect(seen.status).toBe(200);
    expect(seen.body.reports).toMatchObject([
      { reason: "misleading name", reporterOrg: null, open: true },
      { reason: "spam links", reporterOrg: { id: reporterOrg.orgId, name: "Test org" }, open: true },
    ]);
    expect(JSON.stringify(seen.body)).not.toContain(named.userId);

    expect((await api(named.token, "GET", reportsPath)).status).toBe(403);
    expect((await api(moderator, "GET", `/marketplace/listings/${crypto.randomUUID()}/reports`)).status).toBe(404);
    await review(listingId, "approve", "checked, fine");
    const after = await api<{ reports: ListingReport[] }>(moderator, "GET", reportsPath);
    expect(after.body.reports.map((r) => r.open)).toEqual([false, false]);
  });
});
