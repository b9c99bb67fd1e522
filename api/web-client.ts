/**
 * The web client's files, served through the Worker so the page's Content-Security-Policy can name this deploy's
 * Clerk instance (a static `_headers` file cannot). Vite's hashed `/assets/*` skip the Worker (wrangler.toml).
 */
import { log } from "./log";
import { pagePolicy } from "./page-csp";

export async function serveWebClient(request: Request, env: Env): Promise<Response> {
  const { policy, badKey } = pagePolicy(env.CLERK_PUBLISHABLE_KEY);
  if (badKey) log("error", "clerk_publishable_key_unreadable", { path: new URL(request.url).pathname });
  const asset = await env.ASSETS.fetch(request);
  const response = new Response(asset.body, asset);
  response.headers.set("Content-Security-Policy", policy);
  return response;
}
