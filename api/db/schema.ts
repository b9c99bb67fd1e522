/** The Postgres schema: who may do what. Chat content lives in each chat's room, never here. */
import {
  bigint,
  foreignKey,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from "drizzle-orm/pg-core";
import type { AgentTools } from "../../protocol/agents";
import { AGENT_TRIGGERS, BILLING_STATUSES, ORG_ROLES } from "../../protocol/enums";
import type { ListingDefinition } from "../../protocol/marketplace";
import type { SecretGrants } from "../../protocol/secrets";

export const orgRole = pgEnum("org_role", ORG_ROLES);

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

/** A person, keyed by their Clerk user id (`sub` of the session token). */
export const users = pgTable("users", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: createdAt(),
});

export const orgs = pgTable("orgs", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  /** The Clerk organization this org mirrors, when Clerk manages memberships (production). */
  clerkOrgId: text("clerk_org_id").unique(),
  /** Null for an org made in Clerk's dashboard, whose creator Parlor does not know. */
  createdBy: text("created_by").references(() => users.id),
  createdAt: createdAt(),
  /** The timestamp of the Clerk `organization.*` event that last wrote this row: an older event arriving late loses. */
  clerkVersion: bigint("clerk_version", { mode: "number" }),
  /**
   * Set when Clerk reports the organization deleted: the org is a tombstone, hidden from everyone (404) and kept
   * for 30 days (purging is not built yet).
   */
  deletedAt: timestamp("deleted_at", { withTimezone: true }),
});

export const orgMemberships = pgTable(
  "org_memberships",
  {
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: orgRole("role").notNull().default("member"),
    /** The timestamp of the Clerk event that last wrote this row: an older event arriving late is ignored. */
    clerkVersion: bigint("clerk_version", { mode: "number" }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.userId] }), index("org_memberships_by_user").on(t.userId)],
);

/** Clerk memberships that were deleted, and as of which event: a late "created" for them is ignored. */
export const clerkMembershipRemovals = pgTable(
  "clerk_membership_removals",
  {
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
    clerkVersion: bigint("clerk_version", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.userId] })],
);

export const chats = pgTable(
  "chats",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    createdBy: text("created_by")
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    /** Set while the chat is archived: read-only, and left out of chat lists unless asked for. */
    archivedAt: timestamp("archived_at", { withTimezone: true }),
    /** Set when an admin deletes the chat: a tombstone (404 to everyone) until `purgeAt`, when the room purges it. */
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
    deletedBy: text("deleted_by"),
    purgeAt: timestamp("purge_at", { withTimezone: true }),
    /** Bumped by every rename, archive and deletion: the room keeps the newest state it is told (pushes may cross). */
    revision: integer("revision").notNull().default(0),
    /** The newest message's seq and time, as the room last sent them (in batches: `rooms/chat-activity.ts`). */
    lastSeq: integer("last_seq").notNull().default(0),
    lastActivityAt: timestamp("last_activity_at", { withTimezone: true }),
  },
  (t) => [index("chats_by_org").on(t.orgId, t.createdAt)],
);

/**
 * A chat member is always a member of the chat's org: the composite foreign key removes chat memberships
 * when the org membership goes, so nobody keeps a chat after leaving the org.
 */
export const chatMemberships = pgTable(
  "chat_memberships",
  {
    chatId: uuid("chat_id")
      .notNull()
      .references(() => chats.id, { onDelete: "cascade" }),
    orgId: uuid("org_id").notNull(),
    userId: text("user_id").notNull(),
    createdAt: createdAt(),
    /** The member's read cursor: the seq they have read up to (only ever moves forward). */
    readSeq: integer("read_seq").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.chatId, t.userId] }),
    foreignKey({
      name: "chat_memberships_org_member_fk",
      columns: [t.orgId, t.userId],
      foreignColumns: [orgMemberships.orgId, orgMemberships.userId],
    }).onDelete("cascade"),
    index("chat_memberships_by_user").on(t.userId, t.orgId),
  ],
);

export const agentTrigger = pgEnum("agent_trigger", AGENT_TRIGGERS);

/** An org's agent: who it is, how it thinks, which tools it may use. Admins write these. */
export const agents = pgTable(
  "agents",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    handle: text("handle").notNull(),
    systemPrompt: text("system_prompt").notNull().default(""),
    model: text("model"),
    trigger: agentTrigger("trigger").notNull().default("mention"),
    tools: jsonb("tools").$type<AgentTools>().notNull().default({}),
    createdBy: text("created_by")
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("agents_handle_per_org").on(t.orgId, t.handle)],
);

