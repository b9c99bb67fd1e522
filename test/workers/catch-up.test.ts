import { describe, expect, it } from "vitest";
import { chatWithMembers, client, connect, expectStatus, openSocket } from "./helpers";

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A chat holding `count` messages, sent as a burst on one socket. */
async function chatHolding(count: number) {
  const fixture = await chatWithMembers(1);
  const sender = await connect(fixture.chatId, fixture.admin.token);
  for (let n = 1; n <= count; n++) sender.send({ type: "message", text: `m${n}`, clientMessageId: `c${n}` });
  await sender.until((s) => s.seqs().length === count, `${count} messages`, 30_000);
  sender.close();
  return fixture;
}

describe("catch-up", () => {
  it("a socket catches up at most 1,000 messages, says hasMore, and REST pages the rest up to lastSeq", async () => {
    const { chatId, members } = await chatHolding(1_050);
    const late = await connect(chatId, members[0].token, 0);
    expect(late.seqs()).toEqual(range(1, 1_000));
    expect(late.of("ready")[0]).toMatchObject({ lastSeq: 1_050, hasMore: true });

    const messages = client(members[0].token).api.chats[":chatId"].messages;
    const rest = await expectStatus(
      await messages.$get({ param: { chatId }, query: { after: "1000", limit: "500" } }),
      200,
    );
    expect((await rest.json()).messages.map((m) => m.seq)).toEqual(range(1_001, 1_050));

    const caughtUp = await connect(chatId, members[0].token, 1_000);
    expect(caughtUp.seqs()).toEqual(range(1_001, 1_050));
    expect(caughtUp.of("ready")[0]).toMatchObject({ lastSeq: 1_050, hasMore: false });
  });

  it("tail=N sends the newest N messages and hasMore false; before=SEQ pages back, ascending", async () => {
    const { chatId, admin } = await chatHolding(30);
    const tail = await connect(chatId, admin.token, "tail=5");
    expect(tail.seqs()).toEqual(range(26, 30));
    expect(tail.of("ready")[0]).toMatchObject({ lastSeq: 30, hasMore: false });

    const messages = client(admin.token).api.chats[":chatId"].messages;
    const page = await messages.$get({ param: { chatId }, query: { before: "26", limit: "10" } });
    expect((await page.json()).messages.map((m) => m.seq)).toEqual(range(16, 25));
    const first = await messages.$get({ param: { chatId }, query: { before: "3", limit: "10" } });
    expect((await first.json()).messages.map((m) => m.seq)).toEqual([1, 2]);
  });

  it("after with tail, before with after, and tail outside 1-1,000 are 400s", async () => {
    const { chatId, admin } = await chatWithMembers(0);
    const messages = client(admin.token).api.chats[":chatId"].messages;
    expect((await messages.$get({ param: { chatId }, query: { after: "1", before: "5" } })).status).toBe(400);
    for (const query of ["after=0&tail=5", "tail=0", "tail=1001"]) {
      const response = await openSocket(chatId, admin.token, query);
      expect(response.status, query).toBe(400);
    }
  });

  it("an empty chat's tail is empty, and ready says lastSeq 0 with nothing more", async () => {
    const { chatId, admin } = await chatWithMembers(0);
    const tail = await connect(chatId, admin.token, "tail=100");
    expect(tail.seqs()).toEqual([]);
    expect(tail.of("ready")[0]).toMatchObject({ lastSeq: 0, hasMore: false });
  });
});
