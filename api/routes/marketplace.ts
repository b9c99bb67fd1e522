/** The agent marketplace: browse and report (anyone signed in), review (moderators), publish and install (admins). */
import { eq } from "drizzle-orm";
import {
  installBody,
  installParams,
  installResponse,
  installsResponse,
  installVersionsResponse,
  listingIdParams,
  listingReportsResponse,
  listingResponse,
  listingsPageResponse,
  listingsQuery,
  listingsResponse,
  moderatorResponse,
  publishListingBody,
  reportListingBody,
  reportResponse,
  reviewListingBody,
} from "../../protocol/marketplace";
import { orgIdParams } from "../../protocol/orgs";
import { requireOrgAdmin, requireOrgMember } from "../access";
import { marketplaceListings } from "../db/schema";
import { browseListings } from "../marketplace/browse";
import { installListing, installsOf, installVersions, updateInstall } from "../marketplace/installs";
import { readListing, readListings } from "../marketplace/listings";
import { reportListing, reportsOf, reviewListing } from "../marketplace/moderation";
import { isModerator, requireModerator } from "../marketplace/moderators";
import { submitListing } from "../marketplace/publish";
import { noticeTakeDown } from "../marketplace/take-down-notices";
import { authedRoute, jsonBody, jsonContent, router } from "../openapi";
import { syncChatsOfAgent } from "./agents";

const tags = ["marketplace"];

const browseRoute = authedRoute(
  {
    method: "get",
    path: "/listings",
    tags,
    summary: "Approved listings, searched by name and description; `status=pending|reported` for moderators",
    description:
      "`q`: words that must each appear, case-insensitively, in the listing's name, handle or description (as " +
      "text: `%` and `_` are no wildcards). Newest first (last updated); `limit` 1-100 (default 50); pass " +
      "`nextCursor` back as `cursor` for the next page.",
    request: { query: listingsQuery },
    responses: { 200: jsonContent(listingsPageResponse, "One page, newest first.") },
  },
  ["forbidden"],
);
const listingReportsRoute = authedRoute(
  {
    method: "get",
    path: "/listings/{id}/reports",
    tags,
    summary: "A listing's reports: each one's reason, the org its reporter named, and whether it is open (moderators)",
    request: { params: listingIdParams },
    responses: { 200: jsonContent(listingReportsResponse, "Newest first.") },
  },
  ["forbidden", "not_found"],
);
const reviewRoute = authedRoute(
  {
    method: "post",
    path: "/listings/{id}/review",
    tags,
    summary: "Approve or reject the newest pending version, or take the listing down (moderators)",
    description:
      "Approve with no version pending dismisses the open reports. A take-down is final: no new installs, and a " +
      "notice goes to every chat where an installed copy sits.",
    request: { params: listingIdParams, body: jsonBody(reviewListingBody) },
    responses: { 200: jsonContent(listingResponse, "The listing as moderators see it now.") },
  },
  ["forbidden", "not_found", "conflict"],
);
const reportRoute = authedRoute(
  {
    method: "post",
    path: "/listings/{id}/reports",
    tags,
    summary: "Report a listing to the moderators (once per person and listing)",
    description: "`orgId`, optional, names an org the reporter belongs to (404 otherwise); moderators see it.",
    request: { params: listingIdParams, body: jsonBody(reportListingBody) },
    responses: { 201: jsonContent(reportResponse, "Reported: the listing is in the moderators' queue.") },
  },
  ["not_found", "conflict"],
);

const ownListingsRoute = authedRoute(
  {
    method: "get",
    path: "/{orgId}/marketplace/listings",
    tags,
    summary: "The org's own listings, each at its newest version, with status and reasons (org admins)",
    request: { params: orgIdParams },
    responses: { 200: jsonContent(listingsResponse, "Newest first.") },
  },
  ["forbidden", "not_found"],
);
const publishRoute = authedRoute(
  {
    method: "post",
    path: "/{orgId}/marketplace/listings",
    tags,
    summary: "Publish one of the org's agents, or a new version of its listing, pending review (org admins)",
    description:
      "The definition is copied without secret values. A submission that fails the automated checks (unknown " +
      "tools, private hosts, plain header values, named approvers, secret-looking text, sizes) is refused with " +
      "400 and the reasons, and nothing is stored.",
    request: { params: orgIdParams, body: jsonBody(publishListingBody) },
    responses: { 201: jsonContent(listingResponse, "The listing at its new, pending version.") },
  },
  ["forbidden", "not_found", "conflict"],
);
const installsRoute = authedRoute(
  {
    method: "get",
    path: "/{orgId}/marketplace/installs",
    tags,
    summary: "Agents the org installed from the marketplace, with their versions (org members)",
    request: { params: orgIdParams },
    responses: { 200: jsonContent(installsResponse, "Newest first.") },
  },
  ["not_found"],
);
const installRoute = authedRoute(
  {
    method: "post",
    path: "/{orgId}/marketplace/installs",
    tags,
    summary: "Install a listing's newest approved version as a new agent of the org (org admins)",
    request: { params: orgIdParams, body: jsonBody(installBody) },
    responses: { 201: jsonContent(installResponse, "The new agent, pinned to the version installed.") },
  },
  ["forbidden", "not_found", "conflict"],
);
const installVersionsRoute = authedRoute(
  {
    method: "get",
    path: "/{orgId}/marketplace/installs/{agentId}/versions",
    tags,
    summary:
      "An installed agent's listing history: approved versions with their change notes, and the pinned one (org members)",
    request: { params: installParams },
    responses: { 200: jsonContent(installVersionsResponse, "Approved versions newest first, and where the agent is.") },
  },
  ["not_found"],
);
const updateInstallRoute = authedRoute(
  {
    method: "post",
    path: "/{orgId}/marketplace/installs/{agentId}/update",
    tags,
    summary: "Move an installed agent to its listing's newest approved version (org admins)",
    description: "Its handle is kept; name, prompt, model, trigger and tools become the new version's.",
    request: { params: installParams },
    responses: { 200: jsonContent(installResponse, "The version it is at now (unchanged when none is newer).") },
  },
  ["forbidden", "not_found", "conflict"],
);