/** Which agents sit in which chat. */
export const chatAgents = pgTable(
  "chat_agents",
  {
    chatId: uuid("chat_id")
      .notNull()
      .references(() => chats.id, { onDelete: "cascade" }),
    agentId: uuid("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    addedBy: text("added_by").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.chatId, t.agentId] }), index("chat_agents_by_agent").on(t.agentId)],
);

/**
 * An org's secrets: each value sealed with AES-GCM (`api/db/secret-values.ts`) under the key named by `keyId`, so
 * old keys can still open it after a rotation. `grants` says which chats and agents may use it.
 */
export const secrets = pgTable(
  "secrets",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    grants: jsonb("grants").$type<SecretGrants>().notNull(),
    keyId: text("key_id").notNull(),
    /** Base64 of the 12-byte nonce and of the ciphertext with its tag. */
    iv: text("iv").notNull(),
    ciphertext: text("ciphertext").notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  },
  (t) => [unique("secrets_name_per_org").on(t.orgId, t.name)],
);

/**
 * Rooms that must still be told a member was removed. Written in the transaction that removes the membership and
 * deleted once the room has closed their sockets, so a failed room call is retried instead of forgotten.
 */
export const pendingRevocations = pgTable(
  "pending_revocations",
  {
    chatId: uuid("chat_id")
      .notNull()
      .references(() => chats.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.chatId, t.userId] }), index("pending_revocations_by_user").on(t.userId)],
);

/** Webhook deliveries already applied, by their delivery id: a redelivery changes nothing. */
export const processedWebhooks = pgTable("processed_webhooks", {
  id: text("id").primaryKey(),
  source: text("source").notNull(),
  type: text("type").notNull(),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
});

export const billingStatus = pgEnum("billing_status", BILLING_STATUSES);

/**
 * An org's billing: its Stripe customer and subscription as the newest Stripe event left them. No row: status
 * `none`, the default plan.
 */
export const orgBilling = pgTable("org_billing", {
  orgId: uuid("org_id")
    .primaryKey()
    .references(() => orgs.id, { onDelete: "cascade" }),
  stripeCustomerId: text("stripe_customer_id").unique(),
  stripeSubscriptionId: text("stripe_subscription_id"),
  /** The subscription's seat item, whose quantity follows the member count. */
  stripeSubscriptionItemId: text("stripe_subscription_item_id"),
  status: billingStatus("status").notNull().default("none"),
  /** A name in `PARLOR_PLANS`; null: `PARLOR_DEFAULT_PLAN`. */
  plan: text("plan"),
  periodStart: timestamp("period_start", { withTimezone: true }),
  periodEnd: timestamp("period_end", { withTimezone: true }),
  /** When the status last became `past_due`: the plan's grace period runs from here. */
  pastDueSince: timestamp("past_due_since", { withTimezone: true }),
  /** `created` (seconds) of the subscription event that wrote the status: an older one arriving late loses. */
  stripeVersion: bigint("stripe_version", { mode: "number" }),
  /** The seat count Stripe last accepted. */
  seatsReported: integer("seats_reported"),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** An org's usage per billing period, summed from the rooms' batches. */
export const orgUsage = pgTable(
  "org_usage",
  {
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id, { onDelete: "cascade" }),
    periodStart: timestamp("period_start", { withTimezone: true }).notNull(),
    messages: bigint("messages", { mode: "number" }).notNull().default(0),
    agentRuns: bigint("agent_runs", { mode: "number" }).notNull().default(0),
    tokensIn: bigint("tokens_in", { mode: "number" }).notNull().default(0),
    tokensOut: bigint("tokens_out", { mode: "number" }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.periodStart] })],
);

/** The part of an org's usage each member started (runs and their tokens), for per-member caps. */
export const memberUsage = pgTable(
  "member_usage",
  {
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id, { onDelete: "cascade" }),
    periodStart: timestamp("period_start", { withTimezone: true }).notNull(),
    userId: text("user_id").notNull(),
    agentRuns: bigint("agent_runs", { mode: "number" }).notNull().default(0),
    tokensIn: bigint("tokens_in", { mode: "number" }).notNull().default(0),
    tokensOut: bigint("tokens_out", { mode: "number" }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.periodStart, t.userId] })],
);

/** Caps an admin set on one member, per billing period; null: none. They go with the membership. */
export const memberLimits = pgTable(
  "member_limits",
  {
    orgId: uuid("org_id").notNull(),
    userId: text("user_id").notNull(),
    agentRunsPerPeriod: bigint("agent_runs_per_period", { mode: "number" }),
    tokensPerPeriod: bigint("tokens_per_period", { mode: "number" }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.userId] }),
    foreignKey({
      name: "member_limits_member_fk",
      columns: [t.orgId, t.userId],
      foreignColumns: [orgMemberships.orgId, orgMemberships.userId],
    }).onDelete("cascade"),
  ],
);

/**
 * Usage batches already counted, by the key a room gave them (its chat and the ranges they cover): a batch sent
 * again counts nothing. `meteredAt` is set once Stripe has its meter events.
 */
