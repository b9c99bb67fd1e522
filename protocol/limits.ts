/**
 * Rate limits, from `PARLOR_RATE_LIMITS`: `off` (development only: no limits, for load tests) or JSON
 * `{ messages: { burst, perMinute }, agentRunsPerOrgPerMinute, egress: { perOrgPerMinute, perAgentPerMinute } }`.
 * Any field left out takes its default; a malformed value is logged and the defaults apply. Rooms (messages) and
 * agents (runs, egress) both read them from here, with the token-bucket arithmetic they share.
 */
import { z } from "zod";

const count = z.number().int().min(1).max(1_000_000);

export const rateLimitsSchema = z
  .object({
    messages: z.object({ burst: count.optional(), perMinute: count.optional() }).strict().optional(),
    agentRunsPerOrgPerMinute: count.optional(),
    egress: z.object({ perOrgPerMinute: count.optional(), perAgentPerMinute: count.optional() }).strict().optional(),
  })
  .strict();

export type BucketLimit = { burst: number; perMinute: number };

/** The effective limits; `null` means that limit is off. */
export type RateLimits = {
  messages: BucketLimit | null;
  agentRunsPerOrgPerMinute: number | null;
  egress: { perOrgPerMinute: number; perAgentPerMinute: number } | null;
};

export const DEFAULT_RATE_LIMITS = {
  messages: { burst: 20, perMinute: 120 },
  agentRunsPerOrgPerMinute: 60,
  egress: { perOrgPerMinute: 120, perAgentPerMinute: 30 },
} as const satisfies RateLimits;

export const NO_RATE_LIMITS: RateLimits = { messages: null, agentRunsPerOrgPerMinute: null, egress: null };

/** Reads the limits; `warn` hears why a value was ignored (`off` outside development, or malformed JSON). */
export function parseRateLimits(
  raw: string | undefined,
  parlorEnv: string | undefined,
  warn: (message: string) => void = console.warn,
): RateLimits {
  const defaults: RateLimits = structuredClone(DEFAULT_RATE_LIMITS);
  const value = raw?.trim();
  if (!value) return defaults;
  if (value === "off") {
    if (parlorEnv === "development") return NO_RATE_LIMITS;
    warn("PARLOR_RATE_LIMITS=off is for development only: ignored, the default limits apply");
    return defaults;
  }
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    warn("PARLOR_RATE_LIMITS is neither `off` nor JSON: ignored, the default limits apply");
    return defaults;
  }
  const parsed = rateLimitsSchema.safeParse(json);
  if (!parsed.success) {
    warn(`PARLOR_RATE_LIMITS is malformed (${parsed.error.issues[0]?.message}): ignored, the default limits apply`);
    return defaults;
  }
  const { messages, agentRunsPerOrgPerMinute, egress } = parsed.data;
  return {
    messages: { ...DEFAULT_RATE_LIMITS.messages, ...messages },
    agentRunsPerOrgPerMinute: agentRunsPerOrgPerMinute ?? DEFAULT_RATE_LIMITS.agentRunsPerOrgPerMinute,
    egress: { ...DEFAULT_RATE_LIMITS.egress, ...egress },
  };
}

/** What the Worker's environment holds (the variable is optional: unset means the defaults). */
export type RateLimitsEnv = { PARLOR_ENV?: string; PARLOR_RATE_LIMITS?: string };

const parsedByValue = new Map<string, RateLimits>();

/** The limits of this environment, parsed (and any warning logged) once per distinct value per isolate. */
export function rateLimitsOf(env: RateLimitsEnv): RateLimits {
  const key = `${env.PARLOR_ENV ?? ""}\u0000${env.PARLOR_RATE_LIMITS ?? ""}`;
  let limits = parsedByValue.get(key);
  if (!limits) {
    limits = parseRateLimits(env.PARLOR_RATE_LIMITS, env.PARLOR_ENV);
    parsedByValue.set(key, limits);
  }
  return limits;
}

/** A token bucket's state: `tokens` as of `at` (ms). */
export type Bucket = { tokens: number; at: number };

export type Take = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * Refills `bucket` (up to `burst`, at `perMinute` tokens a minute) as of `now`, then takes one token if there is
 * one. Returns the bucket's new state and the answer; a refusal says how long until a token is there.
 */
export function takeToken(bucket: Bucket | undefined, limit: BucketLimit, now: number): { bucket: Bucket; take: Take } {
  const perMs = limit.perMinute / 60_000;
  const elapsed = bucket ? Math.max(0, now - bucket.at) : 0;
  const tokens = bucket ? Math.min(limit.burst, bucket.tokens + elapsed * perMs) : limit.burst;
  if (tokens >= 1) return { bucket: { tokens: tokens - 1, at: now }, take: { ok: true } };
  return { bucket: { tokens, at: now }, take: { ok: false, retryAfterMs: Math.ceil((1 - tokens) / perMs) } };
}

/** Whole seconds to wait, rounded up (at least 1), for a `Retry-After` header or a message. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}
