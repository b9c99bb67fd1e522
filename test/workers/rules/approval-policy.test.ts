import { describe, expect, it } from "vitest";
import { approvalPolicy, mayDecide, waitingFor } from "../../../protocol/approval-policy";

const members = [
  { userId: "ana", role: "member" as const },
  { userId: "bo", role: "admin" as const },
  { userId: "cy", role: "member" as const },
];

describe("approval policies", () => {
  it("a named list lets only those people decide, the initiator and admins included", () => {
    const named = { approvers: { users: ["cy"] }, initiator: "ana" };
    expect(mayDecide(named, { userId: "cy", role: "member" })).toBe(true);
    expect(mayDecide(named, { userId: "ana", role: "member" })).toBe(false);
    expect(mayDecide(named, { userId: "bo", role: "admin" })).toBe(false);
  });

  it("who is still waited for: those allowed who have not voted, and nobody once decided", () => {
    const vote = { by: "ana", decision: "approve" as const, at: "2030-01-01T00:00:00.000Z" };
    const pending = { approvers: "members" as const, initiator: "ana", status: "pending", votes: [vote] };
    expect(waitingFor(pending, members)).toEqual(["bo", "cy"]);
    expect(waitingFor({ ...pending, approvers: "admins" }, members)).toEqual(["bo"]);
    expect(waitingFor({ ...pending, status: "approved" }, members)).toEqual([]);
  });

  it("a quorum that can never be met is refused; today's policies parse as before", () => {
    expect(approvalPolicy.safeParse({ approvers: "initiator", quorum: 2 }).success).toBe(false);
    expect(approvalPolicy.safeParse({ approvers: { users: ["ana"] }, quorum: 2 }).success).toBe(false);
    expect(approvalPolicy.safeParse({ approvers: { users: ["ana", "ana"] } }).success).toBe(false);
    expect(approvalPolicy.safeParse({ approvers: { users: [] } }).success).toBe(false);
    expect(approvalPolicy.parse({ approvers: { users: ["ana", "bo"] }, quorum: 2, onExpiry: "wait" })).toEqual({
      approvers: { users: ["ana", "bo"] },
      quorum: 2,
      onExpiry: "wait",
      timeoutSeconds: 600,
    });
    expect(approvalPolicy.parse({ approvers: "members" })).toEqual({ approvers: "members", timeoutSeconds: 600 });
  });
});
