/**
 * `npm run bench`: a Parlor room through the real stack (`npm start`'s workerd) beside a bare Node WebSocket +
 * SQLite server, under the same load generator in the same run. Prints both with their ratio.
 */
import { type ChildProcess, fork } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
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
import { withClient } from "../scripts/pg-client.ts";
import { type CostInputs, costOf, dollars } from "./cost.ts";
import {
  backupOperations,
  catchUp,
  chatCreations,
  closedLoop,
  fanOutLatency,
  idleRoom,
  noOpRequests,
  type Operations,
  PAGE_SIZE,
  restPosts,
  socketOpens,
  type Target,
  type TokenTarget,
  tokenFanOut,
} from "./load.ts";
import { measureOverheads } from "./overheads.ts";
import { saveProfile, startProfile, workerInspector } from "./profile.ts";

/**
 * How long each open-loop run lasts. Its p99 is the 1% slowest deliveries, and every socket gets each message, so
 * over 5 s (250 messages) it was the third slowest message: one pause (a new chat's first summary waking its
 * summary agent on the same thread in `wrangler dev`, a collection) decided it. 20 s is 1,000 messages.
 */
const FAN_OUT_SECONDS = 20;

/** 300 people in one org, so every socket is a different member, as in a real room (a room has up to 300 here). */
const PEOPLE = 300;
const scratch = mkdtempSync(join(tmpdir(), "parlor-bench-"));
chmodSync(scratch, 0o755);
const log = (line: string) => console.log(`[bench] ${line}`);

/** `npm run bench -- request-path tokens` runs only those sections; no names runs them all. */
const SECTIONS = ["closed-loop", "fan-out", "catch-up", "request-path", "tokens", "operations"] as const;
const asked = process.argv.slice(2);
for (const name of asked) {
  if (!(SECTIONS as readonly string[]).includes(name)) {
    console.error(`bench: unknown section ${name}; the sections are ${SECTIONS.join(", ")}`);
    process.exit(2);
  }
}
const runs = (section: (typeof SECTIONS)[number]) => asked.length === 0 || asked.includes(section);

type Row = { label: string; unit: string; parlor: number; perCommit: number; groupCommit: number | null };

