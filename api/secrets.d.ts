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
  /** A model vendor key; without it agents run the built-in `parlor-local` model. */
  OPENAI_API_KEY?: string;
  /** Any OpenAI-compatible server (a local Ollama or vLLM included). */
  OPENAI_BASE_URL?: string;
  /** The built-in model's pace, in milliseconds a word (default 50). */
  PARLOR_LOCAL_MODEL_DELAY_MS?: string;
  /** How many agents one message may wake (default 3). */
  PARLOR_MAX_AGENTS_PER_MESSAGE?: string;
  /** Summarise the older part of a chat once this many messages have accumulated past the last summary (50). */
  PARLOR_SUMMARY_EVERY?: string;
  /** How many recent messages a summary leaves out, for runs to read verbatim (20). */
  PARLOR_SUMMARY_KEEP?: string;
  /** Clerk's publishable key (pk_…), served by `GET /api/config` so the web client can load Clerk's sign-in. */
  CLERK_PUBLISHABLE_KEY?: string;
  /** `<keyId>:<base64 of 32 bytes>`: seals and opens org secrets (AES-GCM). Unset: secret endpoints answer 503. */
  PARLOR_SECRETS_KEY?: string;
  /** Comma-separated keys in the same format that only open values sealed before a key rotation. */
  PARLOR_SECRETS_OLD_KEYS?: string;
  /** Stripe's secret key; unset: no calls to Stripe, and signed webhooks alone drive billing. */
  STRIPE_SECRET_KEY?: string;
  /** The signing secret (whsec_…) of Stripe's webhook endpoint; unset: `POST /api/webhooks/stripe` answers 503. */
  STRIPE_WEBHOOK_SECRET?: string;
  /** The per-seat price checkout subscribes an org to. */
  STRIPE_PRICE_ID?: string;
  /** Stripe's API base URL (default https://api.stripe.com); tests and development point it at a local stand-in. */
  STRIPE_API_URL?: string;
  /** JSON `{ plan: { agentRunsPerPeriod, tokensPerPeriod, graceDays } }`: quotas per billing period, null unlimited. */
  PARLOR_PLANS?: string;
  /** The plan of orgs whose subscription names none that `PARLOR_PLANS` knows; unset: unlimited. */
  PARLOR_DEFAULT_PLAN?: string;
  /** The web client's URL: where Stripe's checkout and portal send people back to. */
  PARLOR_APP_URL?: string;
  /** How long a room collects usage before sending it as one batch (default 10000 ms). */
  PARLOR_USAGE_BATCH_MS?: string;
  /** How long a room waits after a message before sending its newest seq and time to Postgres (default 5000 ms). */
  PARLOR_ACTIVITY_BATCH_MS?: string;
  /** Base64 PKCS#8 of an Ed25519 private key: signs the audit checkpoints in R2. Unset: no checkpoints. */
  PARLOR_AUDIT_SIGNING_KEY?: string;
  /** How long after a write to an org's audit log its checkpoint is written (default 60000 ms). */
  PARLOR_AUDIT_CHECKPOINT_MS?: string;
  /** Development only: exact origins (comma-separated) exempt from the private-address and port refusals. */
  PARLOR_DEV_ALLOW_ORIGINS?: string;
  /** A DNS-over-HTTPS resolver (JSON API) the HTTP tool checks names with; unset: names cannot be resolved. */
  PARLOR_DOH_URL?: string;
  /**
   * `off` (development only) or JSON `{ messages: { burst, perMinute }, agentRunsPerOrgPerMinute, egress: {
   * perOrgPerMinute, perAgentPerMinute } }`; unset: the defaults.
   */
  PARLOR_RATE_LIMITS?: string;
  /** Milliseconds every Postgres call may take before the request answers 503 unavailable (default 5000). */
  PARLOR_DB_DEADLINE_MS?: string;
  /** How often a room whose log grew backs itself up to R2 (ms); unset: only on demand. */
  PARLOR_BACKUP_INTERVAL_MS?: string;
  /** Days a deleted chat stays a tombstone (restorable by an admin) before it is purged (default 30; fractions allowed). */
  PARLOR_CHAT_DELETE_GRACE_DAYS?: string;
  /** How many snapshots a chat keeps (default 7); older ones are deleted whole. */
  PARLOR_BACKUP_KEEP?: string;
  /** Marketplace moderators: comma-separated user ids (unset: nobody moderates). */
  PARLOR_MODERATORS?: string;
  /** A Postgres connection string, used when no HYPERDRIVE binding is present. */
  DATABASE_URL?: string;
}
interface Env extends ParlorSecrets {}
declare namespace Cloudflare {
  interface Env extends ParlorSecrets {}
}
