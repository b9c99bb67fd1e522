/**
 * Verifies a Clerk session token, networkless, with the configured PEM public key.
 * Development tokens take exactly this path too: only the key that signed them differs.
 */
import { verifyToken } from "@clerk/backend";
import type { Caller } from "../context";
import { unauthenticated } from "../errors";

export async function verifySessionToken(env: Env, token: string): Promise<Caller> {
  if (!env.CLERK_JWT_KEY) throw new Error("CLERK_JWT_KEY is not configured");
  const authorizedParties = env.CLERK_AUTHORIZED_PARTIES.split(",")
    .map((party) => party.trim())
    .filter(Boolean);
  let payload: Awaited<ReturnType<typeof verifyToken>>;
  try {
    payload = await verifyToken(token, {
      jwtKey: env.CLERK_JWT_KEY,
      issuer: env.CLERK_ISSUER,
      ...(authorizedParties.length > 0 ? { authorizedParties } : {}),
    });
  } catch (error) {
    const reason = (error as { reason?: string }).reason;
    throw unauthenticated(reason ? `invalid session token (${reason})` : "invalid session token");
  }
  const name = typeof payload.name === "string" ? payload.name : null;
  return { userId: payload.sub, name };
}

export function bearerToken(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match ? match[1] : null;
}
