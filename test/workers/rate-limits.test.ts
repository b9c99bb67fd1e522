import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { takeEgress } from "../../agents/org-limiter";
import {
  DEFAULT_RATE_LIMITS,
  NO_RATE_LIMITS,
  parseRateLimits,
  type RateLimits,
  rateLimitsOf,
  retryAfterSeconds,
} from "../../protocol/limits";
import { MessageLimiter } from "../../rooms/rate-limits";
import { api, call, chatWithMembers, connect, type TestSocket, unique } from "./helpers";

/** The limits the test Worker runs with (the defaults, unless vitest.config.ts sets `PARLOR_RATE_LIMITS`). */
const limits = rateLimitsOf(env);

describe("PARLOR_RATE_LIMITS", () => {
  const quiet = () => {};

  it("unset or empty: the defaults", () => {
    expect(parseRateLimits(undefined, "production", quiet)).toEqual(DEFAULT_RATE_LIMITS);
    expect(parseRateLimits("  ", "development", quiet)).toEqual(DEFAULT_RATE_LIMITS);
  });

  it("`off` turns every limit off in development only; production ignores it with a warning", () => {
    expect(parseRateLimits("off", "development", quiet)).toEqual(NO_RATE_LIMITS);
    const warnings: string[] = [];
    expect(parseRateLimits("off", "production", (w) => warnings.push(w))).toEqual(DEFAULT_RATE_LIMITS);
    expect(warnings).toEqual([expect.stringContaining("development only")]);
  });

  it("JSON sets what it names; the rest keeps its default", () => {
    const parsed = parseRateLimits(JSON.stringify({ messages: { burst: 5 }, egress: { perAgentPerMinute: 3 } }), "x");
    expect(parsed).toEqual({
      messages: { burst: 5, perMinute: DEFAULT_RATE_LIMITS.messages.perMinute },
      agentRunsPerOrgPerMinute: DEFAULT_RATE_LIMITS.agentRunsPerOrgPerMinute,
      egress: { perOrgPerMinute: DEFAULT_RATE_LIMITS.egress.perOrgPerMinute, perAgentPerMinute: 3 },
    });
  });

  it("a malformed value is logged and the defaults apply", () => {
    for (const raw of [
      "{",
      "on",
      JSON.stringify({ messages: { burst: 0 } }),
      JSON.stringify({ messages: { burst: 1.5 } }),
      JSON.stringify({ agentRunsPerOrgPerMinute: "60" }),
      JSON.stringify({ messages: { brust: 3 } }),
      JSON.stringify([]),
    ]) {
      const warnings: string[] = [];
      expect(
        parseRateLimits(raw, "development", (w) => warnings.push(w)),
        raw,
      ).toEqual(DEFAULT_RATE_LIMITS);
      expect(warnings, raw).toHaveLength(1);
    }
  });

  it("Retry-After is whole seconds, rounded up, at least one", () => {
    expect([1, 999, 1000, 1001, 0].map(retryAfterSeconds)).toEqual([1, 1, 1, 2, 1]);
  });
});

describe("the message bucket", () => {
  it("allows a burst, then refills at the sustained rate; each member has their own", () => {
    let now = 1_000_000;
    const limiter = new MessageLimiter({ burst: 3, perMinute: 60 }, () => now);
    expect([1, 2, 3].map(() => limiter.take("a").ok)).toEqual([true, true, true]);
    expect(limiter.take("a")).toEqual({ ok: false, retryAfterMs: 1000 });
    expect(limiter.take("b").ok).toBe(true);
    now += 400;
    expect(limiter.take("a")).toEqual({ ok: false, retryAfterMs: 600 });
    now += 600;
    expect(limiter.take("a").ok).toBe(true);
    expect(limiter.take("a").ok).toBe(false);
    // A long pause refills up to the burst, never beyond it.
    now += 3_600_000;
    expect([1, 2, 3, 4].map(() => limiter.take("a").ok)).toEqual([true, true, true, false]);
  });

  it("a refund gives a retry's token back, up to the burst", () => {
    const now = 0;
    const limiter = new MessageLimiter({ burst: 2, perMinute: 1 }, () => now);
    limiter.take("a");
    limiter.take("a");
    limiter.refund("a");
    expect(limiter.take("a").ok).toBe(true);
    expect(limiter.take("a").ok).toBe(false);
    limiter.refund("a");
    limiter.refund("a");
    limiter.refund("a");
    expect([1, 2, 3].map(() => limiter.take("a").ok)).toEqual([true, true, false]);
  });

  it("members whose buckets are full again are forgotten once many are tracked", () => {
    let now = 0;
    const limiter = new MessageLimiter({ burst: 1, perMinute: 60 }, () => now);
    for (let i = 0; i <= 1_000; i++) limiter.take(`m${i}`);
    expect(limiter.size).toBe(1_001);
    now += 1_000;
    limiter.take("late");
    expect(limiter.size).toBe(1);
  });
});

