/** REST bodies and answers for sign-in, orgs, their members and their chats. */
import { z } from "zod";
import { ORG_ROLES } from "./enums";
import { displayName, timestamp, userId, uuid, writtenText } from "./primitives";
import { chatReadingFields } from "./reading";

export const orgRole = z.enum(ORG_ROLES);
export type OrgRole = z.infer<typeof orgRole>;

/** One dependency's probe: whether it answered, and how long it took (milliseconds, up to the deadline). */
const healthProbe = z.object({ ok: z.boolean(), ms: z.number().int().nonnegative() });
/** `GET /api/health`: 200 when the database and a probe room answer, 503 (same shape) when either does not. */
export const healthResponse = z.object({ ok: z.boolean(), database: healthProbe, room: healthProbe });
export const configResponse = z
  .object({
    /** Clerk's publishable key when production sign-in is configured; null under development sign-in. */
    clerkPublishableKey: z.string().nullable(),
    /** Whether `POST /api/dev/token` answers here. */
    devSignIn: z.boolean(),
  })
  .meta({ id: "Config" });

export const devTokenBody = z.object({ userId, name: displayName.optional() });
export const devTokenResponse = z.object({ token: z.string() });

export const createOrgBody = z.object({ name: displayName });
export const createdResponse = z.object({ id: uuid });
export const orgSchema = z
  .object({ id: uuid, name: z.string(), role: orgRole, createdAt: timestamp })
  .meta({ id: "Org" });
/** An org in the caller's list, with how many messages wait unread across its chats the caller is in. */
export const orgListItemSchema = orgSchema
  .extend({
    /**
     * Unread messages summed over the caller's chats of the org that are neither archived nor deleted; it trails
     * live messages by up to a batch, as each chat's `unread` does (`reading.ts`).
     */
    unread: z.number().int().nonnegative(),
  })
  .meta({ id: "OrgListItem" });
export const orgsResponse = z.object({ orgs: z.array(orgListItemSchema) });

export const orgMemberSchema = z.object({ userId, name: z.string(), role: orgRole }).meta({ id: "OrgMember" });
export const orgMembersResponse = z.object({ members: z.array(orgMemberSchema) });
export const addOrgMemberBody = z.object({ userId, role: orgRole.default("member") });
export const addOrgMemberResponse = z.object({
  member: z.object({ userId, role: orgRole }),
  /** Present (true) when the change went to Clerk and arrives with its webhook. */
  pending: z.literal(true).optional(),
});
export const removeOrgMemberBody = z.object({ userId });
export const removeOrgMemberResponse = z.object({
  removed: z.object({ userId }),
  /** The chats of the org they were removed from (development mode). */
  chats: z.array(uuid).optional(),
  pending: z.literal(true).optional(),
});

export const chatTitle = writtenText({ maxChars: 200, trim: true });
export const createChatBody = z.object({ title: chatTitle });
export const chatSchema = z
  .object({
    id: uuid,
    title: z.string(),
    createdBy: z.string(),
    createdAt: timestamp,
    /** Archived chats are read-only; `GET …/chats` lists them only with `include=archived`. */
    archived: z.boolean(),
  })
  .meta({ id: "Chat" });
/** A chat in the caller's list, with how far it has got and how far they have read it (`reading.ts`). */
export const chatListItemSchema = chatSchema.extend(chatReadingFields).meta({ id: "ChatListItem" });
export const chatsResponse = z.object({ chats: z.array(chatListItemSchema) });

export const chatMemberBody = z.object({ userId });
export const chatMemberSchema = z.object({ userId, name: z.string() }).meta({ id: "ChatMember" });
export const chatMembersResponse = z.object({ members: z.array(chatMemberSchema) });
export const addChatMemberResponse = z.object({ member: z.object({ userId }) });
export const removeChatMemberResponse = z.object({ removed: z.object({ userId }) });

export const orgIdParams = z.object({ orgId: z.string() });
export const chatIdParams = z.object({ chatId: z.string() });
