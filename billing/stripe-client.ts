/**
 * The Stripe client, when `STRIPE_SECRET_KEY` is set: over fetch (the Worker build of the library), talking to
 * `STRIPE_API_URL` when given, so tests and development use a local stand-in and nothing reaches the internet.
 */
import Stripe from "stripe";

export function stripeClient(env: Pick<Env, "STRIPE_SECRET_KEY" | "STRIPE_API_URL">): Stripe | null {
  if (!env.STRIPE_SECRET_KEY) return null;
  const api = env.STRIPE_API_URL ? new URL(env.STRIPE_API_URL) : null;
  return new Stripe(env.STRIPE_SECRET_KEY, {
    httpClient: Stripe.createFetchHttpClient(),
    // Every call below carries an idempotency key, so the library's own retries are safe.
    maxNetworkRetries: 2,
    timeout: 10_000,
    ...(api
      ? {
          host: api.hostname,
          port: api.port || (api.protocol === "https:" ? 443 : 80),
          protocol: api.protocol === "https:" ? "https" : "http",
        }
      : {}),
  });
}

/** Whether a Stripe error says the thing asked for exists already (a meter event sent before). */
export function alreadyExists(error: unknown): boolean {
  return error instanceof Stripe.errors.StripeError && error.code === "resource_already_exists";
}
