/**
 * The room's side of billing: the org's billing as the App API last pushed it (kept in `room_meta`, newest version
 * wins), and whether a run may start now, with the usage this room has counted since.
 */
import { z } from "zod";
import { type Refusal, type RoomBilling, runRefusal } from "../billing/allowance";
import { BILLING_STATUSES } from "../protocol/enums";
import { readMeta, writeMeta } from "./room-meta";
import type { RoomState } from "./room-state";
import { unreportedUsage } from "./usage-log";

const limit = z.number().nullable();
const counts = z.object({ agentRuns: z.number(), tokens: z.number() });
const quotas = z.object({ agentRunsPerPeriod: limit, tokensPerPeriod: limit });
const roomBillingSchema = z.object({
  version: z.number(),
  status: z.enum(BILLING_STATUSES),
  lapsedFrom: z.number().nullable(),
  periodEnd: z.number(),
  quotas,
  used: counts,
  members: z.record(z.string(), z.object({ limits: quotas, used: counts })),
}) satisfies z.ZodType<RoomBilling>;

/** Keeps `billing` unless the room holds a newer one; true when kept. */
export function setRoomBilling(room: RoomState, billing: RoomBilling): boolean {
  const held = roomBilling(room);
  if (held && held.version > billing.version) return false;
  writeMeta(room.sql, "billing", billing);
  room.cache.billing = billing;
  return true;
}

export function roomBilling(room: RoomState): RoomBilling | null {
  if (room.cache.billing === undefined) room.cache.billing = readMeta(room.sql, "billing", roomBillingSchema);
  return room.cache.billing;
}

/** Why a run `initiator` would start must not start now, or null. A room never told about billing starts runs. */
export function runRefusalFor(room: RoomState, initiator: string, now = Date.now()): Refusal | null {
  const billing = roomBilling(room);
  if (!billing) return null;
  return runRefusal(billing, unreportedUsage(room.sql), initiator, now);
}