export const usageBatches = pgTable("usage_batches", {
  key: text("key").primaryKey(),
  orgId: uuid("org_id")
    .notNull()
    .references(() => orgs.id, { onDelete: "cascade" }),
  appliedAt: timestamp("applied_at", { withTimezone: true }).notNull().defaultNow(),
  meteredAt: timestamp("metered_at", { withTimezone: true }),
});

/**
 * An org's audit log: append-only, `seq` gap-free per org, each entry hash-chained to the one before over its
 * canonical encoding (`api/audit/`). `eventKey` makes a redelivered event (a room's outbox) land once.
 */
export const auditEntries = pgTable(
  "audit_entries",
  {
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id, { onDelete: "cascade" }),
    seq: bigint("seq", { mode: "number" }).notNull(),
    at: timestamp("at", { withTimezone: true, precision: 3 }).notNull(),
    actorType: text("actor_type").notNull(),
    actorId: text("actor_id").notNull(),
    action: text("action").notNull(),
    target: text("target").notNull(),
    requestId: text("request_id"),
    outcome: text("outcome").notNull(),
    /** How many times this happened in the minute it stands for (repeated refusals are written once a minute). */
    count: integer("count").notNull().default(1),
    eventKey: text("event_key"),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.seq] }), unique("audit_entries_event_key").on(t.orgId, t.eventKey)],
);

/** The head of each org's chain, locked by every append so entries are numbered and chained one at a time. */
export const auditHeads = pgTable("audit_heads", {
  orgId: uuid("org_id")
    .primaryKey()
    .references(() => orgs.id, { onDelete: "cascade" }),
  seq: bigint("seq", { mode: "number" }).notNull(),
  hash: text("hash").notNull(),
});

/** An org's egress settings for the HTTP tool (admins): hosts allowed and denied, and ports beyond 80 and 443. */
export const orgEgress = pgTable("org_egress", {
  orgId: uuid("org_id")
    .primaryKey()
    .references(() => orgs.id, { onDelete: "cascade" }),
  allowHosts: jsonb("allow_hosts").$type<string[]>().notNull().default([]),
  denyHosts: jsonb("deny_hosts").$type<string[]>().notNull().default([]),
  allowPorts: jsonb("allow_ports").$type<number[]>().notNull().default([]),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export type OrgRole = (typeof orgRole.enumValues)[number];

/** A publisher org's agent on the marketplace; what it offers lives in its versions. */
export const marketplaceListings = pgTable(
  "marketplace_listings",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id, { onDelete: "cascade" }),
    agentId: uuid("agent_id").references(() => agents.id, { onDelete: "set null" }),
    /** Set by a moderator's take-down: no new installs, ever; the reason is shown to the publisher. */
    takenDownAt: timestamp("taken_down_at", { withTimezone: true }),
    takenDownReason: text("taken_down_reason"),
    /** Reports after this are open; a review of any kind sets it. */
    reviewedAt: timestamp("reviewed_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("marketplace_listings_agent").on(t.agentId)],
);

/** One submitted definition of a listing: pending until a moderator approves or rejects it. Never a secret value. */
export const marketplaceVersions = pgTable(
  "marketplace_versions",
  {
    listingId: uuid("listing_id")
      .notNull()
      .references(() => marketplaceListings.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    status: text("status").$type<"pending" | "approved" | "rejected">().notNull().default("pending"),
    description: text("description").notNull(),
    definition: jsonb("definition").$type<ListingDefinition>().notNull(),
    /** The publisher's note on what changed in this version, shown to installers; null when none was given. */
    note: text("note"),
    reason: text("reason"),
    submittedBy: text("submitted_by").notNull(),
    reviewedBy: text("reviewed_by"),
    createdAt: createdAt(),
    reviewedAt: timestamp("reviewed_at", { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.listingId, t.version] })],
);

/** One member's report of a listing (one each). */
export const marketplaceReports = pgTable(
  "marketplace_reports",
  {
    listingId: uuid("listing_id")
      .notNull()
      .references(() => marketplaceListings.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
    /** The org the reporter reported for (one they belong to), shown to moderators; null when none was named. */
    orgId: uuid("org_id").references(() => orgs.id, { onDelete: "set null" }),
    reason: text("reason").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.listingId, t.userId] })],
);

/** An installed agent and the listing version it is pinned to (until an admin updates it). */
export const marketplaceInstalls = pgTable(
  "marketplace_installs",
  {
    agentId: uuid("agent_id")
      .primaryKey()
      .references(() => agents.id, { onDelete: "cascade" }),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id, { onDelete: "cascade" }),
    listingId: uuid("listing_id")
      .notNull()
      .references(() => marketplaceListings.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    installedBy: text("installed_by").notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("marketplace_installs_by_listing").on(t.listingId)],
);
