/**
 * How an audit entry is hashed: SHA-256 over its RFC 8785 (JCS) encoding, `at` in milliseconds, the previous
 * entry's hash and the org included, so an edited, removed, inserted, reordered or moved entry breaks the chain.
 */
import canonicalize from "canonicalize";
import type { AuditActor } from "../../protocol/audit";

/** The `prevHash` of an org's first entry. */
export const GENESIS = "0".repeat(64);

export type ChainedFields = {
  orgId: string;
  seq: number;
  at: number;
  actor: AuditActor;
  action: string;
  target: string;
  requestId: string | null;
  outcome: string;
  count: number;
  prevHash: string;
};

export async function entryHash(fields: ChainedFields): Promise<string> {
  const encoded = canonicalize({ ...fields });
  if (encoded === undefined) throw new Error("an audit entry could not be encoded");
  return sha256Hex(encoded);
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
