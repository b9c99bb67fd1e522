import type { Caller } from "../context";
import type { Database } from "../db/client";
import { users } from "../db/schema";

type Writer = Pick<Database, "insert">;

/** Makes sure the caller has a users row; a name from the token refreshes the stored one. */
export async function ensureUser(db: Writer, caller: Caller): Promise<void> {
  await db
    .insert(users)
    .values({ id: caller.userId, name: caller.name ?? caller.userId })
    .onConflictDoUpdate({ target: users.id, set: caller.name ? { name: caller.name } : { id: caller.userId } });
}
