/**
 * Every closed set of values that crosses a boundary, defined once. The zod schemas in protocol/ and the drizzle
 * `pgEnum`s in `api/db/schema.ts` both read these tuples, so a value cannot be added in one place only.
 */
export const ORG_ROLES = ["admin", "member"] as const;
export const AGENT_TRIGGERS = ["mention", "always"] as const;
export const AUTHOR_TYPES = ["user", "agent", "system"] as const;
export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;
export const APPROVERS = ["initiator", "members", "admins"] as const;
/** What a member sends to decide an approval. */
export const DECISIONS = ["approve", "deny"] as const;
/** How an approval ended. */
export const APPROVAL_OUTCOMES = ["approved", "denied", "expired"] as const;
export const APPROVAL_STATUSES = ["pending", ...APPROVAL_OUTCOMES] as const;
export const TOOL_STATUSES = ["running", "waiting_approval", "done", "denied", "failed"] as const;
export const RUN_STATUSES = ["running", "waiting_approval", "done", "failed"] as const;
/** An org's billing state, as Parlor keeps it (Stripe's other statuses map onto these: `billing/stripe-events.ts`). */
export const BILLING_STATUSES = ["active", "trialing", "past_due", "unpaid", "canceled", "none"] as const;
/** Why a run a message would have started was not started. */
export const RUN_REFUSALS = ["billing_lapsed", "quota_exceeded"] as const;

/** One code per meaning, with its HTTP status: REST errors and socket error events carry the same codes. */
export const ERROR_STATUS = {
  bad_request: 400,
  unauthenticated: 401,
  billing_lapsed: 402,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  backup_corrupt: 422,
  rate_limited: 429,
  quota_exceeded: 429,
  internal: 500,
  unavailable: 503,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];
