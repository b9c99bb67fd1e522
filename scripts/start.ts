/**
 * `npm start`: Parlor on one machine with no accounts and no network.
 * PostgreSQL (embedded, or DATABASE_URL), migrations, a local signing key, the web client, then `wrangler dev`.
 *
 * Ctrl-C or SIGTERM stops the dev server's whole process group (wrangler and workerd) and waits until it is gone
 * (SIGKILL after 10 s, or at once on a second Ctrl-C), then stops PostgreSQL. If the dev server exits by itself,
 * the rest is stopped the same way.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { devAuditSigningKey, devKeys, devSecretsKey, devStripeWebhookSecret, devVarsFile } from "./dev-keys.ts";
import {
  databaseUrl,
  ensureDatabase,
  type LocalPostgres,
  LocalPostgresError,
  processGroupAlive,
  startLocalPostgres,
} from "./local-postgres.ts";
import { applyMigrations } from "./migrate.ts";
import { run } from "./run.ts";

const root = resolve(import.meta.dirname, "..");
const dataDir = resolve(process.env.PARLOR_DATA_DIR ?? resolve(root, ".data"));
const port = Number(process.env.PORT ?? 8787);
const log = (line: string) => console.log(`[parlor] ${line}`);
/** How long the dev server gets to stop after SIGTERM before its process group is killed. */
const STOP_TIMEOUT_MS = 10_000;

let wrangler: ChildProcess | null = null;
let localPostgres: LocalPostgres | null = null;
let stopping = false;
let forced = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => onSignal(signal));

mkdirSync(dataDir, { recursive: true });
const wranglerPidFile = resolve(dataDir, "wrangler.pid");
await stopLeftoverDevServer();

let url = process.env.DATABASE_URL;
if (url) {
  log("using the PostgreSQL server at DATABASE_URL");
} else {
  try {
    localPostgres = await startLocalPostgres(resolve(dataDir, "pg"), log);
  } catch (error) {
    if (!(error instanceof LocalPostgresError)) throw error;
    log(error.message);
    process.exit(1);
  }
  await ensureDatabase(localPostgres.adminUrl, "parlor");
  url = databaseUrl(localPostgres.adminUrl, "parlor");
  log(`embedded PostgreSQL ready at ${url.replace(/:[^:@/]+@/, ":***@")}`);
}
await applyMigrations(url);
log("migrations applied");

const keys = devKeys(resolve(dataDir, "dev-keys.json"));
const vars: Record<string, string> = {
  DATABASE_URL: url,
  CLERK_JWT_KEY: keys.publicKey,
  DEV_SIGNING_KEY: keys.privateKey,
  // A development key for org secrets, unless one is given (then it passes through below like any PARLOR_ variable).
  ...(process.env.PARLOR_SECRETS_KEY ? {} : { PARLOR_SECRETS_KEY: devSecretsKey(resolve(dataDir, "secrets-key")) }),
  // Stripe's webhook with a development secret, so `npm run stripe:event` can drive billing offline.
  ...(process.env.STRIPE_WEBHOOK_SECRET
    ? {}
    : { STRIPE_WEBHOOK_SECRET: devStripeWebhookSecret(resolve(dataDir, "stripe-webhook-secret")) }),
  ...(process.env.PARLOR_APP_URL ? {} : { PARLOR_APP_URL: `http://localhost:${port}` }),
  ...(process.env.PARLOR_AUDIT_SIGNING_KEY
    ? {}
    : { PARLOR_AUDIT_SIGNING_KEY: devAuditSigningKey(resolve(dataDir, "audit-signing-key")) }),
};
// Every documented family passes through, so a feature can be switched on locally without editing files; what
// npm start sets itself (above, and PARLOR_ENV / CLERK_ISSUER in wrangler.toml) wins.
const OWN = new Set([
  "DATABASE_URL",
  "CLERK_JWT_KEY",
  "CLERK_ISSUER",
  "DEV_SIGNING_KEY",
  "PARLOR_ENV",
  "PARLOR_DATA_DIR",
]);
const passed = Object.keys(process.env)
  .filter((name) => /^(STRIPE|CLERK|PARLOR|OPENAI)_/.test(name) && !OWN.has(name) && !name.startsWith("PARLOR_TEST_"))
  .sort();