let local: LocalPostgres | null = null;
let adminUrlInUse: string | null = null;
let parlor: RunningParlor | null = null;
const baselines: ChildProcess[] = [];
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
  const perCommitPort = await startBaseline("per-commit");
  const groupCommitPort = await startBaseline("group-commit");
  log(`baselines up on ports ${perCommitPort} (per-commit) and ${groupCommitPort} (group-commit)`);

  const org = benchOrg(parlor.baseUrl);
  const parlorSide = parlorTarget(parlor.baseUrl, org);
  const perCommit = baselineTarget("per-commit", perCommitPort);
  const groupCommit = baselineTarget("group-commit", groupCommitPort);
  const rows: Row[] = [];
  /** Parlor's side of a measure, under the CPU profiler when PARLOR_BENCH_PROFILE names a directory (profile.ts). */
  const profileDir = process.env.PARLOR_BENCH_PROFILE;
  const inspector =
    profileDir && parlor.pidFile ? await workerInspector(Number(readFileSync(parlor.pidFile, "utf8"))) : null;
  async function profiled<R>(name: string, run: () => Promise<R>): Promise<R> {
    if (!profileDir || !inspector) return run();
    const stop = await startProfile(inspector).catch((error) => log(`${name}: not profiled (${error})`));
    const result = await run();
    const profile = stop && (await stop().catch((error) => log(`${name}: no profile (${error})`)));
    if (profile) saveProfile(profileDir, name, profile, log);
    return result;
  }
  /** Runs one measure on Parlor and each baseline (in turn, never at once) and keeps the figures it returns. */
  async function compare<R>(
    run: (target: Target) => Promise<R>,
    figures: [label: string, unit: string, pick: (result: R) => number][],
    withGroupCommit = true,
  ): Promise<R> {
    const room = await profiled(figures[0][0], () => run(parlorSide));
    const bare = await run(perCommit);
    const grouped = withGroupCommit ? await run(groupCommit) : null;
    for (const [label, unit, pick] of figures) {
      rows.push({ label, unit, parlor: pick(room), perCommit: pick(bare), groupCommit: grouped && pick(grouped) });
      const groupFigure = grouped ? `, group-commit ${pick(grouped).toFixed(1)}` : "";
      log(`${label}: parlor ${pick(room).toFixed(1)}, per-commit ${pick(bare).toFixed(1)}${groupFigure} ${unit}`);
    }
    return room;
  }

  await org();
  log("300 members signed up");
  /** Billed work, each scaled to its unit (1,000 messages, one run, one backup), for the operations table. */
  const billed: { label: string; inputs: CostInputs }[] = [];
  const perThousand = (label: string, inputs: CostInputs, count: number) => {
    const factor = 1000 / count;
    billed.push({
      label: `per 1,000 ${label}`,
      inputs: {
        operations: scaled(inputs.operations, factor),
        workerRequests: inputs.workerRequests * factor,
        activeObjectSeconds: inputs.activeObjectSeconds * factor,
        dataPoints: inputs.dataPoints * factor,
      },
    });
  };
  for (const [sockets, perSocket] of runs("closed-loop")
    ? ([
        [3, 300],
        [30, 30],
        [300, 3],
      ] as const)
    : []) {
    const room = await compare(
      (target) => closedLoop(target, sockets, perSocket),
      [
        [`deliveries, closed loop, ${sockets} sockets`, "msg/s", (r) => r.deliveriesPerSecond],
        [`stored, closed loop, ${sockets} sockets`, "msg/s", (r) => r.storedPerSecond],
        [`own message back p50, ${sockets} sockets`, "ms", (r) => r.ackP50],
        [`own message back p99, ${sockets} sockets`, "ms", (r) => r.ackP99],
      ],
    );
    if (room.operations) {
      // The room was busy for the whole loop; production writes one data point per message.
      const seconds = room.stored / room.storedPerSecond;
      perThousand(
        `messages over sockets, ${sockets} members`,
        { operations: room.operations, workerRequests: 0, activeObjectSeconds: seconds, dataPoints: room.stored },
        room.stored,
      );
    }
  }
  // Open loop: one member sends at a fixed rate, below what either side can deliver (30 × 50 and 300 × 10 a second).
  for (const [sockets, rate] of runs("fan-out")
    ? ([
        [30, 50],
        [300, 10],
      ] as const)
    : []) {
    await compare(
      (target) => fanOutLatency(target, sockets, rate, FAN_OUT_SECONDS),
      [
        [`fan-out p50, open loop ${rate} msg/s, ${sockets} sockets`, "ms", (r) => r.p50],
        [`fan-out p99, open loop ${rate} msg/s, ${sockets} sockets`, "ms", (r) => r.p99],
      ],
    );
  }
  if (runs("catch-up")) {
    await compare(
      (target) => catchUp(target, 10_000),
      [["catch-up of 10,000 messages (socket, then pages)", "ms", (r) => r.ms]],
      false,
    );
  }
  if (runs("request-path")) await requestPath();
  async function requestPath() {
    await compare(
      (target) => noOpRequests(target, 200),
      [
        ["request that does nothing p50", "ms", (r) => r.p50],
        ["request that does nothing p99", "ms", (r) => r.p99],
        ["requests that do nothing, 8 at once", "req/s", (r) => r.perSecond],
      ],
      false,
    );
    await compare(
      (target) => socketOpens(target, 30, 100),
      [
        ["socket open to ready p50", "ms", (r) => r.p50],
        ["socket open to ready p99", "ms", (r) => r.p99],
        ["socket opens, 8 at once", "req/s", (r) => r.perSecond],
      ],
      false,
    );
    const posted = await compare(
      (target) => restPosts(target, 30, 200),
      [
        ["REST post p50", "ms", (r) => r.p50],
        ["REST post p99", "ms", (r) => r.p99],
        ["REST posts, 8 at once", "req/s", (r) => r.perSecond],
      ],
    );
    await compare(
      (target) => chatCreations(target, 50),
      [
        ["chat creation p50", "ms", (r) => r.p50],
        ["chat creation p99", "ms", (r) => r.p99],
        ["chat creations, 8 at once", "req/s", (r) => r.perSecond],
      ],
      false,
    );
    if (posted.operations) {
      perThousand(
        "messages over REST",
        {
          operations: posted.operations,
          workerRequests: posted.requests,
          activeObjectSeconds: posted.requests / posted.perSecond,
          dataPoints: posted.requests,
        },
        posted.requests,
      );
    }
  }
  const postgresCheck = runs("request-path") ? await timePostgresCheck(url) : null;

  // Token fan-out: one agent streaming to 30 sockets, at a steady 50 tokens/s and flat out.
  const tokenTargets = [parlorTokenTarget(parlor.baseUrl, org), baselineTokenTarget(perCommitPort)];
  for (const [label, paceMs, tokens] of runs("tokens")
    ? ([
        ["steady 50/s", 20, 250],
        ["flat out", 0, 2_000],
      ] as const)
    : []) {
    const [room, bare] = [
      await profiled(`tokens ${label}`, () => tokenFanOut(tokenTargets[0], 30, tokens, paceMs)),
      await tokenFanOut(tokenTargets[1], 30, tokens, paceMs),
    ];
    const row = (label: string, unit: string, parlor: number, perCommit: number) =>
      rows.push({ label, unit, parlor, perCommit, groupCommit: null });
    row(`token delta p50, 30 sockets, ${label}`, "ms", room.p50, bare.p50);
    row(`token delta p99, 30 sockets, ${label}`, "ms", room.p99, bare.p99);
    row(`tokens per second, 30 sockets, ${label}`, "tok/s", room.tokensPerSecond, bare.tokensPerSecond);
    row(`SQLite rows written per token, ${label}`, "rows", room.rowsPerToken, bare.rowsPerToken);
    billed.push({
      label: `one agent run, ${tokens} tokens to 30 sockets (${label})`,
      inputs: {
        operations: room.operations,
        workerRequests: 0,
        // The room and the agent are both active while it streams; data points: started, trigger, reply, finished.
        activeObjectSeconds: 2 * (tokens / room.tokensPerSecond),
        dataPoints: 4,
      },
    });
    log(
      `tokens ${label}: parlor p99 ${room.p99} ms, ${room.tokensPerSecond.toFixed(0)} tok/s, ${room.rowsPerToken.toFixed(4)} rows/token`,
    );
  }

  console.log("");
  console.log(table(rows));
  console.log("");
  console.log(
    "ratio = parlor / per-commit baseline. Targets: deliveries >= 0.5; fan-out p99 <= 3; token p99 flat out <= " +
      "max(3 × baseline, baseline + 15 ms); catch-up <= 3; socket open and REST post p50 <= 3 × baseline + one " +
      "Postgres check.",
  );
  if (postgresCheck) {
    console.log(
      `one Postgres check from Node (node-postgres): ${postgresCheck.fresh.toFixed(1)} ms on a new connection ` +
        `(connect, startup, query), ${postgresCheck.warm.toFixed(2)} ms on an open one (p50 of 20 each).`,
    );
  }
  console.log("");
  if (runs("operations")) await operations();
  async function operations() {
    const idle = await idleRoom(parlorSide, 30, 20);
    if (idle) {
      billed.push({
        label: "an idle room, 30 sockets open, for 20 s",
        inputs: { operations: idle, workerRequests: 0, activeObjectSeconds: 0, dataPoints: 0 },
      });
    }
    if (backupOperations) {
      billed.push({
        label: "one backup of 10,000 messages",
        inputs: { operations: backupOperations, workerRequests: 1, activeObjectSeconds: 0, dataPoints: 0 },
      });
    }
    console.log("Operations in Parlor's room (GET /api/dev/chats/:chatId/stats) and their cost, for docs/cost.md:");
    console.log(operationsTable(billed));
    const overheads = measureOverheads();
    console.log(
      `guards per message (in process): rate-limit check ${overheads.rateLimitNs.toFixed(0)} ns; billing check ` +
        `${overheads.billingCheckNs.toFixed(0)} ns (only messages that wake an agent); audit rows written per ` +
        `accepted message ${overheads.auditRowsPerMessage} (refusals, decisions and admin actions only). ` +
        "Usage is sent in one Postgres batch per room per PARLOR_USAGE_BATCH_MS (10 s), not per message.",
    );
  }
} finally {
  for (const baseline of baselines) baseline.kill();
  await parlor?.kill("SIGTERM");
  // The benchmark's database goes with it, as `npm test`'s does.
  if (adminUrlInUse) await dropDatabase(adminUrlInUse, "parlor_bench").catch((error) => log(`not dropped: ${error}`));
  await local?.stop();
  rmSync(scratch, { recursive: true, force: true });
}

