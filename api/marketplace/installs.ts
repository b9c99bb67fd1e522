/**
 * Installing a listing: a new agent in the installer's org, a copy of the newest approved version, pinned to it.
 * Its `{{secret:NAME}}` references resolve against the installer's secrets, as any agent's do. It changes only
 * when an admin updates it to the newest approved version; a publisher's later edits never reach it.
 */
import { and, desc, eq } from "drizzle-orm";
import type { ListingDefinition, ListingVersion } from "../../protocol/marketplace";
import { isUuid } from "../access";
import type { AuditTrail } from "../audit/trail";
import type { Database } from "../db/client";
import { agents, marketplaceInstalls, marketplaceListings, marketplaceVersions } from "../db/schema";
import { conflict, notFound } from "../errors";
import { approvedVersion } from "./listings";

type Installer = { orgId: string; userId: string };

export async function installListing(
  db: Database,
  audit: AuditTrail,
  installer: Installer,
  listingId: string,
  handle: string | undefined,
): Promise<{ agentId: string; version: number }> {
  const [listing] = await db.select().from(marketplaceListings).where(eq(marketplaceListings.id, listingId));
  if (!listing) throw notFound("listing not found");
  if (listing.takenDownAt) throw conflict("this listing was taken down: it cannot be installed");
  const approved = await approvedVersion(db, listingId);
  if (!approved) throw conflict("this listing has no approved version yet: it cannot be installed");
  const definition = approved.definition;
  return db.transaction(async (tx) => {
    const [agent] = await tx
      .insert(agents)
      .values({
        orgId: installer.orgId,
        ...agentFields(definition),
        handle: handle ?? definition.handle,
        createdBy: installer.userId,
      })
      .onConflictDoNothing({ target: [agents.orgId, agents.handle] })
      .returning({ id: agents.id });
    if (!agent) throw conflict(`the handle @${handle ?? definition.handle} is taken in this org: install with another`);
    await tx.insert(marketplaceInstalls).values({
      agentId: agent.id,
      orgId: installer.orgId,
      listingId,
      version: approved.version,
      installedBy: installer.userId,
    });
    // An install creates an agent: the org's log says so as it does for one made by hand, then where it came from.
    await audit.record(tx, {
      orgId: installer.orgId,
      actor: { type: "user", id: installer.userId },
      action: "agent.created",
      target: `agent:${agent.id}`,
    });
    await audit.record(tx, {
      orgId: installer.orgId,
      actor: { type: "user", id: installer.userId },
      action: "marketplace.installed",
      target: `agent:${agent.id} listing:${listingId} version:${approved.version}`,
    });
    return { agentId: agent.id, version: approved.version };
  });
}

/** Moves an installed agent to its listing's newest approved version; answers the version it is at now. */
export async function updateInstall(
  db: Database,
  audit: AuditTrail,
  installer: Installer,
  agentId: string,
): Promise<{ listingId: string; version: number; changed: boolean }> {
  if (!isUuid(agentId)) throw notFound("installed agent not found");
  const [install] = await db
    .select()
    .from(marketplaceInstalls)
    .where(and(eq(marketplaceInstalls.agentId, agentId), eq(marketplaceInstalls.orgId, installer.orgId)));
  if (!install) throw notFound("installed agent not found");
  const [listing] = await db.select().from(marketplaceListings).where(eq(marketplaceListings.id, install.listingId));
  if (!listing || listing.takenDownAt) throw conflict("this listing was taken down: there is no update to install");
  const approved = await approvedVersion(db, install.listingId);
  if (!approved || approved.version <= install.version) {
    return { listingId: install.listingId, version: install.version, changed: false };
  }
  await db.transaction(async (tx) => {
    await tx
      .update(agents)
      .set({ ...agentFields(approved.definition), updatedAt: new Date() })
      .where(eq(agents.id, agentId));
    await tx
      .update(marketplaceInstalls)
      .set({ version: approved.version, updatedAt: new Date() })
      .where(eq(marketplaceInstalls.agentId, agentId));
    await audit.record(tx, {
      orgId: installer.orgId,
      actor: { type: "user", id: installer.userId },
      action: "marketplace.install_updated",
      target: `agent:${agentId} listing:${install.listingId} version:${install.version}->${approved.version}`,
    });
  });
  return { listingId: install.listingId, version: approved.version, changed: true };
}

export async function installsOf(db: Database, orgId: string) {
  const rows = await db
    .select({
      agentId: marketplaceInstalls.agentId,
      handle: agents.handle,
      name: agents.name,
      listingId: marketplaceInstalls.listingId,
      version: marketplaceInstalls.version,
      takenDownAt: marketplaceListings.takenDownAt,
      installedAt: marketplaceInstalls.createdAt,
    })
    .from(marketplaceInstalls)
    .innerJoin(agents, eq(agents.id, marketplaceInstalls.agentId))
    .innerJoin(marketplaceListings, eq(marketplaceListings.id, marketplaceInstalls.listingId))
    .where(eq(marketplaceInstalls.orgId, orgId))
    .orderBy(desc(marketplaceInstalls.createdAt));
  return Promise.all(
    rows.map(async (row) => {
      const approved = row.takenDownAt ? undefined : await approvedVersion(db, row.listingId);
      return {
        agentId: row.agentId,
        handle: row.handle,
        name: row.name,
        listingId: row.listingId,
        version: row.version,
        updateAvailable: approved && approved.version > row.version ? approved.version : null,
        takenDown: row.takenDownAt !== null,
        installedAt: row.installedAt.toISOString(),
      };
    }),
  );
}

/**
 * An installed agent's listing history as its org sees it: the approved versions (date, change note), the one it is
 * pinned to, and whether a newer one can be installed.
 */
export async function installVersions(db: Database, orgId: string, agentId: string) {
  if (!isUuid(agentId)) throw notFound("installed agent not found");
  const [install] = await db
    .select({
      listingId: marketplaceInstalls.listingId,
      version: marketplaceInstalls.version,
      takenDownAt: marketplaceListings.takenDownAt,
    })
    .from(marketplaceInstalls)
    .innerJoin(marketplaceListings, eq(marketplaceListings.id, marketplaceInstalls.listingId))
    .where(and(eq(marketplaceInstalls.agentId, agentId), eq(marketplaceInstalls.orgId, orgId)));
  if (!install) throw notFound("installed agent not found");
  const rows = await db
    .select()
    .from(marketplaceVersions)
    .where(and(eq(marketplaceVersions.listingId, install.listingId), eq(marketplaceVersions.status, "approved")))
    .orderBy(desc(marketplaceVersions.version));
  const versions: ListingVersion[] = rows.map((row) => ({
    version: row.version,
    approvedAt: (row.reviewedAt ?? row.createdAt).toISOString(),
    note: row.note,
    description: row.description,
  }));
  const newest = versions[0]?.version ?? 0;
  const takenDown = install.takenDownAt !== null;
  return {
    versions,
    version: install.version,
    updateAvailable: !takenDown && newest > install.version ? newest : null,
    takenDown,
  };
}

/** What an install copies: everything but the handle, which is the installer's to choose. */
function agentFields(definition: ListingDefinition) {
  return {
    name: definition.name,
    systemPrompt: definition.systemPrompt,
    model: definition.model,
    trigger: definition.trigger,
    tools: definition.tools,
  };
}
