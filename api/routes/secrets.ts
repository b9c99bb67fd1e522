/**
 * An org's secrets (org admins only): stored sealed (`db/secret-values.ts`), answered without their values, ever.
 * Agents put them into header values at execution time, where a grant covers the chat and the agent.
 */
import { and, asc, eq, inArray } from "drizzle-orm";
import type { Context } from "hono";
import type { AuditAction } from "../../protocol/audit";
import { orgIdParams } from "../../protocol/orgs";
import {
  createSecretBody,
  removedSecretResponse,
  type SecretGrants,
  secretParams,
  secretResponse,
  secretsResponse,
  updateSecretBody,
} from "../../protocol/secrets";
import { requireOrgAdmin } from "../access";
import type { AppEnv } from "../context";
import type { Database } from "../db/client";
import { agents, chats, secrets } from "../db/schema";
import { sealValue, secretScope, secretsConfigured } from "../db/secret-values";
import { badRequest, conflict, notFound, unavailable } from "../errors";
import { authedRoute, jsonBody, jsonContent, router } from "../openapi";

const tags = ["secrets"];
const secretColumns = {
  name: secrets.name,
  grants: secrets.grants,
  createdAt: secrets.createdAt,
  updatedAt: secrets.updatedAt,
  lastUsedAt: secrets.lastUsedAt,
};

const listSecretsRoute = authedRoute(
  {
    method: "get",
    path: "/{orgId}/secrets",
    tags,
    summary: "The org's secrets, without their values (org admins)",
    request: { params: orgIdParams },
    responses: { 200: jsonContent(secretsResponse, "By name.") },
  },
  ["forbidden", "not_found", "unavailable"],
);
const createSecretRoute = authedRoute(
  {
    method: "post",
    path: "/{orgId}/secrets",
    tags,
    summary: "Store a secret and say who may use it (org admins)",
    description:
      "`grants.chats` is `all` or chat ids of this org; `grants.agents` narrows it to agent ids of this org " +
      "(omitted: every agent). Agents use it as `{{secret:NAME}}` inside header values of their definition.",
    request: { params: orgIdParams, body: jsonBody(createSecretBody) },
    responses: { 201: jsonContent(secretResponse, "Stored; the answer never holds the value.") },
  },
  ["forbidden", "not_found", "conflict", "unavailable"],
);
const updateSecretRoute = authedRoute(
  {
    method: "patch",
    path: "/{orgId}/secrets/{name}",
    tags,
    summary: "Rotate a secret's value or replace its grants (org admins)",
    description: "Takes effect at the next tool call that uses it.",
    request: { params: secretParams, body: jsonBody(updateSecretBody) },
    responses: { 200: jsonContent(secretResponse, "The secret as it is now.") },
  },
  ["forbidden", "not_found", "unavailable"],
);
const deleteSecretRoute = authedRoute(
  {
    method: "delete",
    path: "/{orgId}/secrets/{name}",
    tags,
    summary: "Delete a secret (org admins); calls that use it fail from the next one",
    request: { params: secretParams },
    responses: { 200: jsonContent(removedSecretResponse, "Deleted.") },
  },
  ["forbidden", "not_found", "unavailable"],
);

