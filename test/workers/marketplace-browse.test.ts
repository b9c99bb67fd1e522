/**
 * Browsing the marketplace: search and paging run in PostgreSQL over every listing (not over a first few hundred),
 * words match case-insensitively as text, and pages come newest first without repeats.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../api/db/client";
import { marketplaceListings, marketplaceVersions } from "../../api/db/schema";
import type { Listing } from "../../protocol/marketplace";
import { api, type ChatFixture, chatWithMembers, tokenFor, unique } from "./helpers";
import { agentOf, moderatorToken, publish, review } from "./marketplace-fixtures";

type Page = { listings: Listing[]; nextCursor: string | null };

async function browse(query: string, token?: string): Promise<{ status: number; body: Page }> {
  return api<Page>(token ?? (await tokenFor(unique("browser"))), "GET", `/marketplace/listings?${query}`);
}

/** An approved listing with this name and description, of a new agent of the publisher's org. */
async function listed(publisher: ChatFixture, name: string, description: string): Promise<string> {
  const agentId = await agentOf(publisher, {
    name,
    handle: unique("h")
      .toLowerCase()
      .replace(/[^a-z0-9]/g, ""),
  });
  const published = await publish(publisher, agentId, description);
  expect(published.status, JSON.stringify(published.body)).toBe(201);
  expect((await review(published.body.listing.id, "approve")).status).toBe(200);
  return published.body.listing.id;
}

// Each test publishes and reviews several listings: slow on a loaded machine, so a longer timeout.
describe("marketplace browsing", { timeout: 60_000 }, () => {
  it("search matches every word in the name, handle or description, case-insensitively; % and _ are plain text", async () => {
    const token = unique("tok").replace(/[^a-z0-9]/gi, "");
    const publisher = await chatWithMembers(0);
    const percent = await listed(publisher, `Budget ${token}`, "Keeps spend under 5% a month");
    const fifty = await listed(publisher, `Budget ${token} two`, "Keeps spend under 50 a month");
    const underscore = await listed(publisher, `Snake ${token}`, "Reads snake_case names");
    const ids = async (q: string) =>
      (await browse(`q=${encodeURIComponent(q)}`)).body.listings.map((listing) => listing.id).sort();

    expect(await ids(token.toUpperCase())).toEqual([percent, fifty, underscore].sort());
    expect(await ids(`budget ${token} MONTH`)).toEqual([percent, fifty].sort());
    expect(await ids(`${token} 5%`)).toEqual([percent]);
    expect(await ids(`${token} %`)).toEqual([percent]);
    expect(await ids(`${token} e_c`)).toEqual([underscore]);
    expect(await ids(`${token} _`)).toEqual([underscore]);
    expect(await ids(`${token} \\`)).toEqual([]);
  });

  it("a listing older than the newest 500 is still found", async () => {
    const publisher = await chatWithMembers(0);
    const name = unique("Veteran");
    const agentId = await agentOf(publisher, { name });
    const { listing } = (await publish(publisher, agentId, "The oldest one here")).body;
    await review(listing.id, "approve");
    // 520 newer approved listings, written straight to the database (through the API it would take minutes).
    const { db, close } = openDatabase(env);
    try {
      const rows = await db
        .insert(marketplaceListings)
        .values(
          Array.from({ length: 520 }, () => ({ orgId: publisher.orgId, updatedAt: new Date(Date.now() + 60_000) })),
        )
        .returning({ id: marketplaceListings.id });
      await db.insert(marketplaceVersions).values(
        rows.map((row, i) => ({
          listingId: row.id,
          version: 1,
          status: "approved" as const,
          description: `Filler ${i}`,
          definition: { ...listing.definition, name: `Filler ${i}` },
          submittedBy: publisher.admin.userId,
        })),
      );
    } finally {
      await close();
    }
    const found = await browse(`q=${encodeURIComponent(name)}`);
    expect(found.body.listings.map((l) => l.id)).toEqual([listing.id]);
  });

  it("pages come newest first, each listing once, until nextCursor is null", async () => {
    const token = unique("page").replace(/[^a-z0-9]/gi, "");
    const made: string[] = [];
    const publisher = await chatWithMembers(0);
    for (let i = 0; i < 5; i++) made.push(await listed(publisher, `Pager ${token} ${i}`, "One of five"));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: Page } = await browse(
        `q=${token}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.listings.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.listings.map((l) => l.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...made].reverse());
  });

  it("a new submission or its rejection does not move a listing to the front of the public list", async () => {
    const token = unique("order").replace(/[^a-z0-9]/gi, "");
    const publisher = await chatWithMembers(0);
    const older = await listed(publisher, `Order ${token} older`, "Listed first");
    const newer = await listed(publisher, `Order ${token} newer`, "Listed second");
    const order = async () => (await browse(`q=${token}`)).body.listings.map((l) => l.id);
    expect(await order()).toEqual([newer, older]);
    // The older listing's publisher submits again (same agent: a new version), and a moderator rejects it.
    const [{ agentId }] = (
      await api<{ listings: { id: string; agentId: string }[] }>(
        publisher.admin.token,
        "GET",
        `/orgs/${publisher.orgId}/marketplace/listings`,
      )
    ).body.listings.filter((l) => l.id === older);
    expect((await publish(publisher, agentId, "Listed first, now louder")).status).toBe(201);
    expect(await order()).toEqual([newer, older]);
    expect((await review(older, "reject", "no")).status).toBe(200);
    expect(await order()).toEqual([newer, older]);
    // An approval does: the public now sees a new version.
    expect((await publish(publisher, agentId, "Listed first, version three")).status).toBe(201);
    expect((await review(older, "approve")).status).toBe(200);
    expect(await order()).toEqual([older, newer]);
  });

  it("the moderators' queues are searched and paged the same way", async () => {
    const publisher = await chatWithMembers(0);
    const token = unique("queue").replace(/[^a-z0-9]/gi, "");
    const pending: string[] = [];
    for (let i = 0; i < 3; i++) {
      const agentId = await agentOf(publisher, { name: `Waiting ${token}`, handle: `w${i}` });
      pending.push((await publish(publisher, agentId, "Waits for review")).body.listing.id);
    }
    const moderator = await moderatorToken();
    const first = await browse(`status=pending&q=${token}&limit=2`, moderator);
    expect(first.body.listings.map((l) => l.id)).toEqual([pending[2], pending[1]]);
    expect(first.body.listings.every((l) => l.status === "pending")).toBe(true);
    const second = await browse(
      `status=pending&q=${token}&limit=2&cursor=${encodeURIComponent(first.body.nextCursor ?? "")}`,
      moderator,
    );
    expect(second.body).toMatchObject({ nextCursor: null });
    expect(second.body.listings.map((l) => l.id)).toEqual([pending[0]]);
    // Not listed for the public while pending.
    expect((await browse(`q=${token}`)).body.listings).toEqual([]);
  });

  it("a cursor this API did not give, or a limit out of 1-100, is a 400", async () => {
    const token = await tokenFor(unique("browser"));
    for (const query of [
      "cursor=abc",
      `cursor=1e3.${crypto.randomUUID()}`,
      "cursor=123",
      "limit=0",
      "limit=101",
      "limit=1e1",
      "limit=",
    ]) {
      const answer = await browse(query, token);
      expect(answer.status, query).toBe(400);
    }
  });
});