type Stored = { messages: { seq: number; clientMessageId: string | null }[] };

describe("messages per member per room", () => {
  const burst = limits.messages?.burst ?? 0;

  // Sends well past the burst, so refusals come even if tokens refill while the burst is under way.
  const extra = 50;

  it.skipIf(!limits.messages)(
    "over the burst: rate_limited errors on a socket that stays open, 429 with Retry-After over REST, nothing refused stored; after the wait, posting works",
    async () => {
      const { chatId, admin, members } = await chatWithMembers(1);
      const socket = await connect(chatId, admin.token);
      const sent = Array.from({ length: burst + extra }, (_, n) => `c${n}`);
      for (const id of sent) socket.send({ type: "message", text: id, clientMessageId: id });
      const answered = (s: TestSocket) => {
        const ids = new Set([
          ...s.of("message").map((m) => m.clientMessageId),
          ...s.of("error").map((e) => e.clientMessageId),
        ]);
        return sent.every((id) => ids.has(id));
      };
      await socket.until(answered, "an answer to every message", 45_000);
      const accepted = socket.of("message").map((m) => m.clientMessageId);
      const refused = socket.of("error").map((e) => {
        expect(e.code).toBe("rate_limited");
        expect(e.message).toMatch(/too many messages/);
        return e.clientMessageId;
      });
      // The burst passes; the rest is refused (a few tokens may refill while they arrive).
      expect(accepted.length).toBeGreaterThanOrEqual(burst);
      expect(refused.length).toBeGreaterThan(0);
      expect([...accepted, ...refused].sort()).toEqual([...sent].sort());
      expect(socket.closed).toBeNull();

      // REST shares the member's bucket in this room (a token that refilled meanwhile is taken first).
      let limited: Response | null = null;
      for (let i = 0; i < 5 && !limited; i++) {
        const response = await post(chatId, admin.token, `r${i}`);
        if (response.status === 429) limited = response;
        else {
          expect(response.status).toBe(201);
          accepted.push(`r${i}`);
        }
      }
      if (!limited) throw new Error("REST was never refused");
      expect(await limited.json()).toMatchObject({ error: { code: "rate_limited" } });
      const seconds = Number(limited.headers.get("Retry-After"));
      expect(Number.isInteger(seconds) && seconds >= 1).toBe(true);
      expect(seconds).toBeLessThanOrEqual(retryAfterSeconds(60_000 / (limits.messages?.perMinute ?? 1)));

      // An edit takes from the same bucket: refused with 429, and the message keeps its text.
      const first = socket.of("message").find((m) => m.clientMessageId === accepted[0]);
      if (!first) throw new Error("no first message");
      let editLimited: { status: number; text: string } | null = null;
      for (let i = 0; i < 5 && !editLimited; i++) {
        const text = `edited while limited ${i}`;
        const edit = await api(admin.token, "PATCH", `/chats/${chatId}/messages/${first.seq}`, { text });
        if (edit.status === 429) editLimited = { status: edit.status, text };
        else expect(edit.status).toBe(200);
      }
      if (!editLimited) throw new Error("an edit was never refused");
      const history = await api<{ messages: { seq: number; text: string }[] }>(
        admin.token,
        "GET",
        `/chats/${chatId}/messages?after=${first.seq - 1}&limit=1`,
      );
      expect(history.body.messages[0]?.text).not.toBe(editLimited.text);

      // A retry of a stored message is answered as before, and costs nothing, even while limited.
      const retry = await api<{ message: { clientMessageId: string } }>(
        admin.token,
        "POST",
        `/chats/${chatId}/messages`,
        { text: "again", clientMessageId: accepted[0] },
      );
      expect(retry.status).toBe(200);
      expect(retry.body.message.clientMessageId).toBe(accepted[0]);
      socket.send({ type: "message", text: "again", clientMessageId: accepted[1] });
      await socket.until((s) => s.of("message").filter((m) => m.clientMessageId === accepted[1]).length === 2, "retry");

      // Another member of the room has a bucket of their own.
      expect((await post(chatId, members[0].token, "m1")).status).toBe(201);
      accepted.push("m1");

      // Nothing refused was stored: the log holds exactly the accepted messages.
      expect(await storedIds(chatId, members[0].token)).toEqual(accepted);

      // After Retry-After, the member may post again.
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      expect((await post(chatId, admin.token, "after-wait")).status).toBe(201);
      socket.close();
    },
    90_000,
  );

  it("the post route declares 429 in the OpenAPI document", async () => {
    const response = await api<{ paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>(
      null,
      "GET",
      "/openapi.json",
    );
    expect(response.status).toBe(200);
    const route = Object.entries(response.body.paths).find(([path]) => path.endsWith("/chats/{chatId}/messages"));
    expect(route?.[1].post.responses).toHaveProperty("429");
  });
});

describe("per-org counters (OrgLimiter)", () => {
  it("a bucket allows perMinute, then says how long to wait; buckets and orgs are separate", async () => {
    const orgId = unique("org");
    const limiter = env.OrgLimiter.getByName(orgId);
    const takes = [];
    for (let i = 0; i < 4; i++) takes.push(await limiter.take("b", 3));
    expect(takes.slice(0, 3)).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(takes[3].ok).toBe(false);
    if (!takes[3].ok) expect(takes[3].retryAfterMs).toBeGreaterThan(19_000);
    expect(await limiter.take("other", 3)).toEqual({ ok: true });
    expect(await env.OrgLimiter.getByName(unique("org")).take("b", 3)).toEqual({ ok: true });
  });

  it("egress takes from the org's and the agent's buckets, both or neither", async () => {
    const orgId = unique("org");
    const tight: RateLimits = { ...limits, egress: { perOrgPerMinute: 3, perAgentPerMinute: 2 } };
    expect((await takeEgress(env, orgId, "a1", tight)).ok).toBe(true);
    expect((await takeEgress(env, orgId, "a1", tight)).ok).toBe(true);
    // The agent's own limit is spent; the org's token was not taken for the refused call.
    expect((await takeEgress(env, orgId, "a1", tight)).ok).toBe(false);
    expect((await takeEgress(env, orgId, "a2", tight)).ok).toBe(true);
    // Now the org's is spent, for every agent.
    expect((await takeEgress(env, orgId, "a3", tight)).ok).toBe(false);
    expect(await takeEgress(env, orgId, "a3", { ...tight, egress: null })).toEqual({ ok: true });
  });

  it.skipIf(limits.agentRunsPerOrgPerMinute === null)(
    "a run over the org's runs this minute fails with a visible reason; the message is stored",
    async () => {
      const fixture = await chatWithMembers(0);
      const created = await api<{ id: string }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/agents`, {
        name: "Limited",
        handle: "limited",
        systemPrompt: "Be brief.",
        trigger: "mention",
      });
      expect(created.status).toBe(201);
      const added = await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/agents`, {
        agentId: created.body.id,
      });
      expect(added.status).toBe(201);
      // Other rooms of the org have started this minute's runs already.
      const perMinute = limits.agentRunsPerOrgPerMinute ?? 0;
      const limiter = env.OrgLimiter.getByName(fixture.orgId);
      for (let i = 0; i < perMinute; i++)
        expect((await limiter.take(`runs:org:${fixture.orgId}`, perMinute)).ok).toBe(true);
      const socket = await connect(fixture.chatId, fixture.admin.token);
      socket.send({ type: "message", text: "@limited hello", clientMessageId: "x" });
      await socket.until((s) => s.of("run.failed").length + s.of("run.finished").length > 0, "the run to end");
      expect(socket.of("run.finished")).toHaveLength(0);
      expect(socket.of("run.failed")[0].reason).toBe("rate limited: this org started too many agent runs this minute");
      expect(socket.of("message")[0]).toMatchObject({ clientMessageId: "x" });
      socket.close();
    },
  );
});

/** Every clientMessageId in the chat's log, in seq order. */
async function storedIds(chatId: string, token: string): Promise<(string | null)[]> {
  const ids: (string | null)[] = [];
  for (let after = 0; ; ) {
    const page = await api<Stored>(token, "GET", `/chats/${chatId}/messages?after=${after}&limit=500`);
    expect(page.status).toBe(200);
    if (page.body.messages.length === 0) return ids;
    ids.push(...page.body.messages.map((m) => m.clientMessageId));
    after = page.body.messages[page.body.messages.length - 1].seq;
  }
}

function post(chatId: string, token: string, clientMessageId: string): Promise<Response> {
  return call(`/api/chats/${chatId}/messages`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ text: clientMessageId, clientMessageId }),
  });
}
