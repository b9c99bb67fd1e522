/** The sidebar's chat order (web/src/chat-order.ts): newest activity first, ties by title, the socket's word counts. */
import { describe, expect, it } from "vitest";
import { byActivity } from "../../web/src/chat-order";

const chat = (id: string, title: string, lastActivityAt: string) => ({ id, title, lastActivityAt });

describe("chat order", () => {
  it("the chat with the newest activity comes first", () => {
    const chats = [
      chat("a", "old", "2026-01-01T10:00:00.000Z"),
      chat("b", "new", "2026-01-03T10:00:00.000Z"),
      chat("c", "middle", "2026-01-02T10:00:00.000Z"),
    ];
    expect(byActivity(chats).map((c) => c.id)).toEqual(["b", "c", "a"]);
    expect(chats.map((c) => c.id)).toEqual(["a", "b", "c"]);
  });

  it("chats active at the same moment are ordered by title, in any case, then by id", () => {
    const at = "2026-01-01T10:00:00.000Z";
    const chats = [chat("3", "beta", at), chat("2", "Alpha", at), chat("1", "alpha", at), chat("4", "gamma", at)];
    expect(byActivity(chats).map((c) => c.id)).toEqual(["1", "2", "3", "4"]);
  });

  it("a newer time the open chat's socket saw moves it up before the list hears of it; an older one does not", () => {
    const chats = [chat("a", "a", "2026-01-02T10:00:00.000Z"), chat("b", "b", "2026-01-01T10:00:00.000Z")];
    expect(byActivity(chats, new Map([["b", "2026-01-03T10:00:00.000Z"]])).map((c) => c.id)).toEqual(["b", "a"]);
    expect(byActivity(chats, new Map([["b", "2025-12-31T10:00:00.000Z"]])).map((c) => c.id)).toEqual(["a", "b"]);
  });
});
