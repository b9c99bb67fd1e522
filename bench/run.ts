/**
 * `npm run bench`: a Parlor room through the real stack (`npm start`'s workerd) beside a bare Node WebSocket +
 * SQLite server, under the same load generator in the same run. Prints both with their ratio.
 */
import { type ChildProcess, fork } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type WebSocket from "ws";
import { type ParlorClient, parlorClient } from "../api/client.ts";
import {
  databaseUrl,
  dropDatabase,
  ensureDatabase,
  type LocalPostgres,
  startLocalPostgres,
} from "../scripts/local-postgres.ts";
import { applyMigrations } from "../scripts/migrate.ts";
import { freePort, type RunningParlor, startParlor } from "../scripts/parlor-process.ts";
import { catchUp, fanOutLatency, type Target, type TokenTarget, throughput, tokenFanOut } from "./load.ts";
import { measureOverheads } from "./overheads.ts";

/** 30 people in one org, so every socket is a different member, as in a real room. */
const PEOPLE = 30;
const scratch = mkdtempSync(join(tmpdir(), "parlor-bench-"));
chmodSync(scratch, 0o755);
const log = (line: string) => console.log(`[bench] ${line}`);

let local: LocalPostgres | null = null;
let adminUrlInUse: string | null = null;
let parlor: RunningParlor | null = null;
let baseline: ChildProcess | null = null;
try {
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    local = await startLocalPostgres(join(scratch, "pg"), log);
    adminUrl = local.adminUrl;
  }
  await ensureDatabase(adminUrl, "parlor_bench");
  adminUrlInUse = adminUrl;
  const url = databaseUrl(adminUrl, "parlor_bench");
  await applyMigrations(url);
  // A load test: every socket sends far more than a member may (`npm start` passes PARLOR_* on to the Worker, and
  // `off` is honoured in development only, which `npm start` is).
  process.env.PARLOR_RATE_LIMITS = "off";
  parlor = await startParlor(join(scratch, "parlor"), url);
  log(`Parlor up on ${parlor.baseUrl}`);
  const baselinePort = await freePort();
  baseline = fork(join(import.meta.dirname, "baseline-server.ts"), [
    String(baselinePort),
    join(scratch, "baseline.db"),
  ]);
  await new Promise<void>((resolve) => baseline?.once("message", () => resolve()));
  log(`baseline up on ws://127.0.0.1:${baselinePort}`);

  const org = benchOrg(parlor.baseUrl);
  const targets = [parlorTarget(parlor.baseUrl, org), baselineTarget(baselinePort)];
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
  // A socket catches up at most 1,000 messages (the contract); a client pages the rest over REST.
  await measure("catch-up of 1,000 messages", "ms", async (target) => (await catchUp(target, 1_000)).ms);

  // Token fan-out: one agent streaming to 30 sockets, at a steady 50 tokens/s and flat out.
  const tokenTargets = [parlorTokenTarget(parlor.baseUrl, org), baselineTokenTarget(baselinePort)];
  for (const [label, paceMs, tokens] of [
    ["steady 50/s", 20, 250],
    ["flat out", 0, 2_000],
  ] as const) {
    const [room, bare] = [
      await tokenFanOut(tokenTargets[0], 30, tokens, paceMs),
      await tokenFanOut(tokenTargets[1], 30, tokens, paceMs),
    ];
    rows.push([`token delta p50, 30 sockets, ${label}`, "ms", room.p50, bare.p50]);
    rows.push([`token delta p99, 30 sockets, ${label}`, "ms", room.p99, bare.p99]);
    rows.push([`tokens per second, 30 sockets, ${label}`, "tok/s", room.tokensPerSecond, bare.tokensPerSecond]);
    rows.push([`SQLite rows written per token, ${label}`, "rows", room.rowsPerToken, bare.rowsPerToken]);
    log(
      `tokens ${label}: parlor p99 ${room.p99} ms, ${room.tokensPerSecond.toFixed(0)} tok/s, ${room.rowsPerToken.toFixed(4)} rows/token`,
    );
  }

  console.log("");
  console.log(table(rows));
  console.log("");
  console.log("ratio = parlor / baseline. Targets: deliveries ratio >= 0.5; fan-out p99 ratio <= 3.");
  const overheads = measureOverheads();
  console.log(
    `guards per message (in process): rate-limit check ${overheads.rateLimitNs.toFixed(0)} ns; billing check ` +
      `${overheads.billingCheckNs.toFixed(0)} ns (only messages that wake an agent); audit rows written per ` +
      `accepted message ${overheads.auditRowsPerMessage} (refusals, decisions and admin actions only). ` +
      "Usage is sent in one Postgres batch per room per PARLOR_USAGE_BATCH_MS (10 s), not per message.",
  );
} finally {
  baseline?.kill();
  await parlor?.kill("SIGTERM");
  // The benchmark's database goes with it, as `npm test`'s does.
  if (adminUrlInUse) await dropDatabase(adminUrlInUse, "parlor_bench").catch((error) => log(`not dropped: ${error}`));
  await local?.stop();
  rmSync(scratch, { recursive: true, force: true });
}

