/**
 * Checks every answer a workerd test receives against the schema its route declares in the OpenAPI registry: a
 * status the route does not declare, or a body that does not match, fails the test that saw it.
 */
import type { RouteConfig } from "@hono/zod-openapi";
import type { z } from "zod";
import { app } from "../../api/app";
import { errorBodySchema } from "../../protocol/errors";

type RouteDefinition = { type: "route"; route: RouteConfig };

const routes = (app.openAPIRegistry.definitions as { type: string }[])
  .filter((definition): definition is RouteDefinition => definition.type === "route")
  .map(({ route }) => ({
    route,
    pattern: new RegExp(`^${route.path.replace(/\{[^}]+\}/g, "[^/]+").replace(/\/\[\^\/\]\+$/, "/.+")}$`),
  }));

export function declaredRoute(method: string, path: string): RouteConfig | null {
  const found = routes.find(
    ({ route, pattern }) => route.method === method.toLowerCase() && pattern.test(path.replace(/\/$/, "") || "/"),
  );
  return found?.route ?? null;
}

/** Throws when `body` is not what the route declares for `status`. Socket upgrades (101) carry no body. */
export function checkAnswer(method: string, path: string, status: number, body: unknown): void {
  if (status === 101 || !path.startsWith("/api/")) return;
  const route = declaredRoute(method, path.slice("/api".length));
  if (!route) {
    // No such endpoint: the contract's 404.
    if (status === 404 && errorBodySchema.safeParse(body).success) return;
    throw new Error(`${method} ${path} answered ${status} but is not in the OpenAPI document`);
  }
  const declared = route.responses[status] as { content?: Record<string, { schema: z.ZodType }> } | undefined;
  if (!declared) throw new Error(`${method} ${path} answered ${status}, which its route does not declare`);
  const schema = declared.content?.["application/json"]?.schema;
  if (!schema) return;
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new Error(
      `${method} ${path} answered ${status} with a body its schema refuses: ${JSON.stringify(parsed.error.issues.slice(0, 3))}\n${JSON.stringify(body).slice(0, 500)}`,
    );
  }
}
