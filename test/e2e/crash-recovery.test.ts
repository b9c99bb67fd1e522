import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { RunEvent } from "../../protocol/agents";
import type { Message, ServerEvent } from "../../protocol/chat";
import { apiOf, ok, type RunningParlor, startParlor } from "../../scripts/parlor-process";

const databaseUrl = process.env.PARLOR_TEST_DATABASE_URL as string;
const dataDir = mkdtempSync(join(tmpdir(), "parlor-e2e-crash-"));
let parlor: RunningParlor | null = null;

afterAll(async () => {
  await parlor?.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROUNDS = 3;
/** Plain messages per round (plus the `@slow` one): under the default burst of 20 per member. */
const PER_ROUND = 8;

describe("SIGKILLs of the dev server mid-traffic and mid-stream", () => {
  it("lose nothing acknowledged and double nothing; every interrupted run ends exactly once", {
    timeout: 240_000,
  }, async () => {
    parlor = await startParlor(dataDir, databaseUrl);
    const { token } = await ok(await apiOf(parlor.baseUrl).dev.token.$post({ json: { userId: "crasher" } }));
    const api = () => apiOf((parlor as RunningParlor).baseUrl, token);
    const org = await ok(await api().orgs.$post({ json: { name: "Crash org" } }));
    const chat = await ok(
      await api().orgs[":orgId"].chats.$post({ param: { orgId: org.id }, json: { title: "crashy" } }),
    );
    const param = { chatId: chat.id };
    const agent = await ok(
      await api().orgs[":orgId"].agents.$post({
        param: { orgId: org.id },
        json: { name: "Slow", handle: "slow", model: "parlor-local:40" },
      }),
    );
    await ok(await api().chats[":chatId"].agents.$post({ param, json: { agentId: agent.id } }));

    const acknowledged = new Set<string>();
    const resent = new Set<string>();
    const interruptedRuns = new Set<string>();
    const post = (text: string, clientMessageId: string) =>
      api().chats[":chatId"].messages.$post({ param, json: { text, clientMessageId } });

    for (let round = 1; round <= ROUNDS; round++) {
      const current = parlor as RunningParlor;
      const sent: { id: string; text: string }[] = [];
      const runs = new Set<string>();
      let deltas = 0;
      const ws = new WebSocket(
        `${current.baseUrl.replace("http", "ws")}/api/chats/${chat.id}/ws?token=${encodeURIComponent(token)}&tail=1`,
      );
      ws.on("error", () => {});
      let sender: NodeJS.Timeout | undefined;
      const killable = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`round ${round}: ${deltas} deltas, ${acknowledged.size} acknowledged`)),
          30_000,
        );
        ws.on("message", (data) => {
          const event = JSON.parse(String(data)) as ServerEvent | RunEvent;
          if (event.type === "ready") {
            const slow = { id: `slow-${round}`, text: "@slow clock: 200" };
            sent.push(slow);
            ws.send(JSON.stringify({ type: "message", text: slow.text, clientMessageId: slow.id }));
            let n = 0;
            sender = setInterval(() => {
              if (n >= PER_ROUND) return clearInterval(sender);
              n++;
              const message = { id: `m-${round}-${n}`, text: `round ${round} message ${n}` };
              sent.push(message);
              if (n % 2 === 0) {
                // Every other one over REST, acknowledged by its 201/200.
                post(message.text, message.id).then(
                  (r) => (r.status === 201 || r.status === 200 ? acknowledged.add(message.id) : undefined),
                  () => {},
                );
              } else ws.send(JSON.stringify({ type: "message", text: message.text, clientMessageId: message.id }));
            }, 60);
          }
          if (event.type === "message" && event.author.type === "user" && event.clientMessageId)
            acknowledged.add(event.clientMessageId);
          if (event.type === "run.started") runs.add(event.runId);
          if (event.type === "run.delta") deltas++;
          const ackedThisRound = sent.filter((m) => acknowledged.has(m.id)).length;
          if (deltas > 0 && ackedThisRound >= 3) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      await killable;
      // Mid-stream and mid-traffic: the sender is still going when the whole tree dies.
      await current.kill("SIGKILL");
      clearInterval(sender);
      ws.terminate();
      for (const runId of runs) interruptedRuns.add(runId);

      parlor = await startParlor(dataDir, databaseUrl, current.port);
      for (const message of sent) {
        for (let attempt = 0; ; attempt++) {
          const response: { status: number; headers: Headers } = await post(message.text, message.id);
          if (response.status === 429 && attempt < 20) {
            await sleep(Number(response.headers.get("Retry-After") ?? "1") * 1000);
            continue;
          }
          expect([200, 201]).toContain(response.status);
          break;
        }
        resent.add(message.id);
      }
    }
    expect(interruptedRuns.size).toBeGreaterThanOrEqual(ROUNDS);

    const readLog = async () => {
      const log: Message[] = [];
      for (;;) {
        const after = log.at(-1)?.seq ?? 0;
        const { messages } = await ok(
          await api().chats[":chatId"].messages.$get({ param, query: { after: String(after), limit: "500" } }),
        );
        log.push(...messages);
        if (messages.length < 500) return log;
      }
    };

    // The interrupted runs are resumed or failed by the room; wait for that to settle.
    let log = await readLog();
    const settled = (l: Message[]) => [...interruptedRuns].every((runId) => l.some((m) => m.runId === runId));
    for (const deadline = Date.now() + 60_000; !settled(log) && Date.now() < deadline; ) {
      await sleep(1000);
      log = await readLog();
    }

    expect(log.map((m) => m.seq)).toEqual(Array.from({ length: log.length }, (_, i) => i + 1));
    const timesStored = (id: string) => log.filter((m) => m.clientMessageId === id && m.author.type === "user").length;
    for (const id of acknowledged) expect(timesStored(id), `acknowledged ${id}`).toBe(1);
    for (const id of resent) expect(timesStored(id), `resent ${id}`).toBe(1);
    const unsettled = [...interruptedRuns].filter((runId) => !log.some((m) => m.runId === runId));
    expect(unsettled, "interrupted runs neither resumed nor failed within 60 s").toEqual([]);
    for (const runId of interruptedRuns) {
      const endings = log.filter((m) => m.runId === runId);
      expect(endings, `run ${runId}`).toHaveLength(1);
    }
    // No run of any kind ends twice.
    const runIds = log.flatMap((m) => (m.runId ? [m.runId] : []));
    expect(new Set(runIds).size).toBe(runIds.length);
  });
});
