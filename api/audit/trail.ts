/**
 * A request's audit trail: entries carry the request's id, and the orgs it wrote to get a checkpoint scheduled once
 * the response is on its way.
 */
import type { Tx } from "../memberships";
import { type AuditInput, appendAudit } from "./append";
import { scheduleCheckpoint } from "./checkpoint-keeper";

export type AuditTrail = {
  readonly requestId: string;
  record(tx: Tx, input: Omit<AuditInput, "requestId">): Promise<number | null>;
  /** Schedules checkpoints for the orgs written to; called once the response is sent. */
  settle(env: Env): Promise<void>;
};

export function auditTrail(requestId: string): AuditTrail {
  const orgs = new Set<string>();
  return {
    requestId,
    record(tx, input) {
      orgs.add(input.orgId);
      return appendAudit(tx, { ...input, requestId });
    },
    async settle(env) {
      for (const orgId of orgs) await scheduleCheckpoint(env, orgId);
    },
  };
}
