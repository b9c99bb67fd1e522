/**
 * Reading listings as each audience sees them. The public sees a listing's newest approved version (none: not
 * listed; taken down: not listed); its own org and moderators see its newest version, with its status and reasons.
 */
import { and, desc, eq, inArray, isNull, type SQL, sql } from "drizzle-orm";
import type { Listing } from "../../protocol/marketplace";
import type { Database } from "../db/client";
import { marketplaceListings, marketplaceReports, marketplaceVersions, orgs } from "../db/schema";
import { notFound } from "../errors";

export type Audience = "public" | "publisher" | "moderator";
type ListingRow = Awaited<ReturnType<typeof listingRows>>[number];
export type VersionRow = typeof marketplaceVersions.$inferSelect;

export async function readListings(db: Database, audience: Audience, where?: SQL): Promise<Listing[]> {
  return toListings(db, audience, await listingRows(db, where));
}

/** The listings with these ids as `audience` sees them, in the order given. */
export async function listingsByIds(db: Database, audience: Audience, ids: string[]): Promise<Listing[]> {
  if (ids.length === 0) return [];
  const rows = await listingRows(db, inArray(marketplaceListings.id, ids));
  const order = new Map(ids.map((id, index) => [id, index]));
  rows.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
  return toListings(db, audience, rows);
}

async function toListings(db: Database, audience: Audience, rows: ListingRow[]): Promise<Listing[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const versions = await db
    .select()
    .from(marketplaceVersions)
    .where(inArray(marketplaceVersions.listingId, ids))
    .orderBy(desc(marketplaceVersions.version));
  const reports = audience === "public" ? new Map<string, number>() : await openReportCounts(db, ids);
  const listings: Listing[] = [];
  for (const row of rows) {
    const own = versions.filter((version) => version.listingId === row.id);
    const view = toListing(row, own, audience, reports.get(row.id) ?? 0);
    if (view) listings.push(view);
  }
  return listings;
}

export async function readListing(db: Database, audience: Audience, listingId: string): Promise<Listing> {
  const [listing] = await readListings(db, audience, eq(marketplaceListings.id, listingId));
  if (!listing) throw notFound("listing not found");
  return listing;
}

/** The newest approved version of a listing, or undefined. */
export async function approvedVersion(db: Database, listingId: string): Promise<VersionRow | undefined> {
  const [version] = await db
    .select()
    .from(marketplaceVersions)
    .where(and(eq(marketplaceVersions.listingId, listingId), eq(marketplaceVersions.status, "approved")))
    .orderBy(desc(marketplaceVersions.version))
    .limit(1);
  return version;
}

function listingRows(db: Database, where?: SQL) {
  return db
    .select({
      id: marketplaceListings.id,
      orgId: marketplaceListings.orgId,
      orgName: orgs.name,
      agentId: marketplaceListings.agentId,
      takenDownAt: marketplaceListings.takenDownAt,
      takenDownReason: marketplaceListings.takenDownReason,
      createdAt: marketplaceListings.createdAt,
      updatedAt: marketplaceListings.updatedAt,
    })
    .from(marketplaceListings)
    .innerJoin(orgs, eq(orgs.id, marketplaceListings.orgId))
    .where(and(isNull(orgs.deletedAt), where))
    .orderBy(desc(marketplaceListings.updatedAt), desc(marketplaceListings.id));
}

/** Reports since the listing's last review. */
async function openReportCounts(db: Database, ids: string[]): Promise<Map<string, number>> {
  const rows = await db
    .select({ listingId: marketplaceReports.listingId, n: sql<number>`count(*)::int` })
    .from(marketplaceReports)
    .innerJoin(marketplaceListings, eq(marketplaceListings.id, marketplaceReports.listingId))
    .where(
      and(
        inArray(marketplaceReports.listingId, ids),
        sql`(${marketplaceListings.reviewedAt} IS NULL OR ${marketplaceReports.createdAt} > ${marketplaceListings.reviewedAt})`,
      ),
    )
    .groupBy(marketplaceReports.listingId);
  return new Map(rows.map((row) => [row.listingId, row.n]));
}

/** `versions` newest first. */
function toListing(row: ListingRow, versions: VersionRow[], audience: Audience, openReports: number): Listing | null {
  const approved = versions.find((version) => version.status === "approved");
  const shown = audience === "public" ? approved : versions[0];
  if (!shown) return null;
  if (audience === "public" && row.takenDownAt) return null;
  const reasons = [
    ...(row.takenDownAt && row.takenDownReason ? [row.takenDownReason] : []),
    ...(shown.status === "rejected" && shown.reason ? [shown.reason] : []),
  ];
  return {
    id: row.id,
    publisherOrgId: row.orgId,
    publisherOrgName: row.orgName,
    agentId: audience === "public" ? null : row.agentId,
    status: row.takenDownAt ? "taken_down" : shown.status,
    version: shown.version,
    approvedVersion: approved?.version ?? null,
    description: shown.description,
    definition: shown.definition,
    reasons,
    openReports,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
