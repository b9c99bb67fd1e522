/**
 * `npm start`: Parlor on one machine with no accounts and no network.
 * PostgreSQL (embedded, or DATABASE_URL), migrations, a local signing key, the web client, then `wrangler dev`.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { devKeys, devVarsFile } from "./dev-keys.ts";
import { databaseUrl, ensureDatabase, type LocalPostgres, startLocalPostgres } from "./local-postgres.ts";
import { applyMigrations } from "./migrate.ts";
import { run } from "./run.ts";

const root = resolve(import.meta.dirname, "..");
const dataDir = resolve(process.env.PARLOR_DATA_DIR ?? resolve(root, ".data"));
const port = Number(process.env.PORT ?? 8787);
const log = (line: string) => console.log(`[parlor] ${line}`);

mkdirSync(dataDir, { recursive: true });
const wranglerPidFile = resolve(dataDir, "wrangler.pid");
stopLeftoverDevServer();

let localPostgres: LocalPostgres | null = null;
let url = process.env.DATABASE_URL;
if (url) {
  log("using the PostgreSQL server at DATABASE_URL");
} else {
  localPostgres = await startLocalPostgres(resolve(dataDir, "pg"), log);
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
};
for (const name of [
  "OPENAI_API_KEY",
  "OPENAI_BASE_URL",
  "PARLOR_LOCAL_MODEL_DELAY_MS",
  "PARLOR_MAX_AGENTS_PER_MESSAGE",
]) {
  const value = process.env[name];
  if (value) vars[name] = value;
}
const varsFile = resolve(dataDir, "dev.vars");
writeFileSync(varsFile, devVarsFile(vars), { mode: 0o600 });

await run("vite", ["build", "--logLevel", "warn"], { cwd: resolve(root, "web") });
log("web client built");

const wrangler = spawn(
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
    detached: true,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  },
);
if (wrangler.pid) writeFileSync(wranglerPidFile, String(wrangler.pid));
log(`starting Parlor on http://localhost:${port}`);

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // wrangler leaves workerd running if only wrangler is killed: stop its whole process group.
  try {
    if (wrangler.pid) process.kill(-wrangler.pid, "SIGTERM");
  } catch {}
  rmSync(wranglerPidFile, { force: true });
  if (localPostgres) await localPostgres.stop();
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
wrangler.on("exit", (code) => void stop(code ?? 1));

/** A dev server a killed earlier run left behind would hold the port and the room storage: stop its process group. */
function stopLeftoverDevServer(): void {
  if (!existsSync(wranglerPidFile)) return;
  const pid = Number(readFileSync(wranglerPidFile, "utf8"));
  const command = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, "utf8") : "";
  if (!command.includes("wrangler")) {
    rmSync(wranglerPidFile, { force: true });
    return; // gone, or the pid now belongs to something else
  }
  try {
    process.kill(-pid, "SIGKILL");
    log(`stopped the dev server a previous run left running (process group ${pid})`);
  } catch {}
  rmSync(wranglerPidFile, { force: true });
}
