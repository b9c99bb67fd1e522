/**
 * Browsing the marketplace in Postgres: the public list (each listing's newest approved version) and the moderators'
 * queues (each listing's newest version), searched and paged there, newest first: the public list by when the shown
 * version was approved (a submission or a rejection must not move a listing to the front), the pending queue by when
 * its version was submitted, the reported queue by the listing's last change. A page is keyed by that time and the
 * listing's id, so pages never repeat a listing; one that moves while someone pages goes to the front.
 */
import { and, desc, eq, ilike, isNull, or, type SQL, sql } from "drizzle-orm";
import type { Listing } from "../../protocol/marketplace";
import type { Database } from "../db/client";
import { marketplaceListings, marketplaceReports, marketplaceVersions, orgs } from "../db/schema";
import { type Audience, listingsByIds } from "./listings";

export type Queue = "approved" | "pending" | "reported";
export type Browse = { queue: Queue; q?: string; cursor?: string; limit: number };
export type ListingPage = { listings: Listing[]; nextCursor: string | null };

export async function browseListings(db: Database, browse: Browse): Promise<ListingPage> {
  const audience: Audience = browse.queue === "approved" ? "public" : "moderator";
  const shown = marketplaceVersions;
  const sortedBy = sortKey(browse.queue);
  const rows = await db
    .select({
      id: marketplaceListings.id,
      // Microseconds, as Postgres keeps them: a Date's milliseconds would make the cursor skip or repeat rows.
      micros: sql<string>`(extract(epoch from ${sortedBy}) * 1000000)::bigint::text`,
    })
    .from(marketplaceListings)
    .innerJoin(orgs, eq(orgs.id, marketplaceListings.orgId))
    .innerJoin(shown, and(eq(shown.listingId, marketplaceListings.id), eq(shown.version, shownVersion(audience))))
    .where(
      and(
        isNull(orgs.deletedAt),
        isNull(marketplaceListings.takenDownAt),
        queueCondition(browse.queue),
        ...searchConditions(browse.q),
        after(sortedBy, browse.cursor),
      ),
    )
    .orderBy(desc(sortedBy), desc(marketplaceListings.id))
    .limit(browse.limit + 1);
  const page = rows.slice(0, browse.limit);
  const last = page.at(-1);
  const listings = await listingsByIds(
    db,
    audience,
    page.map((row) => row.id),
  );
  return { listings, nextCursor: rows.length > browse.limit && last ? `${last.micros}.${last.id}` : null };
}

/** The public sees a listing's newest approved version; moderators its newest version, whatever its status. */
function shownVersion(audience: Audience): SQL {
  const approvedOnly = audience === "public" ? sql`AND v.status = 'approved'` : sql``;
  return sql`(SELECT max(v.version) FROM ${marketplaceVersions} v WHERE v.listing_id = ${marketplaceListings.id} ${approvedOnly})`;
}

function queueCondition(queue: Queue): SQL | undefined {
  if (queue === "pending") return eq(marketplaceVersions.status, "pending");
  if (queue === "reported") {
    // Reports after the listing's last review are open.
    return sql`EXISTS (SELECT 1 FROM ${marketplaceReports} r WHERE r.listing_id = ${marketplaceListings.id}
      AND (${marketplaceListings.reviewedAt} IS NULL OR r.created_at > ${marketplaceListings.reviewedAt}))`;
  }
  return undefined;
}

/** Each word must appear in the shown version's name, handle or description; LIKE's wildcards are matched as text. */
function searchConditions(q: string | undefined): SQL[] {
  const words = (q ?? "").split(/\s+/).filter(Boolean);
  return words.map((word) => {
    const pattern = `%${word.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    return or(
      ilike(sql`${marketplaceVersions.definition}->>'name'`, pattern),
      ilike(sql`${marketplaceVersions.definition}->>'handle'`, pattern),
      ilike(marketplaceVersions.description, pattern),
    ) as SQL;
  });
}

/** The time a queue is sorted by (newest first). */
function sortKey(queue: Queue): SQL {
  if (queue === "approved") return sql`coalesce(${marketplaceVersions.reviewedAt}, ${marketplaceVersions.createdAt})`;
  if (queue === "pending") return sql`${marketplaceVersions.createdAt}`;
  return sql`${marketplaceListings.updatedAt}`;
}

function after(sortedBy: SQL, cursor: string | undefined): SQL | undefined {
  if (!cursor) return undefined;
  const [micros, id] = cursor.split(".");
  return sql`(${sortedBy}, ${marketplaceListings.id}) <
    (timestamptz 'epoch' + ${micros}::bigint * interval '1 microsecond', ${id}::uuid)`;
}
