/**
 * Queries made only of what the query rules keep but the index's tokenizer drops or splits (lone combining marks,
 * private-use characters, marks the tokenizer strips with diacritics) answer 200, in a chat and across the org.
 */
import { describe, expect, it } from "vitest";
import { api, chatWithMembers, unique } from "./helpers";

describe("search queries the tokenizer reads differently", () => {
  it("lone marks and private-use characters never fail", async () => {
    const { orgId, chatId, admin } = await chatWithMembers(0);
    const posted = await api(admin.token, "POST", `/chats/${chatId}/messages`, {
      text: "café \uE000 naïve",
      clientMessageId: unique("m"),
    });
    expect(posted.status).toBe(201);
    for (const q of ["\u0301", "\u0301\u0301 \u0308", "\uE000", "\u064B", "e\u0301", "\u0301cafe"]) {
      for (const path of [`/chats/${chatId}/search`, `/orgs/${orgId}/search`]) {
        const answer = await api(admin.token, "GET", `${path}?q=${encodeURIComponent(q)}`);
        expect(answer.status, `${path} ${JSON.stringify(q)}`).toBe(200);
      }
    }
  });
});
