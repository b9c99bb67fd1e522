import type { AuditTrail } from "./audit/trail";
import type { Database } from "./db/client";

/** What an authenticated request knows about its caller. */
export type Caller = { userId: string; name: string | null };

export type AppEnv = {
  Bindings: Env;
  Variables: { db: Database; caller: Caller; audit: AuditTrail; requestId: string };
};