export const secretRoutes = router()
  .openapi(listSecretsRoute, async function listSecrets(c) {
    const { orgId } = await requireSecretsAdmin(c.env, c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
    const rows = await c.var.db
      .select(secretColumns)
      .from(secrets)
      .where(eq(secrets.orgId, orgId))
      .orderBy(asc(secrets.name));
    return c.json({ secrets: rows.map(forDisplay) }, 200);
  })
  .openapi(createSecretRoute, async function createSecret(c) {
    const { orgId } = await requireSecretsAdmin(c.env, c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
    const { name, value, grants } = c.req.valid("json");
    await requireGrantsOf(c.var.db, orgId, grants);
    const sealed = await sealValue(c.env, secretScope(orgId, name), value);
    const row = await c.var.db.transaction(async (tx) => {
      const [created] = await tx
        .insert(secrets)
        .values({ orgId, name, grants, ...sealed })
        .onConflictDoNothing({ target: [secrets.orgId, secrets.name] })
        .returning(secretColumns);
      // The name only: no value, sealed or not, goes into the audit log.
      if (created) await c.var.audit.record(tx, auditEntry(c, orgId, "secret.created", name));
      return created;
    });
    if (!row) throw conflict(`a secret named ${name} exists in this org`);
    return c.json({ secret: forDisplay(row) }, 201);
  })
  .openapi(updateSecretRoute, async function updateSecret(c) {
    const params = c.req.valid("param");
    const { orgId } = await requireSecretsAdmin(c.env, c.var.db, params.orgId, c.var.caller.userId);
    const { value, grants } = c.req.valid("json");
    if (grants) await requireGrantsOf(c.var.db, orgId, grants);
    const sealed = value === undefined ? {} : await sealValue(c.env, secretScope(orgId, params.name), value);
    const row = await c.var.db.transaction(async (tx) => {
      const [before] = await tx
        .select({ grants: secrets.grants })
        .from(secrets)
        .where(and(eq(secrets.orgId, orgId), eq(secrets.name, params.name)))
        .for("update");
      if (!before) return undefined;
      const [updated] = await tx
        .update(secrets)
        .set({ ...sealed, ...(grants ? { grants } : {}), updatedAt: new Date() })
        .where(and(eq(secrets.orgId, orgId), eq(secrets.name, params.name)))
        .returning(secretColumns);
      // A new value is a rotation even if it happens to equal the old one: the stored ciphertext changed, and
      // nobody can compare without opening it.
      if (value !== undefined) await c.var.audit.record(tx, auditEntry(c, orgId, "secret.rotated", params.name));
      if (grants && !sameGrants(before.grants, grants)) {
        await c.var.audit.record(tx, auditEntry(c, orgId, "secret.grants_changed", params.name));
      }
      return updated;
    });
    if (!row) throw notFound("secret not found");
    return c.json({ secret: forDisplay(row) }, 200);
  })
  .openapi(deleteSecretRoute, async function deleteSecret(c) {
    const params = c.req.valid("param");
    const { orgId } = await requireSecretsAdmin(c.env, c.var.db, params.orgId, c.var.caller.userId);
    const row = await c.var.db.transaction(async (tx) => {
      const [deleted] = await tx
        .delete(secrets)
        .where(and(eq(secrets.orgId, orgId), eq(secrets.name, params.name)))
        .returning({ name: secrets.name });
      if (deleted) await c.var.audit.record(tx, auditEntry(c, orgId, "secret.deleted", deleted.name));
      return deleted;
    });
    if (!row) throw notFound("secret not found");
    return c.json({ removed: { name: row.name } }, 200);
  });

/** An audit entry about a secret, by name: never its value. */
function auditEntry(c: Context<AppEnv>, orgId: string, action: AuditAction, name: string) {
  return { orgId, actor: { type: "user" as const, id: c.var.caller.userId }, action, target: `secret:${name}` };
}

/** The same grants, whatever the order of the ids and repeats. */
function sameGrants(a: SecretGrants, b: SecretGrants): boolean {
  const ids = (list: string[] | undefined) => (list === undefined ? null : [...new Set(list)].sort().join(","));
  const chats = (g: SecretGrants) => (g.chats === "all" ? "all" : `[${ids(g.chats)}]`);
  return chats(a) === chats(b) && ids(a.agents) === ids(b.agents);
}

/** Admins only (403 for members, 404 for outsiders); then 503 while no key is configured. */
async function requireSecretsAdmin(env: Env, db: Database, orgId: string, userId: string) {
  const access = await requireOrgAdmin(db, orgId, userId);
  if (!secretsConfigured(env)) {
    throw unavailable("secrets are not configured on this server: set PARLOR_SECRETS_KEY (see README, Configuration)");
  }
  return access;
}

/** Grants may name only chats and agents of the same org. */
async function requireGrantsOf(db: Database, orgId: string, grants: SecretGrants): Promise<void> {
  const chatIds = grants.chats === "all" ? [] : [...new Set(grants.chats)];
  const agentIds = [...new Set(grants.agents ?? [])];
  if (chatIds.length > 0) {
    const found = await db
      .select({ id: chats.id })
      .from(chats)
      .where(and(eq(chats.orgId, orgId), inArray(chats.id, chatIds)));
    if (found.length !== chatIds.length) throw badRequest("grants.chats may name only chats of this org");
  }
  if (agentIds.length > 0) {
    const found = await db
      .select({ id: agents.id })
      .from(agents)
      .where(and(eq(agents.orgId, orgId), inArray(agents.id, agentIds)));
    if (found.length !== agentIds.length) throw badRequest("grants.agents may name only agents of this org");
  }
}

function forDisplay(row: {
  name: string;
  grants: SecretGrants;
  createdAt: Date;
  updatedAt: Date;
  lastUsedAt: Date | null;
}) {
  return {
    name: row.name,
    grants: row.grants,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}
