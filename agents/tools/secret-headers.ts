/**
 * Puts secrets into an agent's header values at execution time, read fresh from Postgres for every call (no cache:
 * a revoked grant or a deleted secret stops the very next call). Only the admin-written header values are searched
 * for `{{secret:NAME}}`; nothing a model writes is. A reference the grants do not cover fails the call, naming the
 * secret, before anything is sent.
 */
import { and, eq, inArray } from "drizzle-orm";
import { appendAudit } from "../../api/audit/append";
import { scheduleCheckpoint } from "../../api/audit/checkpoint-keeper";
import { secrets } from "../../api/db/schema";
import { openValue, SecretsUnavailable, secretScope } from "../../api/db/secret-values";
import { isPlainHeaderValue, referencedSecrets, SECRET_REFERENCE, type SecretGrants } from "../../protocol/secrets";
import { readDatabase } from "../database";
import type { RevealedSecret } from "./redaction";

export type CallTarget = { orgId: string; agentId: string; chatId: string };
export type ResolvedHeaders =
  | { ok: true; headers: Record<string, string>; revealed: RevealedSecret[] }
  | { ok: false; reason: string };

export function grantCovers(grants: SecretGrants, target: CallTarget): boolean {
  const chat = grants.chats === "all" || grants.chats.includes(target.chatId);
  const agent = grants.agents === undefined || grants.agents.includes(target.agentId);
  return chat && agent;
}

export async function resolveHeaders(
  env: Env,
  target: CallTarget,
  written: Record<string, string>,
): Promise<ResolvedHeaders> {
  const names = [...new Set(Object.values(written).flatMap(referencedSecrets))];
  // A plain value (no key configured to move it) is sent as written and redacted under its header's name.
  const revealed: RevealedSecret[] = Object.entries(written)
    .filter(([, value]) => isPlainHeaderValue(value))
    .map(([name, value]) => ({ name, value }));
  if (names.length === 0) return { ok: true, headers: { ...written }, revealed };
  const rows = await readDatabase(env, (db) =>
    db.transaction(async (tx) => {
      const found = await tx
        .select()
        .from(secrets)
        .where(and(eq(secrets.orgId, target.orgId), inArray(secrets.name, names)));
      const used = found.filter((row) => grantCovers(row.grants, target));
      if (used.length === names.length) {
        await tx
          .update(secrets)
          .set({ lastUsedAt: new Date() })
          .where(
            inArray(
              secrets.id,
              used.map((row) => row.id),
            ),
          );
        // Each use is written with the stamp it leaves, by name: never the value.
        for (const row of used) {
          await appendAudit(tx, {
            orgId: target.orgId,
            actor: { type: "agent", id: target.agentId },
            action: "secret.used",
            target: `secret:${row.name} chat:${target.chatId}`,
          });
        }
      }
      return found;
    }),
  );
  // Entries were written when every reference was covered: a checkpoint will sign them (best effort).
  if (rows.filter((row) => grantCovers(row.grants, target)).length === names.length) {
    await scheduleCheckpoint(env, target.orgId);
  }
  const values = new Map<string, string>();
  for (const name of names) {
    const row = rows.find((r) => r.name === name);
    if (!row) return { ok: false, reason: `the secret ${name} does not exist; nothing was sent` };
    if (!grantCovers(row.grants, target)) {
      return { ok: false, reason: `the secret ${name} is not granted to this agent in this chat; nothing was sent` };
    }
    try {
      values.set(name, await openValue(env, secretScope(target.orgId, name), row));
    } catch (error) {
      const why = error instanceof SecretsUnavailable ? error.message : "it could not be opened";
      return { ok: false, reason: `the secret ${name} cannot be used (${why}); nothing was sent` };
    }
  }
  const headers = Object.fromEntries(
    Object.entries(written).map(([header, value]) => [
      header,
      value.replace(SECRET_REFERENCE, (_, name: string) => values.get(name) ?? ""),
    ]),
  );
  for (const [name, value] of values) revealed.push({ name, value });
  return { ok: true, headers, revealed };
}
