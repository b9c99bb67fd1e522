/**
 * The audit log in the contract: a closed list of actions, who did them, and what came of it. Entries are
 * hash-chained per org (`prevHash` → `hash`) over their RFC 8785 encoding, with `at` in milliseconds.
 */
import { z } from "zod";
import { decimalParam, timestamp } from "./primitives";

export const AUDIT_ACTIONS = [
  "org.created",
  "org.renamed",
  "org.deleted",
  "member.added",
  "member.role_changed",
  "member.removed",
  "member.left",
  "member.limits_changed",
  "chat.created",
  "chat.member_added",
  "chat.member_removed",
  "agent.created",
  "agent.updated",
  "agent.deleted",
  "chat.agent_added",
  "chat.agent_removed",
  "secret.created",
  "secret.rotated",
  "secret.grants_changed",
  "secret.deleted",
  "secret.used",
  "secret.refused",
  "approval.approved",
  "approval.denied",
  "approval.expired",
  "approval.voted",
  "egress.refused",
  "egress.settings_changed",
  "billing.status_changed",
  "billing.checkout_started",
  "run.refused",
  "run.stopped_by_admin",
  "backup.created",
  "chat.restored",
  "message.edited",
  "message.deleted",
  "chat.summaries_rebuilt",
  "chat.renamed",
  "chat.archived",
  "chat.unarchived",
  "chat.deleted",
  "chat.undeleted",
  "chat.purged",
  "marketplace.submitted",
  "marketplace.approved",
  "marketplace.rejected",
  "marketplace.taken_down",
  "marketplace.reported",
  "marketplace.installed",
  "marketplace.install_updated",
  "member.invited",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_ACTOR_TYPES = ["user", "agent", "system"] as const;
export const AUDIT_OUTCOMES = ["success", "refused"] as const;

export const auditActionSchema = z.enum(AUDIT_ACTIONS);
export const auditActorSchema = z
  .object({ type: z.enum(AUDIT_ACTOR_TYPES), id: z.string() })
  .meta({ id: "AuditActor" });
export type AuditActor = z.infer<typeof auditActorSchema>;

export const auditEntrySchema = z
  .object({
    seq: z.number().int().min(1),
    at: timestamp,
    actor: auditActorSchema,
    action: auditActionSchema,
    /** What was acted on, as `kind:id` (`chat:…`, `user:…`, `secret:NAME`, `run:…`), sometimes with a reason. */
    target: z.string(),
    requestId: z.string().nullable(),
    outcome: z.enum(AUDIT_OUTCOMES),
    /** Repeated refusals of one actor for one reason are written once a minute, with how many there were. */
    count: z.number().int().min(1),
    prevHash: z.string(),
    hash: z.string(),
  })
  .meta({ id: "AuditEntry" });
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export const auditQuery = z.object({
  before: decimalParam({ min: 1 }).optional(),
  limit: decimalParam({ min: 1, max: 500 }).optional(),
  action: auditActionSchema.optional(),
});
export const auditResponse = z.object({ entries: z.array(auditEntrySchema) });
export const auditVerifyResponse = z
  .object({
    ok: z.boolean(),
    /** Entries checked. */
    entries: z.number().int().min(0),
    /** The seq of the first entry that fails, or null. */
    firstBad: z.number().int().nullable(),
    /** What failed, in words, or null. */
    problem: z.string().nullable(),
    /** The newest signed checkpoint (its seq), or null when there is none yet; entries after it are not covered. */
    checkpoint: z.number().int().nullable(),
  })
  .meta({ id: "AuditVerification" });
