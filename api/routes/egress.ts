/**
 * An org's egress settings for the HTTP tool (org admins; members 403, others 404). Agents read them from Postgres
 * for every request they send (`agents/tools/egress-settings.ts`), so a change applies from the next call.
 */
import { eq } from "drizzle-orm";
import { egressBody, egressResponse } from "../../protocol/egress";
import { orgIdParams } from "../../protocol/orgs";
import { requireOrgAdmin } from "../access";
import { orgEgress } from "../db/schema";
import { authedRoute, jsonBody, jsonContent, router } from "../openapi";

const tags = ["egress"];
const columns = { allowHosts: orgEgress.allowHosts, denyHosts: orgEgress.denyHosts, allowPorts: orgEgress.allowPorts };

const getEgressRoute = authedRoute(
  {
    method: "get",
    path: "/{orgId}/egress",
    tags,
    summary: "Where the org's agents may send HTTP requests (org admins)",
    description:
      "`denyHosts` refuses matching hosts even where an agent's allow list names them; `allowHosts`, when not " +
      "empty, is an org-wide ceiling; `allowPorts` lifts the rule that only ports 80 and 443 are reached. Never set: " +
      "all three are empty.",
    request: { params: orgIdParams },
    responses: { 200: jsonContent(egressResponse, "The org's settings.") },
  },
  ["forbidden", "not_found"],
);
const putEgressRoute = authedRoute(
  {
    method: "put",
    path: "/{orgId}/egress",
    tags,
    summary: "Replace the org's egress settings (org admins)",
    description:
      "Hosts are lowercase names or `*.suffix` (every host below suffix), at most 100 in each list; ports 1-65535, " +
      "at most 20. Takes effect at the next request an agent sends.",
    request: { params: orgIdParams, body: jsonBody(egressBody) },
    responses: { 200: jsonContent(egressResponse, "The settings as stored.") },
  },
  ["forbidden", "not_found"],
);

const EMPTY = { allowHosts: [], denyHosts: [], allowPorts: [] };

export const egressRoutes = router()
  .openapi(getEgressRoute, async function getEgress(c) {
    const { orgId } = await requireOrgAdmin(c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
    const [row] = await c.var.db.select(columns).from(orgEgress).where(eq(orgEgress.orgId, orgId));
    return c.json({ egress: row ?? EMPTY }, 200);
  })
  .openapi(putEgressRoute, async function putEgress(c) {
    const { orgId } = await requireOrgAdmin(c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
    const { egress } = c.req.valid("json");
    const settings = {
      allowHosts: [...new Set(egress.allowHosts)],
      denyHosts: [...new Set(egress.denyHosts)],
      allowPorts: [...new Set(egress.allowPorts)].sort((a, b) => a - b),
    };
    const row = await c.var.db.transaction(async (tx) => {
      const [before] = await tx.select(columns).from(orgEgress).where(eq(orgEgress.orgId, orgId)).for("update");
      const [stored] = await tx
        .insert(orgEgress)
        .values({ orgId, ...settings })
        .onConflictDoUpdate({ target: orgEgress.orgId, set: { ...settings, updatedAt: new Date() } })
        .returning(columns);
      const unchanged = JSON.stringify(before ?? EMPTY) === JSON.stringify(stored);
      if (!unchanged) {
        await c.var.audit.record(tx, {
          orgId,
          actor: { type: "user", id: c.var.caller.userId },
          action: "egress.settings_changed",
          target: `egress:${orgId} allowHosts=${stored.allowHosts.length} denyHosts=${stored.denyHosts.length} allowPorts=${stored.allowPorts.join(",") || "none"}`,
        });
      }
      return stored;
    });
    return c.json({ egress: row }, 200);
  });
