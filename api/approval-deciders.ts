/**
 * Who could decide a chat's approvals, read from Postgres: its members with their org role and name (for the GET
 * listing's `waitingFor` and the room's reminders), and the check that a policy's named approvers are org members.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { AgentTools } from "../protocol/agents";
import type { Database } from "./db/client";
import { chatMemberships, orgMemberships, users } from "./db/schema";
import { badRequest } from "./errors";

export type ChatDecider = { userId: string; role: "admin" | "member"; name: string };

export async function chatDeciders(db: Database, chatId: string): Promise<ChatDecider[]> {
  return await db
    .select({ userId: chatMemberships.userId, role: orgMemberships.role, name: users.name })
    .from(chatMemberships)
    .innerJoin(
      orgMemberships,
      and(eq(orgMemberships.orgId, chatMemberships.orgId), eq(orgMemberships.userId, chatMemberships.userId)),
    )
    .innerJoin(users, eq(users.id, chatMemberships.userId))
    .where(eq(chatMemberships.chatId, chatId))
    .orderBy(chatMemberships.createdAt, chatMemberships.userId);
}

/** A policy naming approvers may name only members of the agent's org: anyone else is a 400, naming them. */
export async function requireNamedApproversInOrg(db: Database, orgId: string, tools: AgentTools | undefined) {
  const approvers = tools?.http?.approval?.approvers;
  if (typeof approvers !== "object") return;
  const found = await db
    .select({ userId: orgMemberships.userId })
    .from(orgMemberships)
    .where(and(eq(orgMemberships.orgId, orgId), inArray(orgMemberships.userId, approvers.users)));
  const members = new Set(found.map((row) => row.userId));
  const strangers = approvers.users.filter((user) => !members.has(user));
  if (strangers.length > 0) {
    throw badRequest(`tools.http.approval.approvers.users: not members of this org: ${strangers.join(", ")}`);
  }
}
