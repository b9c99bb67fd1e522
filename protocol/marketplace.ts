/**
 * The agent marketplace in the contract: listings (a publisher org's agent definition, versioned), moderation,
 * reports and installs. A listing holds a definition and never a secret value: header values are
 * `{{secret:NAME}}` references, resolved against the installer's secrets.
 */
import { z } from "zod";
import { agentTools, agentTrigger } from "./agents";
import { decimalParam, timestamp, uuid, writtenText } from "./primitives";

export const LISTING_VERSION_STATUSES = ["pending", "approved", "rejected"] as const;
/** A listing's status: its shown version's, or `taken_down`, which outranks every version. */
export const LISTING_STATUSES = [...LISTING_VERSION_STATUSES, "taken_down"] as const;
export const REVIEW_DECISIONS = ["approve", "reject", "take_down"] as const;
export const MAX_LISTING_DESCRIPTION = 2_000;
export const MAX_REASON = 500;
export const MAX_CHANGE_NOTE = 500;
/** Listings a page of the browse endpoint holds at most (default 50). */
export const MAX_LISTINGS_PAGE = 100;
/** The whole definition as JSON, prompt included: a listing is a definition, not a data store. */
export const MAX_DEFINITION_BYTES = 24 * 1024;

/** What a listing carries of the agent: what an install copies. */
export const listingDefinition = z
  .object({
    name: z.string(),
    handle: z.string(),
    systemPrompt: z.string(),
    model: z.string().nullable(),
    trigger: agentTrigger,
    tools: agentTools,
  })
  .meta({ id: "ListingDefinition" });
export type ListingDefinition = z.infer<typeof listingDefinition>;

export const listingSchema = z
  .object({
    id: uuid,
    publisherOrgId: uuid,
    publisherOrgName: z.string(),
    /** The publisher's agent it was made from (null once that agent is deleted). Publishers see it. */
    agentId: uuid.nullable(),
    status: z.enum(LISTING_STATUSES),
    /** The version shown: the newest approved one in the public list; the newest one to its org and moderators. */
    version: z.number().int().min(1),
    /** The newest approved version, the one installs get; null while none is approved. */
    approvedVersion: z.number().int().min(1).nullable(),
    description: z.string(),
    definition: listingDefinition,
    /** Why the shown version was rejected, or the listing taken down. */
    reasons: z.array(z.string()),
    /** Reports since the last review (shown to the publisher's admins and moderators only; 0 elsewhere). */
    openReports: z.number().int().min(0),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: "Listing" });
export type Listing = z.infer<typeof listingSchema>;

export const listingsQuery = z.object({
  /** Words that must each appear (case-insensitively) in the name, handle or description. */
  q: z.string().max(200).optional(),
  /** `pending` and `reported` are moderators' queues; `approved` (the default) is public. */
  status: z.enum(["approved", "pending", "reported"]).optional(),
  /** `nextCursor` of the page before: the listings after it (an opaque string). */
  cursor: z
    .string()
    .regex(
      /^(0|[1-9][0-9]{0,17})\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      "not a cursor this API gave",
    )
    .optional(),
  limit: decimalParam({ min: 1, max: MAX_LISTINGS_PAGE }).optional(),
});
export const listingsPageResponse = z.object({
  listings: z.array(listingSchema),
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: z.string().nullable(),
});
export const listingsResponse = z.object({ listings: z.array(listingSchema) });
export const listingResponse = z.object({ listing: listingSchema });
export const listingIdParams = z.object({ id: z.string() });

export const publishListingBody = z.object({
  agentId: uuid,
  description: writtenText({ maxChars: MAX_LISTING_DESCRIPTION, trim: true }),
  /** What changed in this version, for installers deciding whether to update. */
  note: writtenText({ maxChars: MAX_CHANGE_NOTE, trim: true }).optional(),
});
export const reviewListingBody = z.object({
  decision: z.enum(REVIEW_DECISIONS),
  reason: writtenText({ maxChars: MAX_REASON, trim: true }),
});
export const reportListingBody = z.object({
  reason: writtenText({ maxChars: MAX_REASON, trim: true }),
  /** The org the reporter reports for, one they belong to: moderators see it. */
  orgId: uuid.optional(),
});
export const listingReportSchema = z
  .object({
    reason: z.string(),
    /** The org named by the reporter; null when none was (the reporter's own id is not shown). */
    reporterOrg: z.object({ id: uuid, name: z.string() }).nullable(),
    createdAt: timestamp,
    /** Made after the listing's last review. */
    open: z.boolean(),
  })
  .meta({ id: "ListingReport" });
export type ListingReport = z.infer<typeof listingReportSchema>;
export const listingReportsResponse = z.object({ reports: z.array(listingReportSchema) });
export const reportResponse = z.object({ report: z.object({ listingId: uuid, created: z.boolean() }) });

export const installBody = z.object({
  listingId: uuid,
  /** The new agent's handle in the installer's org (default: the listing's). */
  handle: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "handle: 1-32 of a-z 0-9 _ -, starting with a letter or digit")
    .optional(),
});
export const installResponse = z.object({ agentId: uuid, listingId: uuid, version: z.number().int().min(1) });
export const installSchema = z
  .object({
    agentId: uuid,
    handle: z.string(),
    listingId: uuid,
    name: z.string(),
    version: z.number().int().min(1),
    /** The newest approved version, when newer than the installed one; null otherwise. */
    updateAvailable: z.number().int().min(1).nullable(),
    takenDown: z.boolean(),
    installedAt: timestamp,
  })
  .meta({ id: "Install" });
export const installsResponse = z.object({ installs: z.array(installSchema) });
export const listingVersionSchema = z
  .object({
    version: z.number().int().min(1),
    /** When a moderator approved it. */
    approvedAt: timestamp,
    /** The publisher's change note, or null. */
    note: z.string().nullable(),
    description: z.string(),
  })
  .meta({ id: "ListingVersion" });
export type ListingVersion = z.infer<typeof listingVersionSchema>;
export const installVersionsResponse = z.object({
  /** The listing's approved versions, newest first. */
  versions: z.array(listingVersionSchema),
  /** The version the installed agent is pinned to. */
  version: z.number().int().min(1),
  /** The newest approved version, when newer than the pinned one (and the listing is not taken down); else null. */
  updateAvailable: z.number().int().min(1).nullable(),
  takenDown: z.boolean(),
});
export const installParams = z.object({ orgId: z.string(), agentId: z.string() });
export const moderatorResponse = z.object({ moderator: z.boolean() });
