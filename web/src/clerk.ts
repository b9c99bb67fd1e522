/**
 * Clerk's own frontend, loaded only when `GET /api/config` names a publishable key: the dynamic `import()` makes
 * `@clerk/clerk-js` a separate chunk that development sign-in (and the tests) never fetch.
 */
import type { Clerk } from "@clerk/clerk-js";
import { tokens } from "./tokens";

export async function startClerk(publishableKey: string): Promise<Clerk> {
  const { Clerk } = await import("@clerk/clerk-js");
  const clerk = new Clerk(publishableKey);
  await clerk.load();
  tokens.useClerk(clerk);
  return clerk;
}