const moderatorRoute = authedRoute({
  method: "get",
  path: "/moderator",
  tags,
  summary: "Whether the caller moderates the marketplace (`PARLOR_MODERATORS`)",
  responses: { 200: jsonContent(moderatorResponse, "Yes or no.") },
});

const DEFAULT_PAGE = 50;

export const marketplaceRoutes = router()
  .openapi(moderatorRoute, (c) => c.json({ moderator: isModerator(c.env, c.var.caller.userId) }, 200))
  .openapi(browseRoute, async function browse(c) {
    const { q, status = "approved", cursor, limit = DEFAULT_PAGE } = c.req.valid("query");
    if (status !== "approved") requireModerator(c.env, c.var.caller.userId);
    return c.json(await browseListings(c.var.db, { queue: status, q, cursor, limit }), 200);
  })
  .openapi(listingReportsRoute, async function listingReports(c) {
    requireModerator(c.env, c.var.caller.userId);
    return c.json({ reports: await reportsOf(c.var.db, c.req.valid("param").id) }, 200);
  })
  .openapi(reviewRoute, async function review(c) {
    requireModerator(c.env, c.var.caller.userId);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const outcome = await reviewListing(c.var.db, c.var.audit, id, { ...body, moderator: c.var.caller.userId });
    if (outcome?.takenDown) await noticeTakeDown(c.env, c.var.db, outcome.takenDown, body.reason);
    return c.json({ listing: await readListing(c.var.db, "moderator", id) }, 200);
  })
  .openapi(reportRoute, async function report(c) {
    const { id } = c.req.valid("param");
    const { reason, orgId } = c.req.valid("json");
    const reporterOrg = orgId ? (await requireOrgMember(c.var.db, orgId, c.var.caller.userId)).orgId : null;
    await reportListing(c.var.db, c.var.audit, id, { userId: c.var.caller.userId, reason, orgId: reporterOrg });
    return c.json({ report: { listingId: id, created: true } }, 201);
  });

export const orgMarketplaceRoutes = router()
  .openapi(ownListingsRoute, async function ownListings(c) {
    const { orgId } = await requireOrgAdmin(c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
    const listings = await readListings(c.var.db, "publisher", eq(marketplaceListings.orgId, orgId));
    return c.json({ listings }, 200);
  })
  .openapi(publishRoute, async function publish(c) {
    const { orgId } = await requireOrgAdmin(c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
    const body = c.req.valid("json");
    const listingId = await submitListing(c.env, c.var.db, c.var.audit, {
      orgId,
      ...body,
      userId: c.var.caller.userId,
    });
    return c.json({ listing: await readListing(c.var.db, "publisher", listingId) }, 201);
  })
  .openapi(installsRoute, async function installs(c) {
    const { orgId } = await requireOrgMember(c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
    return c.json({ installs: await installsOf(c.var.db, orgId) }, 200);
  })
  .openapi(installRoute, async function install(c) {
    const { orgId } = await requireOrgAdmin(c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
    const { listingId, handle } = c.req.valid("json");
    const installer = { orgId, userId: c.var.caller.userId };
    const { agentId, version } = await installListing(c.var.db, c.var.audit, installer, listingId, handle);
    return c.json({ agentId, listingId, version }, 201);
  })
  .openapi(installVersionsRoute, async function versionsOfInstall(c) {
    const params = c.req.valid("param");
    const { orgId } = await requireOrgMember(c.var.db, params.orgId, c.var.caller.userId);
    return c.json(await installVersions(c.var.db, orgId, params.agentId), 200);
  })
  .openapi(updateInstallRoute, async function updateInstalled(c) {
    const params = c.req.valid("param");
    const { orgId } = await requireOrgAdmin(c.var.db, params.orgId, c.var.caller.userId);
    const installer = { orgId, userId: c.var.caller.userId };
    const result = await updateInstall(c.var.db, c.var.audit, installer, params.agentId);
    if (result.changed) await syncChatsOfAgent(c.env, c.var.db, params.agentId);
    return c.json({ agentId: params.agentId, listingId: result.listingId, version: result.version }, 200);
  });