async function startBaseline(mode: "per-commit" | "group-commit"): Promise<number> {
  const port = await freePort();
  const child = fork(
    join(import.meta.dirname, "baseline-server.ts"),
    [port, join(scratch, `${mode}.db`), mode].map(String),
  );
  baselines.push(child);
  await new Promise<void>((resolve) => child.once("message", () => resolve()));
  return port;
}

/** What the design's one Postgres check per request costs from Node: on a new connection, and on an open one. */
async function timePostgresCheck(url: string): Promise<{ fresh: number; warm: number }> {
  // The shape of the Worker's membership check: one query with a parameter, by the Worker's driver.
  const check = "SELECT 1 FROM org_memberships WHERE user_id = $1 LIMIT 1";
  const fresh: number[] = [];
  for (let i = 0; i < 20; i++) {
    const began = performance.now();
    await withClient(url, async (client) => {
      await client.query(check, ["bench"]);
      fresh.push(performance.now() - began);
    });
  }
  const warm: number[] = [];
  await withClient(url, async (client) => {
    await client.query("SELECT 1");
    for (let i = 0; i < 20; i++) {
      const began = performance.now();
      await client.query(check, ["bench"]);
      warm.push(performance.now() - began);
    }
  });
  const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1];
  return { fresh: median(fresh), warm: median(warm) };
}

