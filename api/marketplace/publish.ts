/**
 * Publishing an org's agent: its definition is copied (never a secret value), checked, and stored as the listing's
 * next version, pending a moderator. Publishing again adds a version; the approved one stays what installs get,
 * and an older version still pending is superseded.
 */
import { and, eq, max } from "drizzle-orm";
import { devAllowOrigins } from "../../agents/tools/egress";
import type { ListingDefinition } from "../../protocol/marketplace";
import { isUuid } from "../access";
import type { AuditTrail } from "../audit/trail";
import type { Database } from "../db/client";
import { movePlainHeaders } from "../db/plain-headers";
import { agents, marketplaceListings, marketplaceVersions, secrets } from "../db/schema";
import { openValue, secretScope, secretsConfigured } from "../db/secret-values";
import { badRequest, conflict, notFound } from "../errors";
import { checkSubmission } from "./checks";

export type Submission = { orgId: string; agentId: string; description: string; note?: string; userId: string };

/** Answers the listing's id; a submission that fails the automated checks is refused (400) and stores nothing. */
export async function submitListing(env: Env, db: Database, audit: AuditTrail, submission: Submission) {
  const { orgId, agentId, description, userId } = submission;
  const note = submission.note ?? null;
  if (!isUuid(agentId)) throw notFound("agent not found");
  // A plain header value becomes a secret reference first, so the copy below never holds a value.
  await movePlainHeaders(env, db, agentId);
  const [agent] = await db
    .select()
    .from(agents)
    .where(and(eq(agents.id, agentId), eq(agents.orgId, orgId)));
  if (!agent) throw notFound("agent not found");
  const definition: ListingDefinition = {
    name: agent.name,
    handle: agent.handle,
    systemPrompt: agent.systemPrompt,
    model: agent.model,
    trigger: agent.trigger,
    tools: agent.tools,
  };
  const problems = checkSubmission(
    definition,
    { description, note },
    {
      secretValues: await secretValuesOf(env, db, orgId),
      development: env.PARLOR_ENV === "development",
      devAllowOrigins: devAllowOrigins(env),
    },
  );
  if (problems.length > 0) throw badRequest(`the submission did not pass the automated checks: ${problems.join("; ")}`);

  return db.transaction(async (tx) => {
    const [existing] = await tx
      .select()
      .from(marketplaceListings)
      .where(eq(marketplaceListings.agentId, agentId))
      .for("update");
    if (existing?.takenDownAt) throw conflict("this listing was taken down: it cannot be published again");
    const listingId =
      existing?.id ??
      (await tx.insert(marketplaceListings).values({ orgId, agentId }).returning({ id: marketplaceListings.id }))[0].id;
    const [{ newest }] = await tx
      .select({ newest: max(marketplaceVersions.version) })
      .from(marketplaceVersions)
      .where(eq(marketplaceVersions.listingId, listingId));
    const version = (newest ?? 0) + 1;
    await tx
      .update(marketplaceVersions)
      .set({ status: "rejected", reason: `superseded by version ${version}`, reviewedAt: new Date() })
      .where(and(eq(marketplaceVersions.listingId, listingId), eq(marketplaceVersions.status, "pending")));
    await tx
      .insert(marketplaceVersions)
      .values({ listingId, version, description, note, definition, submittedBy: userId });
    await tx.update(marketplaceListings).set({ updatedAt: new Date() }).where(eq(marketplaceListings.id, listingId));
    await audit.record(tx, {
      orgId,
      actor: { type: "user", id: userId },
      action: "marketplace.submitted",
      target: `listing:${listingId} version:${version} agent:${agentId}`,
    });
    return listingId;
  });
}

/** Every secret value of the org, opened, to make sure none is published by being pasted somewhere. */
async function secretValuesOf(env: Env, db: Database, orgId: string): Promise<string[]> {
  if (!secretsConfigured(env)) return [];
  const rows = await db
    .select({ name: secrets.name, keyId: secrets.keyId, iv: secrets.iv, ciphertext: secrets.ciphertext })
    .from(secrets)
    .where(eq(secrets.orgId, orgId));
  const values: string[] = [];
  for (const row of rows) {
    try {
      values.push(await openValue(env, secretScope(orgId, row.name), row));
    } catch {
      // A value sealed under a key no longer configured cannot be compared; it cannot be used either.
    }
  }
  return values;
}
