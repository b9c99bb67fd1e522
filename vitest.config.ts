import { generateKeyPairSync } from "node:crypto";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const databaseUrl = process.env.PARLOR_TEST_DATABASE_URL;
const publicKey = process.env.PARLOR_TEST_PUBLIC_KEY;
const privateKey = process.env.PARLOR_TEST_PRIVATE_KEY;
const clerkApiUrl = process.env.PARLOR_TEST_CLERK_API_URL;
const clerkWebhookSecret = process.env.PARLOR_TEST_CLERK_WEBHOOK_SECRET;
const serviceUrl = process.env.PARLOR_TEST_SERVICE_URL;
const secretsKey = process.env.PARLOR_TEST_SECRETS_KEY;
const dohUrl = process.env.PARLOR_TEST_DOH_URL;
const hungDatabaseUrl = process.env.PARLOR_TEST_HUNG_DATABASE_URL;
const stripeApiUrl = process.env.PARLOR_TEST_STRIPE_API_URL;
const stripeSecretKey = process.env.PARLOR_TEST_STRIPE_SECRET_KEY;
const stripeWebhookSecret = process.env.PARLOR_TEST_STRIPE_WEBHOOK_SECRET;
if (
  !databaseUrl ||
  !publicKey ||
  !privateKey ||
  !clerkApiUrl ||
  !clerkWebhookSecret ||
  !serviceUrl ||
  !dohUrl ||
  !hungDatabaseUrl ||
  !secretsKey ||
  !stripeApiUrl ||
  !stripeSecretKey ||
  !stripeWebhookSecret
) {
  throw new Error("run the tests with `npm test`: it prepares the database and keys they need");
}

/**
 * Tests seed long chats from one member (the longest: 1,125 messages in one browser test, within seconds on a quiet
 * machine, so the refill cannot be counted on); the rate-limit test reads what is set.
 */
const testRateLimits = JSON.stringify({ messages: { burst: 1200, perMinute: 60 } });

/** Signs the audit checkpoints of this run. */
const auditSigningKey = generateKeyPairSync("ed25519")
  .privateKey.export({ format: "der", type: "pkcs8" })
  .toString("base64");

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                PARLOR_ENV: "development",
                DATABASE_URL: databaseUrl,
                CLERK_JWT_KEY: publicKey,
                DEV_SIGNING_KEY: privateKey,
                CLERK_WEBHOOK_SIGNING_SECRET: clerkWebhookSecret,
                PARLOR_SECRETS_KEY: secretsKey,
                PARLOR_LOCAL_MODEL_DELAY_MS: "5",
                // Small, so the summary tests need few messages.
                PARLOR_SUMMARY_EVERY: "8",
                PARLOR_SUMMARY_KEEP: "3",
                // Only tests that ask for Clerk mode use it (see test/workers/clerk.test.ts).
                TEST_CLERK_API_URL: clerkApiUrl,
                // The "outside world" the HTTP tool talks to in tests.
                TEST_SERVICE_URL: serviceUrl,
                // The HTTP tool may reach the test service, on loopback, as development allows for exact origins
                // (by its address and as localhost, a second origin for cross-origin redirects); names are checked
                // through the DNS-over-HTTPS stand-in (test/doh-stand-in.ts).
                PARLOR_DEV_ALLOW_ORIGINS: [serviceUrl, serviceUrl.replace("127.0.0.1", "localhost")].join(","),
                PARLOR_DOH_URL: dohUrl,
                // Marketplace moderators (test/workers/marketplace.test.ts signs in as this one).
                PARLOR_MODERATORS: "moderator-of-tests",
                // A "database" that accepts connections and never answers (test/hung-postgres.ts).
                TEST_HUNG_DATABASE_URL: hungDatabaseUrl,
                // Billing talks to the Stripe stand-in (test/stripe-stand-in.ts); tests sign its webhooks.
                STRIPE_API_URL: stripeApiUrl,
                STRIPE_SECRET_KEY: stripeSecretKey,
                STRIPE_WEBHOOK_SECRET: stripeWebhookSecret,
                STRIPE_PRICE_ID: "price_seat",
                PARLOR_PLANS: JSON.stringify({
                  team: { agentRunsPerPeriod: null, tokensPerPeriod: null, graceDays: 3 },
                  tiny: { agentRunsPerPeriod: 2, tokensPerPeriod: 100000, graceDays: 0 },
                  tokens: { agentRunsPerPeriod: null, tokensPerPeriod: 30, graceDays: 0 },
                }),
                PARLOR_APP_URL: "http://app.parlor.test",
                PARLOR_USAGE_BATCH_MS: "1000",
                // Chat lists' lastSeq and unread trail the room by this (rooms/chat-activity.ts).
                PARLOR_ACTIVITY_BATCH_MS: "200",
                PARLOR_AUDIT_SIGNING_KEY: auditSigningKey,
                PARLOR_AUDIT_CHECKPOINT_MS: "300",
                PARLOR_RATE_LIMITS: testRateLimits,
                // Scheduled backups exist but wait an hour: the schedule test moves a room's clock, not the world's.
                PARLOR_BACKUP_INTERVAL_MS: "3600000",
                PARLOR_BACKUP_KEEP: "2",
                // A deleted chat is purged about 4 s later (chat-lifecycle.test.ts waits for it).
                PARLOR_CHAT_DELETE_GRACE_DAYS: "0.00005",
              },
              // A real Hyperdrive binding (miniflare's local one) to the test database, for the production database
              // path (test/workers/hyperdrive.test.ts). Not named HYPERDRIVE, so every other test keeps DATABASE_URL.
              hyperdrives: { TEST_HYPERDRIVE: databaseUrl },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          // `npm start` passes PARLOR_* on to the Worker: the browser tests seed long chats from one member.
          env: { PARLOR_TEST_DATABASE_URL: databaseUrl, PARLOR_RATE_LIMITS: testRateLimits },
        },
      },
    ],
  },
});
