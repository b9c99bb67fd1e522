import { describe, expect, it } from "vitest";
import { stillWaitingFor } from "../../../web/src/approval-waiting";

const vote = (by: string) => ({ by, decision: "approve" as const, at: "2030-01-01T00:00:00.000Z" });

describe("who an approval card says it still waits for", () => {
  it("a member who votes after the reminder leaves the reminder's list", () => {
    const approval = { approvers: "members" as const, initiator: "ana", votes: [vote("bo")] };
    expect(stillWaitingFor({ ...approval, reminder: { waitingFor: ["bo", "cy"] } })).toEqual(["cy"]);
  });

  it("before a reminder: named voters who have not voted, or nobody known for members and admins", () => {
    const named = { approvers: { users: ["bo", "cy"] }, initiator: "ana", votes: [vote("cy")], reminder: null };
    expect(stillWaitingFor(named)).toEqual(["bo"]);
    expect(stillWaitingFor({ ...named, approvers: "initiator", votes: [] })).toEqual(["ana"]);
    expect(stillWaitingFor({ ...named, approvers: "admins" })).toBeNull();
  });
});
