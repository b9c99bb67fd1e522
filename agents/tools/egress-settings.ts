/**
 * An org's egress settings (`/api/orgs/:orgId/egress`), read fresh from Postgres for every request the HTTP tool
 * sends (no cache: a host denied now is denied from the next call).
 */
import { eq } from "drizzle-orm";
import { orgEgress } from "../../api/db/schema";
import { readDatabase } from "../database";
import type { OrgEgress } from "./egress";

export const NO_ORG_EGRESS: OrgEgress = { allowHosts: [], denyHosts: [], allowPorts: [] };

export async function loadOrgEgress(env: Env, orgId: string): Promise<OrgEgress> {
  const [row] = await readDatabase(env, (db) =>
    db
      .select({ allowHosts: orgEgress.allowHosts, denyHosts: orgEgress.denyHosts, allowPorts: orgEgress.allowPorts })
      .from(orgEgress)
      .where(eq(orgEgress.orgId, orgId)),
  );
  return row ?? NO_ORG_EGRESS;
}
