/** Marketplace fixtures for workerd tests: publish, review, install, as the API's callers do. */
import { expect } from "vitest";
import type { AuditAction, AuditEntry } from "../../protocol/audit";
import type { Listing } from "../../protocol/marketplace";
import { api, type ChatFixture, chatWithMembers, tokenFor, unique } from "./helpers";

export const MODERATOR = "moderator-of-tests";
export const moderatorToken = () => tokenFor(MODERATOR, "Moderator");

export async function agentOf(fixture: ChatFixture, fields: Record<string, unknown>): Promise<string> {
  const created = await api<{ id: string }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/agents`, {
    name: "Helper",
    handle: "helper",
    systemPrompt: "You help with tickets.",
    ...fields,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id;
}

export async function publish(
  fixture: ChatFixture,
  agentId: string,
  description = "Helps with tickets",
  note?: string,
) {
  return api<{ listing: Listing }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/marketplace/listings`, {
    agentId,
    description,
    ...(note === undefined ? {} : { note }),
  });
}

export async function review(listingId: string, decision: "approve" | "reject" | "take_down", reason = "looks fine") {
  return api<{ listing: Listing }>(await moderatorToken(), "POST", `/marketplace/listings/${listingId}/review`, {
    decision,
    reason,
  });
}

export async function install(fixture: ChatFixture, listingId: string, handle?: string) {
  return api<{ agentId: string; version: number }>(
    fixture.admin.token,
    "POST",
    `/orgs/${fixture.orgId}/marketplace/installs`,
    handle ? { listingId, handle } : { listingId },
  );
}

/** A publisher's approved listing of an agent with no tools. */
export async function approvedListing(publisher?: ChatFixture) {
  const fixture = publisher ?? (await chatWithMembers(1));
  const agentId = await agentOf(fixture, { name: unique("Helper") });
  const published = await publish(fixture, agentId);
  expect(published.status).toBe(201);
  expect((await review(published.body.listing.id, "approve")).status).toBe(200);
  return { publisher: fixture, agentId, listingId: published.body.listing.id };
}

export async function newestAudit(token: string, orgId: string, action: AuditAction): Promise<AuditEntry | undefined> {
  const answer = await api<{ entries: AuditEntry[] }>(token, "GET", `/orgs/${orgId}/audit?action=${action}`);
  return answer.body.entries[0];
}
