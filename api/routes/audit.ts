/** An org's audit log (org admins): read newest first, filtered and paged, and its chain verified. */
import { and, desc, eq, lt } from "drizzle-orm";
import { type AuditEntry, auditQuery, auditResponse, auditVerifyResponse } from "../../protocol/audit";
import { orgIdParams } from "../../protocol/orgs";
import { requireOrgAdmin } from "../access";
import { verifyAudit } from "../audit/verify";
import { auditEntries } from "../db/schema";
import { authedRoute, jsonContent, router } from "../openapi";

const tags = ["audit"];
const DEFAULT_PAGE = 100;

const listAuditRoute = authedRoute(
  {
    method: "get",
    path: "/{orgId}/audit",
    tags,
    summary: "The org's audit log, newest first (org admins)",
    description: "`before=SEQ` pages back; `limit` 1-500 (default 100); `action` keeps one action.",
    request: { params: orgIdParams, query: auditQuery },
    responses: { 200: jsonContent(auditResponse, "Entries, newest first.") },
  },
  ["forbidden", "not_found"],
);
const verifyAuditRoute = authedRoute(
  {
    method: "get",
    path: "/{orgId}/audit/verify",
    tags,
    summary: "Check the org's audit chain and its newest signed checkpoint (org admins)",
    request: { params: orgIdParams },
    responses: { 200: jsonContent(auditVerifyResponse, "`ok`, or the first entry that fails and why.") },
  },
  ["forbidden", "not_found"],
);

export const auditRoutes = router()
  .openapi(listAuditRoute, async function listAudit(c) {
    const { orgId } = await requireOrgAdmin(c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
    const { before, limit = DEFAULT_PAGE, action } = c.req.valid("query");
    const rows = await c.var.db
      .select()
      .from(auditEntries)
      .where(
        and(
          eq(auditEntries.orgId, orgId),
          before === undefined ? undefined : lt(auditEntries.seq, before),
          action === undefined ? undefined : eq(auditEntries.action, action),
        ),
      )
      .orderBy(desc(auditEntries.seq))
      .limit(limit);
    const entries = rows.map(
      (row): AuditEntry => ({
        seq: row.seq,
        at: row.at.toISOString(),
        actor: { type: row.actorType as AuditEntry["actor"]["type"], id: row.actorId },
        action: row.action as AuditEntry["action"],
        target: row.target,
        requestId: row.requestId,
        outcome: row.outcome as AuditEntry["outcome"],
        count: row.count,
        prevHash: row.prevHash,
        hash: row.hash,
      }),
    );
    return c.json({ entries }, 200);
  })
  .openapi(verifyAuditRoute, async function verifyAuditChain(c) {
    const { orgId } = await requireOrgAdmin(c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
    return c.json(await verifyAudit(c.env, c.var.db, orgId), 200);
  });
