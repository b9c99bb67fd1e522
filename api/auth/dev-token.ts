/**
 * `POST /api/dev/token`: mints a session token for any user, for local development only.
 * It needs all three: PARLOR_ENV=development, the local signing key (which no deploy carries),
 * and a request to a loopback host, so a deployed Worker cannot be talked into it.
 */
import { createMiddleware } from "hono/factory";
import { importPKCS8, SignJWT } from "jose";
import { devTokenBody, devTokenResponse } from "../../protocol/orgs";
import type { AppEnv } from "../context";
import { users } from "../db/schema";
import { notFound } from "../errors";
import { database } from "../middleware/database";
import { developmentOnly as developmentOnlyTag, jsonBody, jsonContent, publicRoute, router } from "../openapi";

const TOKEN_LIFETIME = "12h";
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

export function devAuthEnabled(env: Env, requestUrl: string): boolean {
  return (
    env.PARLOR_ENV === "development" && Boolean(env.DEV_SIGNING_KEY) && LOOPBACK_HOSTS.has(new URL(requestUrl).hostname)
  );
}

export const developmentOnly = createMiddleware<AppEnv>(async function refuseOutsideDevelopment(c, next) {
  if (!devAuthEnabled(c.env, c.req.url)) throw notFound("no such endpoint");
  await next();
});

const mintDevTokenRoute = publicRoute(
  {
    method: "post",
    path: "/token",
    tags: ["development"],
    summary: "A session token for any user (development only)",
    description:
      "Exists only with PARLOR_ENV=development, a DEV_SIGNING_KEY and a loopback host; 404 anywhere else. " +
      "Creates or renames the user. The token is verified by the same code as Clerk's.",
    ...developmentOnlyTag,
    middleware: [developmentOnly, database] as const,
    request: { body: jsonBody(devTokenBody) },
    responses: { 200: jsonContent(devTokenResponse, "A 12-hour session token.") },
  },
  ["not_found"],
);

export const devTokenRoutes = router().openapi(mintDevTokenRoute, async function mintDevToken(c) {
  const { userId, name } = c.req.valid("json");
  const displayName = name ?? userId;
  await c.var.db
    .insert(users)
    .values({ id: userId, name: displayName })
    .onConflictDoUpdate({ target: users.id, set: name ? { name } : { id: userId } });
  const key = await importPKCS8(c.env.DEV_SIGNING_KEY as string, "RS256");
  const claims: Record<string, string> = { name: displayName };
  const origin = c.req.header("Origin");
  if (origin) claims.azp = origin;
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuer(c.env.CLERK_ISSUER)
    .setIssuedAt()
    .setNotBefore("0s")
    .setExpirationTime(TOKEN_LIFETIME)
    .sign(key);
  return c.json({ token }, 200);
});
