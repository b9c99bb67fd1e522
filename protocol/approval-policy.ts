/**
 * Who may decide a tool call, how many must agree, and what happens when nobody does in time: the approval policy
 * of `tools.http.approval`, the votes members cast under it, and the pure rules over both. The room, the API and the
 * web client read these; nothing redefines them.
 */
import { z } from "zod";
import { APPROVERS, DECISIONS } from "./enums";
import { timestamp, userId } from "./primitives";

/** What expiry does: end it denied (as before quorums), or keep it pending with a notice in the chat. */
export const APPROVAL_EXPIRY = ["deny", "wait"] as const;
/** A quorum past this is a typo, not a policy; a named list is short for the same reason. */
export const MAX_QUORUM = 20;
export const MAX_NAMED_APPROVERS = 50;
/** A reminder goes out when this share of the time to decide has passed. */
export const REMIND_AT_SHARE = 0.8;

export const approverSet = z.union([
  z.enum(APPROVERS),
  z.object({ users: z.array(userId).min(1).max(MAX_NAMED_APPROVERS) }).strict(),
]);
export type ApproverSet = z.infer<typeof approverSet>;

export const approvalPolicy = z
  .object({
    approvers: approverSet.default("initiator"),
    quorum: z.number().int().min(1).max(MAX_QUORUM).optional(),
    timeoutSeconds: z.number().int().min(10).max(86_400).default(600),
    onExpiry: z.enum(APPROVAL_EXPIRY).optional(),
  })
  .superRefine((policy, ctx) => {
    const quorum = policy.quorum ?? 1;
    if (policy.approvers === "initiator" && quorum > 1) {
      ctx.addIssue({
        code: "custom",
        path: ["quorum"],
        message: "quorum: only one person (the initiator) may decide, so the quorum can only be 1",
      });
    }
    if (typeof policy.approvers === "object") {
      const named = new Set(policy.approvers.users);
      if (named.size !== policy.approvers.users.length) {
        ctx.addIssue({ code: "custom", path: ["approvers", "users"], message: "approvers.users names someone twice" });
      }
      if (quorum > named.size) {
        ctx.addIssue({
          code: "custom",
          path: ["quorum"],
          message: `quorum: ${quorum} approvals can never come from ${named.size} named approver(s)`,
        });
      }
    }
  });
export type ApprovalPolicy = z.infer<typeof approvalPolicy>;

export const approvalVote = z
  .object({ by: z.string(), decision: z.enum(DECISIONS), at: timestamp })
  .meta({ id: "ApprovalVote" });
export type ApprovalVote = z.infer<typeof approvalVote>;

export const approvalVoteEvent = z.object({
  type: z.literal("approval.vote"),
  approvalId: z.string(),
  by: z.string(),
  decision: z.enum(DECISIONS),
  /** Approving votes so far, this one included. */
  votes: z.number().int().min(0),
  /** Approving votes the policy needs (its quorum). */
  needed: z.number().int().min(1),
});

export const approvalReminderEvent = z.object({
  type: z.literal("approval.reminder"),
  approvalId: z.string(),
  expiresAt: timestamp,
  /** The members who may still decide (they have not voted). */
  waitingFor: z.array(z.string()),
});

export type Decider = { userId: string; role?: "admin" | "member" };

/** Whether this person may decide, by the tool's policy: by default only the member whose message started the run. */
export function mayDecide(approval: { approvers: ApproverSet; initiator: string }, decider: Decider): boolean {
  const { approvers } = approval;
  if (typeof approvers === "object") return approvers.users.includes(decider.userId);
  if (approvers === "members") return true;
  if (approvers === "admins") return decider.role === "admin";
  return decider.userId === approval.initiator;
}

/** Of `members`, those the policy lets decide who have not voted yet; nobody once it is decided. */
export function waitingFor(
  approval: { approvers: ApproverSet; initiator: string; status: string; votes: ApprovalVote[] },
  members: Decider[],
): string[] {
  if (approval.status !== "pending") return [];
  const voted = new Set(approval.votes.map((vote) => vote.by));
  return members.filter((m) => !voted.has(m.userId) && mayDecide(approval, m)).map((m) => m.userId);
}
