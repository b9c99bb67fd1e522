/**
 * The org's shared counters: one small Durable Object per org (named by the org id), so a limit holds across all of
 * the org's rooms and agents. Each bucket is a token bucket of `perMinute` tokens, refilled at `perMinute` a minute,
 * kept in the object's SQLite so a restart does not hand out a fresh minute. Buckets: `runs:org:<orgId>` (agent
 * runs started), `egress:org:<orgId>` and `egress:agent:<agentId>` (the HTTP tool's requests).
 */
import { DurableObject } from "cloudflare:workers";
import { type Bucket, type RateLimits, rateLimitsOf, type Take, takeToken } from "../protocol/limits";

export class OrgLimiter extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, tokens REAL NOT NULL, at INTEGER NOT NULL)",
    );
  }

  /** Takes one token from `bucket`, or says how long until there is one. */
  take(bucket: string, perMinute: number): Take {
    return this.takeAll([{ bucket, perMinute }]);
  }

  /** Takes one token from every bucket named, or from none of them when one is empty. */
  takeAll(buckets: { bucket: string; perMinute: number }[]): Take {
    const now = Date.now();
    const taken = buckets.map(({ bucket, perMinute }) => ({
      name: bucket,
      ...takeToken(this.read(bucket), { burst: perMinute, perMinute }, now),
    }));
    const refused = taken.filter((t) => !t.take.ok);
    if (refused.length > 0) {
      const retryAfterMs = Math.max(...refused.map((t) => (t.take.ok ? 0 : t.take.retryAfterMs)));
      return { ok: false, retryAfterMs };
    }
    for (const { name, bucket } of taken) {
      this.ctx.storage.sql.exec(
        "INSERT INTO buckets (name, tokens, at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET tokens = excluded.tokens, at = excluded.at",
        name,
        bucket.tokens,
        bucket.at,
      );
    }
    return { ok: true };
  }

  private read(name: string): Bucket | undefined {
    return this.ctx.storage.sql
      .exec<{ tokens: number; at: number }>("SELECT tokens, at FROM buckets WHERE name = ?", name)
      .toArray()[0];
  }
}

function limiterOf(env: Env, orgId: string): DurableObjectStub<OrgLimiter> {
  return (env.OrgLimiter as DurableObjectNamespace<OrgLimiter>).getByName(orgId);
}

/** A run about to start takes one of the org's runs this minute; null when it may start, else why not. */
export async function takeAgentRun(env: Env, orgId: string, limits: RateLimits = rateLimitsOf(env)) {
  const perMinute = limits.agentRunsPerOrgPerMinute;
  if (perMinute === null) return null;
  const take = await limiterOf(env, orgId).take(`runs:org:${orgId}`, perMinute);
  return take.ok ? null : take;
}

/**
 * For the HTTP tool: one request of the org's and of this agent's egress this minute, both or neither.
 * `{ ok: false, retryAfterMs }` means the request must not be sent.
 */
export async function takeEgress(env: Env, orgId: string, agentId: string, limits: RateLimits): Promise<Take> {
  if (!limits.egress) return { ok: true };
  return await limiterOf(env, orgId).takeAll([
    { bucket: `egress:org:${orgId}`, perMinute: limits.egress.perOrgPerMinute },
    { bucket: `egress:agent:${agentId}`, perMinute: limits.egress.perAgentPerMinute },
  ]);
}
