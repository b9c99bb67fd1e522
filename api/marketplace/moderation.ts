/**
 * A moderator's decisions and members' reports. Approve and reject decide the newest pending version (approve with
 * none pending dismisses the open reports); take down ends the listing for good: no new installs, and installers
 * are told in their chats. Each decision is audited in the publisher's log.
 */
import { and, desc, eq, gt } from "drizzle-orm";
import type { ListingReport, REVIEW_DECISIONS } from "../../protocol/marketplace";
import { isUuid } from "../access";
import type { AuditTrail } from "../audit/trail";
import type { Database } from "../db/client";
import { marketplaceListings, marketplaceReports, marketplaceVersions, orgs } from "../db/schema";
import { conflict, notFound } from "../errors";
import type { Tx } from "../memberships";

type Decision = (typeof REVIEW_DECISIONS)[number];
export type Review = { decision: Decision; reason: string; moderator: string };

/** Answers what a take-down needs to tell installers, or null for the other decisions. */
export async function reviewListing(
  db: Database,
  audit: AuditTrail,
  listingId: string,
  review: Review,
): Promise<{ takenDown: { id: string; name: string } } | null> {
  if (!isUuid(listingId)) throw notFound("listing not found");
  return db.transaction(async (tx) => {
    const [listing] = await tx
      .select()
      .from(marketplaceListings)
      .where(eq(marketplaceListings.id, listingId))
      .for("update");
    if (!listing) throw notFound("listing not found");
    if (listing.takenDownAt) throw conflict("this listing is taken down: there is nothing left to decide");
    const [newest] = await tx
      .select()
      .from(marketplaceVersions)
      .where(eq(marketplaceVersions.listingId, listingId))
      .orderBy(desc(marketplaceVersions.version))
      .limit(1);
    const now = new Date();
    const record = (action: "marketplace.approved" | "marketplace.rejected" | "marketplace.taken_down", what: string) =>
      audit.record(tx, {
        orgId: listing.orgId,
        actor: { type: "user", id: review.moderator },
        action,
        target: `listing:${listingId} ${what}`,
      });

    if (review.decision === "take_down") {
      await tx
        .update(marketplaceListings)
        .set({ takenDownAt: now, takenDownReason: review.reason, reviewedAt: now, updatedAt: now })
        .where(eq(marketplaceListings.id, listingId));
      await record("marketplace.taken_down", `reason:${review.reason}`);
      return { takenDown: { id: listingId, name: newest?.definition.name ?? "" } };
    }
    const pending = newest?.status === "pending" ? newest : undefined;
    if (!pending && review.decision === "reject") throw conflict("no version of this listing waits for review");
    if (!pending) {
      const [open] = await openReport(tx, listingId, listing.reviewedAt);
      if (!open) throw conflict("no version of this listing waits for review, and no report is open");
      await tx.update(marketplaceListings).set({ reviewedAt: now }).where(eq(marketplaceListings.id, listingId));
      await record("marketplace.approved", "reports dismissed");
      return null;
    }
    const status = review.decision === "approve" ? "approved" : "rejected";
    await tx
      .update(marketplaceVersions)
      .set({ status, reason: review.reason, reviewedBy: review.moderator, reviewedAt: now })
      .where(and(eq(marketplaceVersions.listingId, listingId), eq(marketplaceVersions.version, pending.version)));
    await tx
      .update(marketplaceListings)
      .set({ reviewedAt: now, updatedAt: now })
      .where(eq(marketplaceListings.id, listingId));
    await record(`marketplace.${status}`, `version:${pending.version}`);
    return null;
  });
}

/** One report per member and listing: a second is refused (409). */
export async function reportListing(
  db: Database,
  audit: AuditTrail,
  listingId: string,
  report: { userId: string; reason: string; orgId: string | null },
): Promise<void> {
  if (!isUuid(listingId)) throw notFound("listing not found");
  await db.transaction(async (tx) => {
    const [listing] = await tx
      .select({ orgId: marketplaceListings.orgId })
      .from(marketplaceListings)
      .where(eq(marketplaceListings.id, listingId));
    if (!listing) throw notFound("listing not found");
    const created = await tx
      .insert(marketplaceReports)
      .values({ listingId, userId: report.userId, orgId: report.orgId, reason: report.reason })
      .onConflictDoNothing()
      .returning({ listingId: marketplaceReports.listingId });
    if (created.length === 0) throw conflict("you have reported this listing already");
    await audit.record(tx, {
      orgId: listing.orgId,
      actor: { type: "user", id: report.userId },
      action: "marketplace.reported",
      target: `listing:${listingId}`,
    });
  });
}

/** A listing's reports for moderators, newest first: each one's reason and the org its reporter named. */
export async function reportsOf(db: Database, listingId: string): Promise<ListingReport[]> {
  if (!isUuid(listingId)) throw notFound("listing not found");
  const [listing] = await db
    .select({ reviewedAt: marketplaceListings.reviewedAt })
    .from(marketplaceListings)
    .where(eq(marketplaceListings.id, listingId));
  if (!listing) throw notFound("listing not found");
  const rows = await db
    .select({
      reason: marketplaceReports.reason,
      orgId: orgs.id,
      orgName: orgs.name,
      createdAt: marketplaceReports.createdAt,
    })
    .from(marketplaceReports)
    .leftJoin(orgs, eq(orgs.id, marketplaceReports.orgId))
    .where(eq(marketplaceReports.listingId, listingId))
    .orderBy(desc(marketplaceReports.createdAt));
  return rows.map((row) => ({
    reason: row.reason,
    reporterOrg: row.orgId && row.orgName !== null ? { id: row.orgId, name: row.orgName } : null,
    createdAt: row.createdAt.toISOString(),
    open: listing.reviewedAt === null || row.createdAt > listing.reviewedAt,
  }));
}

/** A report newer than the listing's last review, if any. */
function openReport(tx: Tx, listingId: string, since: Date | null) {
  const newer = since ? gt(marketplaceReports.createdAt, since) : undefined;
  return tx
    .select({ userId: marketplaceReports.userId })
    .from(marketplaceReports)
    .where(and(eq(marketplaceReports.listingId, listingId), newer))
    .limit(1);
}
