/**
 * `npm start` stopped by a signal to its script alone (as a supervisor sends it, or Ctrl-C once npm has passed it on)
 * leaves nothing running: not wrangler, not workerd in wrangler's process group, not the port, not the pid file.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { processGroupAlive, type RunningParlor, startParlor } from "../../scripts/parlor-process";

const databaseUrl = process.env.PARLOR_TEST_DATABASE_URL as string;
let parlor: RunningParlor | null = null;
let dataDir: string | null = null;

afterEach(async () => {
  await parlor?.kill("SIGKILL"); // only does something if the test failed
  parlor = null;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function started(): Promise<{ parlor: RunningParlor; group: number }> {
  dataDir = mkdtempSync(join(tmpdir(), "parlor-stop-"));
  parlor = await startParlor(dataDir, databaseUrl);
  const group = Number(readFileSync(parlor.pidFile, "utf8"));
  expect(processGroupAlive(group)).toBe(true);
  return { parlor, group };
}

describe("stopping npm start", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`${signal} to the start script alone: the dev server's process group is gone, the port free, the pid file removed`, async () => {
      const { parlor, group } = await started();
      const code = await parlor.signal(signal);
      // Checked the moment the script has exited: nothing may be left to stop after it.
      expect(processGroupAlive(group)).toBe(false);
      expect(await portFree(parlor.port)).toBe(true);
      expect(existsSync(parlor.pidFile)).toBe(false);
      expect(code).toBe(0);
      await expect.poll(parlor.output).toContain("[parlor] stopped");
    });
  }

  it("a dev server that exits by itself takes the rest down: workerd in its group, the start script", async () => {
    const { parlor, group } = await started();
    process.kill(group, "SIGKILL"); // wrangler alone, leaving workerd behind in its group
    const code = await parlor.exit();
    expect(processGroupAlive(group)).toBe(false);
    expect(await portFree(parlor.port)).toBe(true);
    expect(existsSync(parlor.pidFile)).toBe(false);
    expect(code).toBe(1);
    await expect.poll(parlor.output).toContain("the dev server exited");
  });
});
