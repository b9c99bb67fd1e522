/**
 * Checks an org's audit chain from its first entry: seqs gap-free from 1, each `prevHash` the hash before it, each
 * hash recomputed from the entry, the head row at the last entry, and the newest signed checkpoint in R2 matching
 * the entry at its seq. Names the first entry that fails.
 */
import { and, asc, eq, gt } from "drizzle-orm";
import type { AuditActor } from "../../protocol/audit";
import type { Database } from "../db/client";
import { auditEntries, auditHeads } from "../db/schema";
import { entryHash, GENESIS } from "./chain";
import { checkpointSigned, newestCheckpoint } from "./checkpoints";

export type Verification = {
  ok: boolean;
  entries: number;
  firstBad: number | null;
  problem: string | null;
  checkpoint: number | null;
};

const PAGE = 1_000;

export async function verifyAudit(env: Env, db: Database, orgId: string): Promise<Verification> {
  const newest = await newestCheckpoint(env, orgId);
  const checkpoint = newest?.checkpoint ?? null;
  const bad = (seq: number, problem: string, entries: number): Verification => ({
    ok: false,
    entries,
    firstBad: seq,
    problem,
    checkpoint: checkpoint?.seq ?? null,
  });
  if (checkpoint && (checkpoint.orgId !== orgId || !(await checkpointSigned(env, checkpoint)))) {
    return bad(checkpoint.seq, "the newest checkpoint's signature does not verify", 0);
  }
  let expected = 1;
  let prevHash = GENESIS;
  for (;;) {
    const page = await db
      .select()
      .from(auditEntries)
      .where(and(eq(auditEntries.orgId, orgId), gt(auditEntries.seq, expected - 1)))
      .orderBy(asc(auditEntries.seq))
      .limit(PAGE);
    for (const row of page) {
      const checked = expected - 1;
      if (row.seq !== expected) return bad(expected, `entry ${expected} is missing`, checked);
      if (row.prevHash !== prevHash) return bad(row.seq, "its prevHash is not the hash of the entry before", checked);
      const hash = await entryHash({
        orgId,
        seq: row.seq,
        at: row.at.getTime(),
        actor: { type: row.actorType, id: row.actorId } as AuditActor,
        action: row.action,
        target: row.target,
        requestId: row.requestId,
        outcome: row.outcome,
        count: row.count,
        prevHash: row.prevHash,
      });
      if (hash !== row.hash) return bad(row.seq, "its content does not match its hash", checked);
      if (checkpoint && row.seq === checkpoint.seq && row.hash !== checkpoint.hash) {
        return bad(row.seq, "it differs from the signed checkpoint", checked);
      }
      prevHash = row.hash;
      expected++;
    }
    if (page.length < PAGE) break;
  }
  const count = expected - 1;
  if (checkpoint && count < checkpoint.seq) {
    return bad(
      count + 1,
      `entries ${count + 1} to ${checkpoint.seq} are gone (the signed checkpoint covers them)`,
      count,
    );
  }
  const [head] = await db.select().from(auditHeads).where(eq(auditHeads.orgId, orgId));
  if (head && (head.seq !== count || head.hash !== prevHash)) {
    return bad(count + 1, `the log ends at ${count} but its head says ${head.seq}`, count);
  }
  return { ok: true, entries: count, firstBad: null, problem: null, checkpoint: checkpoint?.seq ?? null };
}
