/**
 * The embedded PostgreSQL from a directory only root can enter, as in a clone under /root (mode 700). As root the
 * server runs as the `postgres` user, who cannot reach binaries or data there: they must be put where it can.
 * This test does not use DATABASE_URL, so it runs the embedded path even where CI provides a server.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type LocalPostgres, platformNativeDir, startLocalPostgres } from "../../scripts/local-postgres";
import { withClient } from "../../scripts/pg-client";

const isRoot = process.getuid?.() === 0;
const scratch: string[] = [];
const servers: LocalPostgres[] = [];

afterAll(async () => {
  for (const server of servers) await server.stop();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function directory(prefix: string, mode: number): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, mode);
  scratch.push(dir);
  return dir;
}

async function query<T>(url: string, text: string): Promise<T[]> {
  return withClient(url, async (client) => (await client.query(text)).rows as T[]);
}

describe("the embedded PostgreSQL in a private directory", () => {
  it("copies the binaries and puts the data where the postgres user can reach them; the data persists", async (ctx) => {
    ctx.skip(
      !isRoot,
      "needs root: only as root does the server run as another user (postgres) who cannot enter a 0700 directory",
    );
    const privateDir = directory("parlor-private-", 0o700);
    // The relocation target is the test's own (not /var/tmp), so it starts empty and is removed afterwards.
    const relocationDir = directory("parlor-relocated-", 0o755);
    // The binaries as seen through the private directory, like node_modules in a clone under /root.
    const nativeDir = join(privateDir, "native");
    symlinkSync(await platformNativeDir(), nativeDir);
    const dataDir = join(privateDir, "data", "pg");
    const lines: string[] = [];
    const start = () => startLocalPostgres(dataDir, (line) => lines.push(line), { nativeDir, relocationDir });

    const server = await start();
    servers.push(server);
    expect(server.reused).toBe(false);
    expect(server.dataDir.startsWith(`${relocationDir}/`)).toBe(true);
    expect(lines).toContain(
      `PostgreSQL data at ${server.dataDir}, because ${dataDir} is not reachable by the postgres user`,
    );
    expect(lines.some((line) => /^PostgreSQL binaries copied to .*, because .* is not reachable/.test(line))).toBe(
      true,
    );
    const [row] = await query<{ user: string; dir: string }>(
      server.adminUrl,
      "SELECT current_user AS user, current_setting('data_directory') AS dir",
    );
    expect(row).toEqual({ user: "postgres", dir: server.dataDir });
    const serverUser = statSync(server.dataDir).uid;
    expect(serverUser).not.toBe(0);
    await query(server.adminUrl, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)");

    // A second start finds the running server through postmaster.pid in the relocated directory.
    const again = await start();
    expect(again).toMatchObject({ reused: true, adminUrl: server.adminUrl, dataDir: server.dataDir });

    // Stopped and started again: the same relocated directory, with the data in it.
    await server.stop();
    servers.pop();
    expect(existsSync(join(server.dataDir, "postmaster.pid"))).toBe(false);
    const restarted = await start();
    servers.push(restarted);
    expect(restarted).toMatchObject({ reused: false, dataDir: server.dataDir });
    expect(await query(restarted.adminUrl, "SELECT n FROM kept")).toEqual([{ n: 42 }]);

    await restarted.stop({ removeData: true });
    servers.pop();
    expect(existsSync(server.dataDir)).toBe(false);
  });
});
