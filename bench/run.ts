/**
 * `npm run bench`: a Parlor room through the real stack (`npm start`'s workerd) beside a bare Node WebSocket +
 * SQLite server, under the same load generator in the same run. Prints both with their ratio.
 */
import { type ChildProcess, fork } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { databaseUrl, ensureDatabase, type LocalPostgres, startLocalPostgres } from "../scripts/local-postgres.ts";
import { applyMigrations } from "../scripts/migrate.ts";
import { freePort, json, type RunningParlor, startParlor } from "../scripts/parlor-process.ts";
import { catchUp, fanOutLatency, type Target, throughput } from "./load.ts";

const scratch = mkdtempSync(join(tmpdir(), "parlor-bench-"));
chmodSync(scratch, 0o755);
const log = (line: string) => console.log(`[bench] ${line}`);

let local: LocalPostgres | null = null;
let parlor: RunningParlor | null = null;
let baseline: ChildProcess | null = null;
try {
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    local = await startLocalPostgres(join(scratch, "pg"), log);
    adminUrl = local.adminUrl;
  }
  await ensureDatabase(adminUrl, "parlor_bench");
  const url = databaseUrl(adminUrl, "parlor_bench");
  await applyMigrations(url);
  parlor = await startParlor(join(scratch, "parlor"), url);
  log(`Parlor up on ${parlor.baseUrl}`);
  const baselinePort = await freePort();
  baseline = fork(join(import.meta.dirname, "baseline-server.ts"), [
    String(baselinePort),
    join(scratch, "baseline.db"),
  ]);
  await new Promise<void>((resolve) => baseline?.once("message", () => resolve()));
  log(`baseline up on ws://127.0.0.1:${baselinePort}`);

  const targets = [parlorTarget(parlor.baseUrl), baselineTarget(baselinePort)];
  const rows: [string, string, number, number][] = [];
  const measure = async (label: string, unit: string, run: (target: Target) => Promise<number>) => {
    const [room, bare] = [await run(targets[0]), await run(targets[1])];
    rows.push([label, unit, room, bare]);
    log(`${label}: parlor ${room.toFixed(1)} ${unit}, baseline ${bare.toFixed(1)} ${unit}`);
  };

  for (const sockets of [3, 30]) {
    const perSocket = sockets === 3 ? 500 : 50;
    const results = new Map<string, Awaited<ReturnType<typeof throughput>>>();
    for (const target of targets) results.set(target.name, await throughput(target, sockets, perSocket));
    const [room, bare] = [results.get("parlor"), results.get("baseline")];
    if (!room || !bare) throw new Error("missing result");
    rows.push([`stored, ${sockets} sockets`, "msg/s", room.storedPerSecond, bare.storedPerSecond]);
    rows.push([`deliveries, ${sockets} sockets`, "msg/s", room.deliveriesPerSecond, bare.deliveriesPerSecond]);
  }
  const latencies = [];
  for (const target of targets) latencies.push(await fanOutLatency(target, 30, 50, 5));
  rows.push(["fan-out p50, 30 sockets at 50 msg/s", "ms", latencies[0].p50, latencies[1].p50]);
  rows.push(["fan-out p99, 30 sockets at 50 msg/s", "ms", latencies[0].p99, latencies[1].p99]);
  await measure("catch-up of 10,000 messages", "ms", async (target) => (await catchUp(target, 10_000)).ms);

  console.log("");
  console.log(table(rows));
  console.log("");
  console.log("ratio = parlor / baseline. Targets: deliveries ratio >= 0.5; fan-out p99 ratio <= 3.");
} finally {
  baseline?.kill();
  await parlor?.kill("SIGTERM");
  await local?.stop();
  rmSync(scratch, { recursive: true, force: true });
}

function table(rows: [string, string, number, number][]): string {
  const lines = [["measure", "unit", "parlor", "baseline", "ratio"]];
  for (const [label, unit, room, bare] of rows)
    lines.push([label, unit, room.toFixed(1), bare.toFixed(1), (room / bare).toFixed(2)]);
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const fmt = (l: string[]) =>
    `| ${l.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  return [
    fmt(lines[0]),
    `|${widths.map((w, i) => (i < 2 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`,
    ...lines.slice(1).map(fmt),
  ].join("\n");
}

function parlorTarget(baseUrl: string): Target {
  let tokenPromise: Promise<string> | null = null;
  let orgPromise: Promise<string> | null = null;
  const token = () => {
    tokenPromise ??= json<{ token: string }>(baseUrl, "POST", "/dev/token", undefined, { userId: "bench" }).then(
      (r) => r.token,
    );
    return tokenPromise;
  };
  const org = async () => {
    orgPromise ??= json<{ id: string }>(baseUrl, "POST", "/orgs", await token(), { name: "Bench" }).then((r) => r.id);
    return orgPromise;
  };
  return {
    name: "parlor",
    async newRoom() {
      const t = await token();
      const chat = await json<{ id: string }>(baseUrl, "POST", `/orgs/${await org()}/chats`, t, { title: "bench" });
      const ws = baseUrl.replace("http", "ws");
      return {
        socketUrl: (after) => `${ws}/api/chats/${chat.id}/ws?token=${encodeURIComponent(t)}&after=${after}`,
        lastSeq: async () => {
          const { messages } = await json<{ messages: { seq: number }[] }>(
            baseUrl,
            "GET",
            `/chats/${chat.id}/messages?after=0&limit=1`,
            t,
          );
          return messages.length === 0 ? 0 : lastSeqByPaging(baseUrl, chat.id, t);
        },
      };
    },
  };
}

async function lastSeqByPaging(baseUrl: string, chatId: string, token: string): Promise<number> {
  let after = 0;
  for (;;) {
    const { messages } = await json<{ messages: { seq: number }[] }>(
      baseUrl,
      "GET",
      `/chats/${chatId}/messages?after=${after}&limit=500`,
      token,
    );
    if (messages.length === 0) return after;
    after = messages[messages.length - 1].seq;
  }
}

function baselineTarget(port: number): Target {
  return {
    name: "baseline",
    async newRoom() {
      const socketUrl = (after: number) => `ws://127.0.0.1:${port}/?user=bench&after=${after}`;
      return {
        socketUrl,
        // The baseline has one room; a "new" room starts after whatever earlier scenarios stored.
        lastSeq: () =>
          new Promise<number>((resolve, reject) => {
            import("ws").then(({ default: WebSocket }) => {
              const ws = new WebSocket(socketUrl(Number.MAX_SAFE_INTEGER));
              ws.on("message", (data) => {
                const event = JSON.parse(String(data)) as { type: string; lastSeq?: number };
                if (event.type === "ready") {
                  ws.close();
                  resolve(event.lastSeq ?? 0);
                }
              });
              ws.on("error", reject);
            });
          }),
      };
    },
  };
}
