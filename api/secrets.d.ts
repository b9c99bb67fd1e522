// Secrets and local-only variables; `wrangler types` sees only what wrangler.toml declares.
interface ParlorSecrets {
  /** PEM public key that verifies session tokens (Clerk's, or the local development key's). */
  CLERK_JWT_KEY?: string;
  /** PEM private key that mints development tokens; only `npm start` and tests set it. */
  DEV_SIGNING_KEY?: string;
  /** A Postgres connection string, used when no HYPERDRIVE binding is present. */
  DATABASE_URL?: string;
}
interface Env extends ParlorSecrets {}
declare namespace Cloudflare {
  interface Env extends ParlorSecrets {}
}
