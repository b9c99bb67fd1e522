/**
 * What this session's guards add to one message, measured in this process on the code the room runs: the member's
 * rate-limit check (every message), the billing check (only messages that wake an agent), and the audit writes an
 * accepted message causes (none: only refusals, decisions and admin actions are audited).
 */
import { type RoomBilling, runRefusal } from "../billing/allowance.ts";
import { type Bucket, takeToken } from "../protocol/limits.ts";

export type Overheads = { rateLimitNs: number; billingCheckNs: number; auditRowsPerMessage: number };

const ROUNDS = 2_000_000;

function nsPerCall(run: (i: number) => unknown): number {
  for (let i = 0; i < 100_000; i++) run(i); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) run(i);
  return Number(process.hrtime.bigint() - start) / ROUNDS;
}

export function measureOverheads(): Overheads {
  // 30 members, each with a bucket, as in the throughput runs; a limit no one reaches.
  const buckets = new Map<string, Bucket>();
  const members = Array.from({ length: 30 }, (_, i) => `member-${i}`);
  const limit = { burst: 1_000_000, perMinute: 1_000_000 };
  const rateLimitNs = nsPerCall((i) => {
    const member = members[i % members.length];
    const { bucket } = takeToken(buckets.get(member), limit, Date.now());
    buckets.set(member, bucket);
  });
  const billing: RoomBilling = {
    version: 1,
    status: "active",
    lapsedFrom: null,
    periodEnd: Date.now() + 86_400_000,
    quotas: { agentRunsPerPeriod: 1_000_000, tokensPerPeriod: 1_000_000_000 },
    used: { agentRuns: 10, tokens: 1_000 },
    members: {
      "member-3": { limits: { agentRunsPerPeriod: 100, tokensPerPeriod: null }, used: { agentRuns: 1, tokens: 0 } },
    },
  };
  const unreported = { org: { agentRuns: 2, tokens: 300 }, member: () => ({ agentRuns: 0, tokens: 0 }) };
  const billingCheckNs = nsPerCall((i) => runRefusal(billing, unreported, members[i % members.length], Date.now()));
  return { rateLimitNs, billingCheckNs, auditRowsPerMessage: 0 };
}
