/** Who moderates the marketplace: the user ids in `PARLOR_MODERATORS` (none when unset, development included). */
import { forbidden } from "../errors";

export function moderatorsOf(env: Pick<Env, "PARLOR_MODERATORS">): Set<string> {
  return new Set(
    (env.PARLOR_MODERATORS ?? "")
      .split(",")
      .map((id) => id.trim())
      .filter(Boolean),
  );
}

export function isModerator(env: Pick<Env, "PARLOR_MODERATORS">, userId: string): boolean {
  return moderatorsOf(env).has(userId);
}

export function requireModerator(env: Pick<Env, "PARLOR_MODERATORS">, userId: string): void {
  if (!isModerator(env, userId)) throw forbidden("only marketplace moderators may do this");
}