for (const name of passed) vars[name] = process.env[name] as string;
// The HTTP tool may reach this server itself in development: its own origins join any PARLOR_DEV_ALLOW_ORIGINS given.
vars.PARLOR_DEV_ALLOW_ORIGINS = [
  ...(process.env.PARLOR_DEV_ALLOW_ORIGINS ?? "")
    .split(",")
    .map((origin) => origin.trim())
    .filter(Boolean),
  `http://localhost:${port}`,
  `http://127.0.0.1:${port}`,
].join(",");
if (passed.length > 0) log(`passing to the Worker: ${passed.join(", ")}`);
const varsFile = resolve(dataDir, "dev.vars");
writeFileSync(varsFile, devVarsFile(vars), { mode: 0o600 });

await run("vite", ["build", "--mode", "development", "--logLevel", "warn"], { cwd: resolve(root, "web") });
log("web client built");

if (stopping) await new Promise(() => {}); // a signal came during start-up: stop() exits
wrangler = spawn(
  "wrangler",
  [
    "dev",
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--env-file",
    varsFile,
    "--persist-to",
    resolve(dataDir, "wrangler"),
    "--show-interactive-dev-session=false",
  ],
  {
    cwd: root,
    stdio: "inherit",
    // Its own process group: wrangler leaves workerd running if only wrangler is stopped, so the group is what we
    // stop; and a Ctrl-C in the terminal reaches only this script, which decides the order.
    detached: true,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  },
);
if (wrangler.pid) writeFileSync(wranglerPidFile, String(wrangler.pid));
log(`starting Parlor on http://localhost:${port}`);
wrangler.on("error", (error) => {
  log(`the dev server could not start: ${error.message}`);
  void stop(1);
});
wrangler.on("exit", (code, signal) => {
  if (stopping) return;
  log(`the dev server exited (${code ?? signal}): stopping`);
  void stop(code ?? 1);
});

function onSignal(signal: NodeJS.Signals): void {
  if (!stopping) {
    log(`${signal}: stopping (again to stop at once)`);
    void stop(0);
  } else if (!forced) {
    forced = true;
    log(`${signal} again: stopping at once`);
    if (wrangler?.pid) signalGroup(wrangler.pid, "SIGKILL");
    void localPostgres?.stop({ immediate: true });
  }
}

/** Stops the dev server's process group and waits until it is gone, then PostgreSQL if it is ours; then exits. */
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const group = wrangler?.pid;
  if (group) {
    signalGroup(group, forced ? "SIGKILL" : "SIGTERM");
    if (!(await groupGone(group, STOP_TIMEOUT_MS))) {
      log(`the dev server did not stop within ${STOP_TIMEOUT_MS / 1000} s: killing it`);
      signalGroup(group, "SIGKILL");
    }
    if (await groupGone(group, 5_000)) rmSync(wranglerPidFile, { force: true });
    else log(`process group ${group} is still there after SIGKILL; ${wranglerPidFile} names it`);
  }
  await localPostgres?.stop({ immediate: forced });
  log("stopped");
  process.exit(code);
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch {}
}

async function groupGone(group: number, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (!processGroupAlive(group)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !processGroupAlive(group);
}

/** A dev server a killed earlier run left behind would hold the port and the room storage: stop its process group. */
async function stopLeftoverDevServer(): Promise<void> {
  if (!existsSync(wranglerPidFile)) return;
  const group = Number(readFileSync(wranglerPidFile, "utf8"));
  if (!Number.isInteger(group) || group <= 1) return rmSync(wranglerPidFile, { force: true });
  const leader = existsSync(`/proc/${group}/cmdline`) ? readFileSync(`/proc/${group}/cmdline`, "utf8") : "";
  // With wrangler gone (or a zombie), what is left of its group (workerd) is still ours: a live group keeps its
  // number from reuse. A live leader that is not wrangler means the number now belongs to something else. Without
  // /proc there is no telling, so nothing is killed.
  const ours = existsSync("/proc/self") && (leader ? leader.includes("wrangler") : processGroupAlive(group));
  if (ours) {
    signalGroup(group, "SIGKILL");
    if (!(await groupGone(group, 5_000))) {
      log(`the dev server a previous run left running (process group ${group}) does not stop`);
      process.exit(1);
    }
    log(`stopped the dev server a previous run left running (process group ${group})`);
  }
  rmSync(wranglerPidFile, { force: true });
}
