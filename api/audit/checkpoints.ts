/**
 * Signed checkpoints of each org's audit chain in R2 (`audit/<orgId>/<seq>.json`): the head's seq and hash, signed
 * with `PARLOR_AUDIT_SIGNING_KEY` (Ed25519), each naming the checkpoint before it. Someone who can rewrite Postgres
 * cannot make a chain that matches a checkpoint without the key, so rewriting or cutting entries up to the newest
 * checkpoint is detected; entries after it are covered by the chain alone.
 */
import canonicalize from "canonicalize";
import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { auditHeads } from "../db/schema";

export type Checkpoint = { orgId: string; seq: number; hash: string; at: number; previous: string | null };
type Signed = Checkpoint & { signature: string };

function keyOf(orgId: string, seq: number): string {
  return `audit/${orgId}/${seq}.json`;
}

/** The private key and its public half, from `PARLOR_AUDIT_SIGNING_KEY` (base64 PKCS#8); null when unset. */
async function signingKeys(env: Env): Promise<{ sign: CryptoKey; verify: CryptoKey } | null> {
  if (!env.PARLOR_AUDIT_SIGNING_KEY) return null;
  const der = Uint8Array.from(atob(env.PARLOR_AUDIT_SIGNING_KEY.trim()), (c) => c.charCodeAt(0));
  const sign = await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, true, ["sign"]);
  const { x } = (await crypto.subtle.exportKey("jwk", sign)) as JsonWebKey;
  const verify = await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x }, { name: "Ed25519" }, true, [
    "verify",
  ]);
  return { sign, verify };
}

function payload(checkpoint: Checkpoint): Uint8Array {
  const { orgId, seq, hash, at, previous } = checkpoint;
  return new TextEncoder().encode(canonicalize({ orgId, seq, hash, at, previous }) ?? "");
}

/** The org's newest checkpoint, by seq, or null. */
export async function newestCheckpoint(env: Env, orgId: string): Promise<{ key: string; checkpoint: Signed } | null> {
  let newest: number | null = null;
  let cursor: string | undefined;
  do {
    const listed = await env.BACKUPS.list({ prefix: `audit/${orgId}/`, cursor });
    for (const object of listed.objects) {
      const seq = Number(object.key.slice(`audit/${orgId}/`.length).replace(/\.json$/, ""));
      if (Number.isSafeInteger(seq) && (newest === null || seq > newest)) newest = seq;
    }
    cursor = listed.truncated ? listed.cursor : undefined;
  } while (cursor);
  if (newest === null) return null;
  const key = keyOf(orgId, newest);
  const object = await env.BACKUPS.get(key);
  if (!object) return null;
  return { key, checkpoint: (await object.json()) as Signed };
}

/** Whether the checkpoint's signature is this deployment's and its content is what was signed. */
export async function checkpointSigned(env: Env, checkpoint: Signed): Promise<boolean> {
  const keys = await signingKeys(env);
  if (!keys) return false;
  try {
    const signature = Uint8Array.from(atob(checkpoint.signature), (c) => c.charCodeAt(0));
    return await crypto.subtle.verify({ name: "Ed25519" }, keys.verify, signature, payload(checkpoint));
  } catch {
    return false;
  }
}

/** Writes a checkpoint of the org's head if it moved since the newest one; returns what was written, or null. */
export async function writeCheckpoint(env: Env, db: Database, orgId: string): Promise<Checkpoint | null> {
  const keys = await signingKeys(env);
  if (!keys) return null;
  const [head] = await db.select().from(auditHeads).where(eq(auditHeads.orgId, orgId));
  if (!head || head.seq === 0) return null;
  const previous = await newestCheckpoint(env, orgId);
  if (previous && previous.checkpoint.seq >= head.seq) return null;
  const checkpoint: Checkpoint = {
    orgId,
    seq: head.seq,
    hash: head.hash,
    at: Date.now(),
    previous: previous?.key ?? null,
  };
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, keys.sign, payload(checkpoint)));
  const signed: Signed = { ...checkpoint, signature: btoa(String.fromCharCode(...signature)) };
  await env.BACKUPS.put(keyOf(orgId, head.seq), JSON.stringify(signed), {
    httpMetadata: { contentType: "application/json" },
  });
  return checkpoint;
}
