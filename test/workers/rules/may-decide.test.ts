import { describe, expect, it } from "vitest";
import type { Approval } from "../../../protocol/agents";
import { mayDecide } from "../../../rooms/approvals";

function approval(approvers: Approval["approvers"]): Approval {
  return {
    approvalId: "a1",
    runId: "r1",
    agentId: "agent",
    toolCallId: "call_1",
    method: "POST",
    url: "https://api.example.com/items",
    headers: {},
    body: null,
    approvers,
    initiator: "ana",
    status: "pending",
    decidedBy: null,
    expiresAt: "2030-01-01T00:00:00.000Z",
    createdAt: "2029-12-31T23:50:00.000Z",
  };
}

describe("who may decide an approval", () => {
  it("by default only the member whose message started the run, whatever anyone's role", () => {
    const byInitiator = approval("initiator");
    expect(mayDecide(byInitiator, { userId: "ana", role: "member" })).toBe(true);
    expect(mayDecide(byInitiator, { userId: "ana" })).toBe(true);
    expect(mayDecide(byInitiator, { userId: "bo", role: "admin" })).toBe(false);
    expect(mayDecide(byInitiator, { userId: "bo", role: "member" })).toBe(false);
  });

  it("an admins-only approval takes an org admin, and the initiator is no exception", () => {
    const byAdmins = approval("admins");
    expect(mayDecide(byAdmins, { userId: "bo", role: "admin" })).toBe(true);
    expect(mayDecide(byAdmins, { userId: "ana", role: "member" })).toBe(false);
    // A decider whose role is unknown is not taken for an admin.
    expect(mayDecide(byAdmins, { userId: "bo" })).toBe(false);
  });

  it("a members approval may be decided by anyone in the chat", () => {
    const byMembers = approval("members");
    expect(mayDecide(byMembers, { userId: "bo", role: "member" })).toBe(true);
    expect(mayDecide(byMembers, { userId: "cy" })).toBe(true);
  });
});