function table(rows: [string, string, number, number][]): string {
  const lines = [["measure", "unit", "parlor", "baseline", "ratio"]];
  for (const [label, unit, room, bare] of rows) {
    const digits = unit === "rows" ? 4 : 1;
    lines.push([label, unit, room.toFixed(digits), bare.toFixed(digits), bare === 0 ? "-" : (room / bare).toFixed(2)]);
  }
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const fmt = (l: string[]) =>
    `| ${l.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  return [
    fmt(lines[0]),
    `|${widths.map((w, i) => (i < 2 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`,
    ...lines.slice(1).map(fmt),
  ].join("\n");
}

/** The typed client, signed in as `token`. */
function as(baseUrl: string, token?: string): ParlorClient["api"] {
  return parlorClient(baseUrl, { headers: token ? { Authorization: `Bearer ${token}` } : {} }).api;
}

/** The body of a successful answer; anything else stops the benchmark with the answer's error. */
async function ok<T>(response: { ok: boolean; status: number; json(): Promise<T>; text(): Promise<string> }) {
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  return response.json();
}

function benchOrg(baseUrl: string) {
  let ready: Promise<{ orgId: string; tokens: string[] }> | null = null;
  return () => {
    ready ??= (async () => {
      const tokens: string[] = [];
      for (let i = 0; i < PEOPLE; i++) {
        const { token } = await ok(await as(baseUrl).dev.token.$post({ json: { userId: `bench-${i}` } }));
        tokens.push(token);
      }
      const api = as(baseUrl, tokens[0]);
      const org = await ok(await api.orgs.$post({ json: { name: "Bench" } }));
      for (let i = 1; i < PEOPLE; i++) {
        await ok(
          await api.orgs[":orgId"].members.$post({
            param: { orgId: org.id },
            json: { userId: `bench-${i}`, role: "member" },
          }),
        );
      }
      return { orgId: org.id, tokens };
    })();
    return ready;
  };
}

async function benchChat(baseUrl: string, org: { orgId: string; tokens: string[] }): Promise<string> {
  const api = as(baseUrl, org.tokens[0]);
  const chat = await ok(
    await api.orgs[":orgId"].chats.$post({ param: { orgId: org.orgId }, json: { title: "bench" } }),
  );
  for (let i = 1; i < PEOPLE; i++) {
    await ok(await api.chats[":chatId"].members.$post({ param: { chatId: chat.id }, json: { userId: `bench-${i}` } }));
  }
  return chat.id;
}

function parlorTarget(baseUrl: string, org: ReturnType<typeof benchOrg>): Target {
  return {
    name: "parlor",
    async newRoom() {
      const people = await org();
      const chatId = await benchChat(baseUrl, people);
      const ws = baseUrl.replace("http", "ws");
      let next = 0;
      return {
        socketUrl: (after) => {
          const token = people.tokens[next++ % PEOPLE];
          return `${ws}/api/chats/${chatId}/ws?token=${encodeURIComponent(token)}&after=${after}`;
        },
        lastSeq: () => lastSeqByPaging(baseUrl, chatId, people.tokens[0]),
      };
    },
  };
}

async function lastSeqByPaging(baseUrl: string, chatId: string, token: string): Promise<number> {
  let after = 0;
  for (;;) {
    const { messages } = await ok(
      await as(baseUrl, token).chats[":chatId"].messages.$get({
        param: { chatId },
        query: { after: String(after), limit: "500" },
      }),
    );
    if (messages.length === 0) return after;
    after = messages[messages.length - 1].seq;
  }
}

function parlorTokenTarget(baseUrl: string, org: ReturnType<typeof benchOrg>): TokenTarget {
  return {
    name: "parlor",
    async newRoom(paceMs) {
      const people = await org();
      const chatId = await benchChat(baseUrl, people);
      const api = as(baseUrl, people.tokens[0]);
      const agent = await ok(
        await api.orgs[":orgId"].agents.$post({
          param: { orgId: people.orgId },
          json: {
            name: "Streamer",
            handle: `streamer${paceMs}-${Date.now().toString(36)}`,
            model: `parlor-local:${paceMs}`,
          },
        }),
      );
      await ok(await api.chats[":chatId"].agents.$post({ param: { chatId }, json: { agentId: agent.id } }));
      const [handle] = (await ok(await api.chats[":chatId"].agents.$get({ param: { chatId } }))).agents;
      const ws = baseUrl.replace("http", "ws");
      let next = 0;
      return {
        socketUrl: () => `${ws}/api/chats/${chatId}/ws?token=${encodeURIComponent(people.tokens[next++ % PEOPLE])}`,
        start: (socket, tokens) =>
          socket.send(
            JSON.stringify({
              type: "message",
              text: `@${handle.handle} clock: ${tokens}`,
              clientMessageId: `clock-${Date.now()}`,
            }),
          ),
        rowsWritten: async () =>
          (await ok(await as(baseUrl).dev.chats[":chatId"].stats.$get({ param: { chatId } }))).rowsWritten,
      };
    },
  };
}

function baselineTokenTarget(port: number): TokenTarget {
  return {
    name: "baseline",
    async newRoom() {
      return {
        socketUrl: () => `ws://127.0.0.1:${port}/?user=bench&after=${Number.MAX_SAFE_INTEGER}`,
        start: (socket: WebSocket, tokens: number, paceMs: number) =>
          socket.send(JSON.stringify({ type: "bench.stream", tokens, paceMs })),
        // The baseline stores nothing while it streams.
        rowsWritten: async () => 0,
      };
    },
  };
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
