/**
 * `npm test`: a fresh database on a real PostgreSQL for this run (the embedded server, or the one at DATABASE_URL),
 * migrations applied, then vitest: workerd tests against the real rooms, and end-to-end tests against `npm start`.
 * The database is dropped afterwards, so every run proves every migration from scratch.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startClerkStandIn } from "../test/clerk-stand-in.ts";
import { startExternalService } from "../test/external-service.ts";
import { databaseUrl, dropDatabase, ensureDatabase, type LocalPostgres, startLocalPostgres } from "./local-postgres.ts";
import { applyMigrations } from "./migrate.ts";
import { run } from "./run.ts";

const root = resolve(import.meta.dirname, "..");
const log = (line: string) => console.log(`[test] ${line}`);

let local: LocalPostgres | null = null;
let scratch: string | null = null;
let adminUrl = process.env.DATABASE_URL;
if (adminUrl) {
  log("using the PostgreSQL server at DATABASE_URL");
} else {
  scratch = mkdtempSync(join(tmpdir(), "parlor-test-"));
  chmodSync(scratch, 0o755); // the server runs as the `postgres` user when we are root
  local = await startLocalPostgres(join(scratch, "pg"), log);
  adminUrl = local.adminUrl;
  log("started an embedded PostgreSQL for this run");
}

const database = `parlor_test_${randomBytes(4).toString("hex")}`;
await ensureDatabase(adminUrl, database);
const url = databaseUrl(adminUrl, database);
let code = 1;
const clerk = await startClerkStandIn();
const service = await startExternalService();
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
    import("node:child_process").then(({ spawn }) => {
      const vitest = spawn("vitest", ["run", ...process.argv.slice(2)], {
        cwd: root,
        stdio: "inherit",
        env: {
          ...process.env,
          PARLOR_TEST_DATABASE_URL: url,
          PARLOR_TEST_PUBLIC_KEY: keys.publicKey,
          PARLOR_TEST_PRIVATE_KEY: keys.privateKey,
          PARLOR_TEST_CLERK_API_URL: clerk.url,
          PARLOR_TEST_CLERK_WEBHOOK_SECRET: clerk.signingSecret,
          PARLOR_TEST_SERVICE_URL: service.url,
        },
      });
      vitest.on("exit", (exitCode) => resolveCode(exitCode ?? 1));
    });
  });
} finally {
  await clerk.close();
  await service.close();
  await dropDatabase(adminUrl, database).catch((error) => log(`could not drop ${database}: ${error}`));
  if (local) await local.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}
process.exit(code);
