/**
 * One small Durable Object per org whose alarm writes the org's audit checkpoints (wrangler dev fires no crons): a
 * write to the log schedules one a while later (`PARLOR_AUDIT_CHECKPOINT_MS`, default a minute), so a busy org gets
 * one checkpoint a minute and an idle one none. A failed write is retried by the alarm's own retries.
 */

import { DurableObject } from "cloudflare:workers";
import { openDatabase } from "../db/client";
import { errorFields, log } from "../log";
import { writeCheckpoint } from "./checkpoints";

const DEFAULT_INTERVAL_MS = 60_000;

export class AuditCheckpoints extends DurableObject<Env> {
  async schedule(orgId: string): Promise<void> {
    await this.ctx.storage.put("orgId", orgId);
    if ((await this.ctx.storage.getAlarm()) !== null) return;
    const configured = Number(this.env.PARLOR_AUDIT_CHECKPOINT_MS);
    const interval = Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_INTERVAL_MS;
    await this.ctx.storage.setAlarm(Date.now() + interval);
  }

  /** Writes the checkpoint now (what the alarm does, for the org it was scheduled for). */
  async checkpointNow(forOrg?: string): Promise<{ seq: number } | null> {
    if (forOrg) await this.ctx.storage.put("orgId", forOrg);
    const orgId = forOrg ?? (await this.ctx.storage.get<string>("orgId"));
    if (!orgId) return null;
    const { db, close } = openDatabase(this.env);
    try {
      const written = await writeCheckpoint(this.env, db, orgId);
      return written ? { seq: written.seq } : null;
    } finally {
      await close();
    }
  }

  async alarm(): Promise<void> {
    await this.checkpointNow();
  }
}

function keeperOf(env: Env, orgId: string) {
  return (env.AuditCheckpoints as DurableObjectNamespace<AuditCheckpoints>).getByName(orgId);
}

/** Never throws: the log is already written; a lost schedule is made up by the next write. */
export async function scheduleCheckpoint(env: Env, orgId: string): Promise<void> {
  if (!env.PARLOR_AUDIT_SIGNING_KEY) return;
  try {
    await keeperOf(env, orgId).schedule(orgId);
  } catch (error) {
    log("warn", "audit_checkpoint_not_scheduled", { orgId, ...errorFields(error) });
  }
}

/** Writes the org's checkpoint at once, whatever is scheduled. */
export async function checkpointNow(env: Env, orgId: string): Promise<{ seq: number } | null> {
  return keeperOf(env, orgId).checkpointNow(orgId);
}
