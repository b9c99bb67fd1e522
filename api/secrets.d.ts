// Secrets and local-only variables; `wrangler types` sees only what wrangler.toml declares.
interface ParlorSecrets {
  /** PEM public key that verifies session tokens (Clerk's, or the local development key's). */
  CLERK_JWT_KEY?: string;
  /** PEM private key that mints development tokens; only `npm start` and tests set it. */
  DEV_SIGNING_KEY?: string;
  /** Clerk's Backend API key; when set, org membership changes go through Clerk and its webhook. */
  CLERK_SECRET_KEY?: string;
  /** Clerk's Backend API base URL (default https://api.clerk.com); tests point it at a local stand-in. */
  CLERK_API_URL?: string;
  /** The signing secret (whsec_…) of Clerk's webhook endpoint. */
  CLERK_WEBHOOK_SIGNING_SECRET?: string;
  /** A Postgres connection string, used when no HYPERDRIVE binding is present. */
  DATABASE_URL?: string;
}
interface Env extends ParlorSecrets {}
declare namespace Cloudflare {
  interface Env extends ParlorSecrets {}
}
