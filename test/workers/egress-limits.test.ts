/** The HTTP tool's rate limits: one bucket per org and one per agent, in the org's limiter, taken together. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { takeEgress } from "../../agents/org-limiter";
import { NO_RATE_LIMITS, type RateLimits } from "../../protocol/limits";

const limits: RateLimits = { ...NO_RATE_LIMITS, egress: { perOrgPerMinute: 3, perAgentPerMinute: 2 } };

describe("egress rate limits", () => {
  it("an agent over its own rate is refused, another agent goes on until the org's rate is spent", async () => {
    const orgId = crypto.randomUUID();
    const [a, b] = [crypto.randomUUID(), crypto.randomUUID()];
    expect(await takeEgress(env, orgId, a, limits)).toEqual({ ok: true });
    expect(await takeEgress(env, orgId, a, limits)).toEqual({ ok: true });
    const refused = await takeEgress(env, orgId, a, limits);
    expect(refused).toMatchObject({ ok: false });
    expect(refused.ok === false && refused.retryAfterMs).toBeGreaterThan(0);
    // The refusal took nothing from the org: b still has the org's third request.
    expect(await takeEgress(env, orgId, b, limits)).toEqual({ ok: true });
    expect(await takeEgress(env, orgId, b, limits)).toMatchObject({ ok: false });
    // Another org is not affected; limits off take nothing.
    expect(await takeEgress(env, crypto.randomUUID(), a, limits)).toEqual({ ok: true });
    expect(await takeEgress(env, orgId, a, NO_RATE_LIMITS)).toEqual({ ok: true });
  });
});
