/**
 * `npm run audit:verify -- --org ORG_ID --token TOKEN [--url http://localhost:8787]`: asks Parlor to check an org's
 * audit chain and its newest signed checkpoint (`GET /api/orgs/:orgId/audit/verify`, as an org admin) and prints the
 * answer; exits 1 when the chain is broken, naming the first bad entry. `PARLOR_TOKEN` may stand in for `--token`.
 */
import { parseArgs } from "node:util";
import { parlorClient } from "../api/client.ts";

const { values } = parseArgs({
  options: {
    org: { type: "string" },
    token: { type: "string", default: process.env.PARLOR_TOKEN },
    url: { type: "string", default: `http://localhost:${process.env.PORT ?? 8787}` },
  },
});
if (!values.org || !values.token) {
  console.error("usage: npm run audit:verify -- --org ORG_ID --token SESSION_TOKEN_OF_AN_ORG_ADMIN [--url URL]");
  process.exit(2);
}
const client = parlorClient(values.url, { headers: { Authorization: `Bearer ${values.token}` } });
const answer = await client.api.orgs[":orgId"].audit.verify.$get({ param: { orgId: values.org } });
if (answer.status !== 200) {
  console.error(`${answer.status} ${await answer.text()}`);
  process.exit(2);
}
const result = await answer.json();
if (result.ok) {
  const covered = result.checkpoint === null ? "no signed checkpoint yet" : `signed checkpoint at ${result.checkpoint}`;
  console.log(`ok: ${result.entries} entries chained; ${covered} (entries after it are covered by the chain alone)`);
} else {
  console.log(`BROKEN at entry ${result.firstBad}: ${result.problem}`);
}
process.exit(result.ok ? 0 : 1);
