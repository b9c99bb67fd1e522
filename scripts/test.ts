/**
 * `npm test`: a fresh database on a real PostgreSQL for this run (the embedded server, or the one at DATABASE_URL),
 * migrations applied, then vitest: workerd tests against the real rooms, and end-to-end tests against `npm start`.
 * The database is dropped afterwards, so every run proves every migration from scratch.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startClerkStandIn } from "../test/clerk-stand-in.ts";
import { startDohStandIn } from "../test/doh-stand-in.ts";
import { startExternalService } from "../test/external-service.ts";
import { startHungPostgres } from "../test/hung-postgres.ts";
import { startStripeStandIn } from "../test/stripe-stand-in.ts";
import { newSecretsKey } from "./dev-keys.ts";
import {
  databaseUrl,
  dropDatabase,
  ensureDatabase,
  type LocalPostgres,
  LocalPostgresError,
  startLocalPostgres,
} from "./local-postgres.ts";
import { applyMigrations } from "./migrate.ts";
import { run } from "./run.ts";

const root = resolve(import.meta.dirname, "..");
const log = (line: string) => console.log(`[test] ${line}`);

let local: LocalPostgres | null = null;
let scratch: string | null = null;
let database: string | null = null;
let stands: { close: () => Promise<void> }[] = [];
let vitest: ChildProcess | null = null;
let cleaning: Promise<void> | null = null;

/** Drops the run's database and stops what the run started; once, whichever way the run ends. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const stand of stands) await stand.close().catch(() => {});
    if (adminUrl && database) {
      const name = database;
      await dropDatabase(adminUrl, name).catch((error) => log(`could not drop ${name}: ${error}`));
    }
    // Its data may be outside the scratch directory, when the postgres user could not reach that.
    if (local) await local.stop({ removeData: true });
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  })();
  return cleaning;
}

// Ctrl-C reaches vitest as well, and a signal to this script alone is passed on: vitest's exit ends the run and the
// clean-up follows. Before vitest runs, the clean-up runs at once.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (vitest && vitest.exitCode === null) vitest.kill(signal);
    else void cleanUp().finally(() => process.exit(1));
  });
}

let adminUrl = process.env.DATABASE_URL;
if (adminUrl) {
  log("using the PostgreSQL server at DATABASE_URL");
} else {
  scratch = mkdtempSync(join(tmpdir(), "parlor-test-"));
  chmodSync(scratch, 0o755); // the server runs as the `postgres` user when we are root
  try {
    local = await startLocalPostgres(join(scratch, "pg"), log);
  } catch (error) {
    await cleanUp();
    if (!(error instanceof LocalPostgresError)) throw error;
    log(error.message);
    process.exit(1);
  }
  adminUrl = local.adminUrl;
  log("started an embedded PostgreSQL for this run");
}

database = `parlor_test_${randomBytes(4).toString("hex")}`;
await ensureDatabase(adminUrl, database);
const url = databaseUrl(adminUrl, database);
let code = 1;
const clerk = await startClerkStandIn();
const stripe = await startStripeStandIn();
const service = await startExternalService();
const doh = await startDohStandIn();
const hungPostgres = await startHungPostgres();
stands = [clerk, stripe, service, doh, hungPostgres];
// Tests sign Stripe's webhook deliveries themselves, with the secret the Worker is given.
const stripeWebhookSecret = `whsec_${randomBytes(24).toString("base64")}`;
try {
  await applyMigrations(url);
  await applyMigrations(url); // a second run must be a no-op
  log(`database ${database} migrated`);
  await run("vite", ["build", "--logLevel", "warn"], { cwd: resolve(root, "web") });
  const keys = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  code = await new Promise<number>((resolveCode) => {
    vitest = spawn("vitest", ["run", ...process.argv.slice(2)], {
      cwd: root,
      stdio: "inherit",
      env: {
        ...process.env,
        PARLOR_TEST_DATABASE_URL: url,
        PARLOR_TEST_PUBLIC_KEY: keys.publicKey,
        PARLOR_TEST_PRIVATE_KEY: keys.privateKey,
        PARLOR_TEST_CLERK_API_URL: clerk.url,
        PARLOR_TEST_CLERK_WEBHOOK_SECRET: clerk.signingSecret,
        PARLOR_TEST_STRIPE_API_URL: stripe.url,
        PARLOR_TEST_STRIPE_SECRET_KEY: stripe.secretKey,
        PARLOR_TEST_STRIPE_WEBHOOK_SECRET: stripeWebhookSecret,
        PARLOR_TEST_SERVICE_URL: service.url,
        PARLOR_TEST_DOH_URL: doh.url,
        PARLOR_TEST_HUNG_DATABASE_URL: hungPostgres.url,
        PARLOR_TEST_SECRETS_KEY: newSecretsKey("test-1"),
      },
    });
    vitest.on("error", () => resolveCode(1));
    vitest.on("exit", (exitCode) => resolveCode(exitCode ?? 1));
  });
} finally {
  await cleanUp();
}
process.exit(code);