function table(rows: Row[]): string {
  const lines = [["measure", "unit", "parlor", "per-commit", "group-commit", "ratio"]];
  for (const { label, unit, parlor, perCommit, groupCommit } of rows) {
    const digits = unit === "rows" ? 4 : 1;
    lines.push([
      label,
      unit,
      parlor.toFixed(digits),
      perCommit.toFixed(digits),
      groupCommit === null ? "-" : groupCommit.toFixed(digits),
      perCommit === 0 ? "-" : (parlor / perCommit).toFixed(2),
    ]);
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

function scaled(operations: Operations, factor: number): Operations {
  return Object.fromEntries(Object.entries(operations).map(([key, value]) => [key, value * factor]));
}

function operationsTable(rows: { label: string; inputs: CostInputs }[]): string {
  const keys = [
    "socketMessages",
    "roomRpc",
    "capabilityCalls",
    "sqlStatements",
    "sqlRowsRead",
    "sqlRowsWritten",
    "r2ClassA",
    "r2ClassB",
    "postgresQueries",
  ];
  const lines = [
    ["work", ...keys, "rows written $", "all $"],
    ...rows.map(({ label, inputs }) => {
      const cost = costOf(inputs);
      return [
        label,
        ...keys.map((k) => (inputs.operations[k] ?? 0).toFixed(0)),
        dollars(cost.rowsWritten),
        dollars(cost.total),
      ];
    }),
  ];
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const fmt = (l: string[]) =>
    `| ${l.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  return [
    fmt(lines[0]),
    `|${widths.map((w, i) => (i === 0 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`,
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

/** Runs `work` for 0..count-1 with at most `inFlight` at once. */
async function inParallel(count: number, inFlight: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < count; i = next++) await work(i);
    }),
  );
}

function benchOrg(baseUrl: string) {
  let ready: Promise<{ orgId: string; tokens: string[] }> | null = null;
  return () => {
    ready ??= (async () => {
      const tokens: string[] = new Array(PEOPLE);
      await inParallel(PEOPLE, 8, async (i) => {
        tokens[i] = (await ok(await as(baseUrl).dev.token.$post({ json: { userId: `bench-${i}` } }))).token;
      });
      const api = as(baseUrl, tokens[0]);
      const org = await ok(await api.orgs.$post({ json: { name: "Bench" } }));
      await inParallel(PEOPLE - 1, 8, async (i) => {
        await ok(
          await api.orgs[":orgId"].members.$post({
            param: { orgId: org.id },
            json: { userId: `bench-${i + 1}`, role: "member" },
          }),
        );
      });
      return { orgId: org.id, tokens };
    })();
    return ready;
  };
}

/** A new chat of the bench org with its first `members` people in it. */
async function benchChat(baseUrl: string, org: { orgId: string; tokens: string[] }, members: number): Promise<string> {
  const api = as(baseUrl, org.tokens[0]);
  const chat = await ok(
    await api.orgs[":orgId"].chats.$post({ param: { orgId: org.orgId }, json: { title: "bench" } }),
  );
  await inParallel(members - 1, 8, async (i) => {
    await ok(
      await api.chats[":chatId"].members.$post({ param: { chatId: chat.id }, json: { userId: `bench-${i + 1}` } }),
    );
  });
  return chat.id;
}

function parlorTarget(baseUrl: string, org: ReturnType<typeof benchOrg>): Target {
  return {
    name: "parlor",
    async newRoom(members) {
      const people = await org();
      const chatId = await benchChat(baseUrl, people, members);
      const ws = baseUrl.replace("http", "ws");
      let nextSocket = 0;
      let nextPost = 0;
      return {
        socketUrl: (after) => {
          const token = people.tokens[nextSocket++ % members];
          return `${ws}/api/chats/${chatId}/ws?token=${encodeURIComponent(token)}&after=${after}`;
        },
        lastSeq: () => lastSeqByPaging(baseUrl, chatId, people.tokens[0]),
        post: async (text, clientMessageId) => {
          const token = people.tokens[nextPost++ % members];
          await ok(
            await as(baseUrl, token).chats[":chatId"].messages.$post({
              param: { chatId },
              json: { text, clientMessageId },
            }),
          );
        },
        operations: () => roomOperations(baseUrl, chatId),
        backup: async () => {
          await ok(await as(baseUrl, people.tokens[0]).chats[":chatId"].backups.$post({ param: { chatId } }));
        },
        page: async (after) => {
          const { messages } = await ok(
            await as(baseUrl, people.tokens[0]).chats[":chatId"].messages.$get({
              param: { chatId },
              query: { after: String(after), limit: String(PAGE_SIZE) },
            }),
          );
          return messages.map((message) => message.seq);
        },
      };
    },
    async createChat(title) {
      const people = await org();
      await ok(
        await as(baseUrl, people.tokens[0]).orgs[":orgId"].chats.$post({
          param: { orgId: people.orgId },
          json: { title },
        }),
      );
    },
    // The cheapest route: no session, no database, no room; a Worker that answered with an empty Response at once
    // measured the same here (docs/performance.md).
    async noOp() {
      const response = await fetch(`${baseUrl}/api/config`);
      if (!response.ok) throw new Error(`GET /api/config answered ${response.status}`);
      await response.arrayBuffer();
    },
  };
}

/**
 * The room's billed operations so far (`GET /api/dev/chats/:chatId/stats`), flattened. Reading them is itself one RPC
 * on the room and one request to the Worker, which `operationsBetween` leaves in; they are 2 in a thousand messages.
 */
async function roomOperations(baseUrl: string, chatId: string): Promise<Operations> {
  const stats = await ok(await as(baseUrl).dev.chats[":chatId"].stats.$get({ param: { chatId } }));
  return {
    wokeAt: Date.parse(stats.since),
    rowsWritten: stats.rowsWritten,
    sqlRowsRead: stats.sql.rowsRead,
    sqlRowsWritten: stats.sql.rowsWritten,
    sqlStatements: stats.sql.execs,
    roomRpc: stats.requests.rpc,
    capabilityCalls: stats.requests.capability,
    socketUpgrades: stats.requests.socketUpgrades,
    socketMessages: stats.requests.socketMessages,
    alarms: stats.requests.alarms,
    r2ClassA: stats.r2.classA,
    r2ClassB: stats.r2.classB,
    postgresQueries: stats.postgresQueries,
  };
}

async function lastSeqByPaging(baseUrl: string, chatId: string, token: string): Promise<number> {
  let after = 0;
  for (;;) {
    const { messages } = await ok(
      await as(baseUrl, token).chats[":chatId"].messages.$get({
        param: { chatId },
        query: { after: String(after), limit: String(PAGE_SIZE) },
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
      const chatId = await benchChat(baseUrl, people, 30);
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
        socketUrl: () => `${ws}/api/chats/${chatId}/ws?token=${encodeURIComponent(people.tokens[next++ % 30])}`,
        start: (socket, tokens) =>
          socket.send(
            JSON.stringify({
              type: "message",
              text: `@${handle.handle} clock: ${tokens}`,
              clientMessageId: `clock-${Date.now()}`,
            }),
          ),
        operations: () => roomOperations(baseUrl, chatId),
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
        operations: async () => ({ rowsWritten: 0 }),
      };
    },
  };
}

function baselineTarget(name: string, port: number): Target {
  const http = `http://127.0.0.1:${port}`;
  const postJson = async (path: string, value: unknown) => {
    const response = await fetch(`${http}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(value),
    });
    if (response.status !== 201) throw new Error(`${name}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  };
  return {
    name,
    async newRoom() {
      const socketUrl = (after: number) => `ws://127.0.0.1:${port}/?user=bench&after=${after}`;
      return {
        socketUrl,
        post: (text, clientMessageId) => postJson("/messages", { text, clientMessageId }),
        // Its socket catch-up is unbounded: nothing is left to page.
        page: async () => [],
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
    createChat: (title) => postJson("/chats", { title }),
    async noOp() {
      const response = await fetch(`http://127.0.0.1:${port}/config`);
      if (!response.ok) throw new Error(`GET /config answered ${response.status}`);
      await response.arrayBuffer();
    },
  };
}
