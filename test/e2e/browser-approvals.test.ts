/**
 * Approvals by quorum in the web client: two members in two browser windows each approve a tool call that needs two
 * approvals; the card shows the votes, who approved and who is still waited for, and only the second approval sends
 * the request.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { expect, it } from "vitest";
import { browserHarness, seedChat } from "./browser-harness";

const { describeWithBrowser, parlor, signIn } = browserHarness("approvals");

describeWithBrowser("approval cards in two browser windows", () => {
  async function openChat(page: Page, org: string, title: string): Promise<void> {
    await page.click(`text=${org}`);
    await page.click(`text=# ${title}`);
    await page.waitForSelector("text=live");
  }

  /** Over REST: an org and chat of `owner` with `member` in both, and an agent whose POSTs need two approvals. */
  async function quorumChat(owner: string, member: string) {
    const { api, orgId, chatId } = await seedChat(parlor().baseUrl, {
      owner: { userId: owner, name: "Alice" },
      member: { userId: member },
      org: "Treasury",
      chat: "payments",
    });
    const agent = await api.orgs[":orgId"].agents.$post({
      param: { orgId },
      json: {
        name: "Payer",
        handle: "payer",
        tools: {
          http: {
            allow: [{ baseUrl: `${parlor().baseUrl}/api/dev/echo`, methods: ["POST"] }],
            approval: { approvers: "members", quorum: 2, timeoutSeconds: 600 },
          },
        },
      },
    });
    expect(agent.status).toBe(201);
    const { id: agentId } = await agent.json();
    expect((await api.chats[":chatId"].agents.$post({ param: { chatId }, json: { agentId } })).ok).toBe(true);
  }

  it("a quorum of 2: each member clicks Approve, the card counts the votes, and the second one sends it", async () => {
    await quorumChat("quorum-alice", "quorum-bob");
    const alice = await signIn("quorum-alice", "Alice");
    await openChat(alice, "Treasury", "payments");
    const bob = await signIn("quorum-bob", "Bob");
    await openChat(bob, "Treasury", "payments");
    await alice.locator("[data-testid=present]", { hasText: "Bob" }).waitFor();

    await alice.fill("[name=message]", `@payer POST ${parlor().baseUrl}/api/dev/echo/payments {"amount":5}`);
    await alice.press("[name=message]", "Enter");
    const aliceCard = alice.locator("[data-testid=approval]");
    const bobCard = bob.locator("[data-testid=approval]");
    await aliceCard.locator("[data-testid=approval-votes]", { hasText: "0 of 2 approvals" }).waitFor();
    await bobCard.locator("[data-testid=approval-votes]", { hasText: "0 of 2 approvals" }).waitFor();

    await aliceCard.locator("button", { hasText: "Approve" }).click();
    await bobCard.locator("[data-testid=approval-votes]", { hasText: "1 of 2 approvals: approved by Alice" }).waitFor();
    await aliceCard.locator("text=you voted").waitFor();
    expect(await aliceCard.locator("button", { hasText: "Approve" }).count()).toBe(0);
    // Nothing is sent on one approval.
    expect(await alice.locator("[data-testid=messages] li.author-agent").count()).toBe(0);

    await bobCard.locator("button", { hasText: "Approve" }).click();
    for (const card of [aliceCard, bobCard]) {
      await card.locator(".decision-approved").waitFor();
      await card.locator("[data-testid=approval-votes]", { hasText: "2 of 2 approvals" }).waitFor();
    }
    expect(await aliceCard.locator("[data-testid=approval-votes]").textContent()).toBe(
      "2 of 2 approvals: approved by Alice, Bob",
    );
    await alice
      .locator("[data-testid=messages] li.author-system", { hasText: "approved POST" })
      .filter({ hasText: "(2 of 2 approvals)" })
      .waitFor();
    await bob
      .locator("[data-testid=messages] li.author-agent .text", { hasText: "The request returned 201." })
      .waitFor({ timeout: 20_000 });
    await bob.screenshot({ path: join(tmpdir(), "parlor-approval-quorum.png") });
  });
});
