/** Runs Parlor exactly as `npm start` does, on a port and data directory of the test's own. */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type ParlorClient, parlorClient } from "../api/client.ts";
import { freePort as freePortFor, processGroupAlive } from "./local-postgres.ts";

const root = resolve(import.meta.dirname, "..");

export type RunningParlor = {
  baseUrl: string;
  port: number;
  /** The start script's process id (also its process group: it runs detached). */
  pid: number;
  /** Where the start script records the dev server's process group. */
  pidFile: string;
  /** Signals both process groups (the start script's and the dev server's) and waits until both are gone. */
  kill: (signal: NodeJS.Signals) => Promise<void>;
  /** Everything the start script (and the dev server) printed so far. */
  output: () => string;
  /** Waits for the start script to exit, and resolves at once with its exit code. */
  exit: (timeoutMs?: number) => Promise<number | null>;
  /** Sends one signal to the start script alone (not its process group), then waits for it to exit. */
  signal: (signal: NodeJS.Signals, timeoutMs?: number) => Promise<number | null>;
};

/** `env` adds variables to the start script's environment (it passes PARLOR_* ones on to the Worker). */
export async function startParlor(
  dataDir: string,
  databaseUrl: string,
  port?: number,
  env: Record<string, string> = {},
): Promise<RunningParlor> {
  const chosenPort = port ?? (await freePortFor());
  const child = spawn(process.execPath, [join(root, "scripts/start.ts")], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env, PORT: String(chosenPort), PARLOR_DATA_DIR: dataDir, DATABASE_URL: databaseUrl },
  });
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const baseUrl = `http://localhost:${chosenPort}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    try {
      if ((await fetch(`${baseUrl}/api/health`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`Parlor did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const exited = new Promise<number | null>((resolveExit) => {
    if (child.exitCode !== null) resolveExit(child.exitCode);
    else child.once("exit", (code) => resolveExit(code));
  });
  const exit = async (timeoutMs = 30_000) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`npm start did not exit within ${timeoutMs} ms:\n${output}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    baseUrl,
    port: chosenPort,
    pid: child.pid as number,
    pidFile: join(dataDir, "wrangler.pid"),
    kill: (signal) => killAll(child, dataDir, signal),
    output: () => output,
    exit,
    signal: (signal, timeoutMs) => {
      child.kill(signal);
      return exit(timeoutMs);
    },
  };
}

/** Signals the start script's process group and the dev server's, and waits until both are gone. */
async function killAll(child: ChildProcess, dataDir: string, signal: NodeJS.Signals): Promise<void> {
  const pidFile = join(dataDir, "wrangler.pid");
  const wranglerGroup = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) : null;
  const groups = [child.pid, wranglerGroup].filter((pid): pid is number => Boolean(pid));
  for (const group of groups) {
    try {
      process.kill(-group, signal);
    } catch {}
  }
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && groups.some(processGroupAlive)) await new Promise((r) => setTimeout(r, 100));
  for (const group of groups) {
    try {
      process.kill(-group, "SIGKILL");
    } catch {}
  }
}

export { freePort, processGroupAlive } from "./local-postgres.ts";

/** The typed client's API of a running Parlor, signed in as `token` when given. */
export function apiOf(baseUrl: string, token?: string): ParlorClient["api"] {
  return parlorClient(baseUrl, { headers: token ? { Authorization: `Bearer ${token}` } : {} }).api;
}

/** The body of a successful answer; anything else throws with the answer's status and error. */
export async function ok<T>(response: {
  ok: boolean;
  status: number;
  url: string;
  json(): Promise<T>;
  text(): Promise<string>;
}): Promise<T> {
  if (!response.ok) throw new Error(`${response.url}: ${response.status} ${await response.text()}`);
  return response.json();
}
