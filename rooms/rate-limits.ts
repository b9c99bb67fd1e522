/**
 * Messages per member per room: a token bucket per member (a burst, refilled at a sustained rate), kept in the
 * room's memory and checked before a message is stored. Pure apart from the injected clock, so it is unit-tested
 * without a room. A room that hibernates or restarts starts its members with full buckets.
 */
import type { Message } from "../protocol/chat";
import { type Bucket, type BucketLimit, type Take, takeToken } from "../protocol/limits";
import { type MessageRow, toMessage } from "./rows";

/** Above this many members tracked, buckets that have refilled completely are dropped (they equal a fresh one). */
const PRUNE_ABOVE = 1_000;

export class MessageLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: BucketLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one message's token from the member's bucket, or says how long until there is one. */
  take(memberId: string): Take {
    const now = this.now();
    if (this.buckets.size > PRUNE_ABOVE) this.prune(now);
    const { bucket, take } = takeToken(this.buckets.get(memberId), this.limit, now);
    this.buckets.set(memberId, bucket);
    return take;
  }

  /** Gives back the token of a message that turned out not to be new (a retry of a stored clientMessageId). */
  refund(memberId: string): void {
    const bucket = this.buckets.get(memberId);
    if (bucket) bucket.tokens = Math.min(this.limit.burst, bucket.tokens + 1);
  }

  /** How many members have a bucket (for tests). */
  get size(): number {
    return this.buckets.size;
  }

  private prune(now: number): void {
    const perMs = this.limit.perMinute / 60_000;
    for (const [memberId, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) * perMs >= this.limit.burst) this.buckets.delete(memberId);
    }
  }
}

/** The message this member already stored with this clientMessageId, if any: a retry is answered, not charged. */
export function storedByMember(sql: SqlStorage, userId: string, clientMessageId: string): Message | null {
  const row = sql
    .exec<MessageRow>(
      "SELECT * FROM messages WHERE author_type = 'user' AND author_id = ? AND client_message_id = ?",
      userId,
      clientMessageId,
    )
    .toArray()[0];
  return row ? toMessage(row) : null;
}
