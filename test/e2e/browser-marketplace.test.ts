/**
 * The marketplace in the web client, from publishing to a run: an admin publishes one of the org's agents, a
 * moderator approves it from the queue, another org's admin finds it by search, installs it, adds it to a chat, and
 * the installed agent answers a mention there with the built-in model.
 */
import type { Page } from "playwright-core";
import { expect, it } from "vitest";
import { parlorClient } from "../../api/client";
import { browserHarness } from "./browser-harness";

const MODERATOR = "market-mia";
// npm start passes PARLOR_* variables to the Worker: this user moderates.
const { describeWithBrowser, parlor, signIn } = browserHarness("marketplace", {
  env: { PARLOR_MODERATORS: MODERATOR },
});

describeWithBrowser("the marketplace in the web client", () => {
  async function createOrg(page: Page, name: string): Promise<void> {
    await page.fill("input[name=orgName]", name);
    await page.press("input[name=orgName]", "Enter");
    await page.locator("aside", { hasText: name }).waitFor();
    await page.click(`text=${name}`);
  }

  /** Over REST: the publisher's org and its agent, allowed to reach the development echo of this server. */
  async function publisherWithAgent(userId: string): Promise<void> {
    const answer = await parlorClient(parlor().baseUrl).api.dev.token.$post({ json: { userId, name: "Alice" } });
    const { token } = await answer.json();
    const api = parlorClient(parlor().baseUrl, { headers: { Authorization: `Bearer ${token}` } }).api;
    const org = await (await api.orgs.$post({ json: { name: "Makers" } })).json();
    const agent = await api.orgs[":orgId"].agents.$post({
      param: { orgId: org.id },
      json: {
        name: "Ticket helper",
        handle: "tickets",
        systemPrompt: "You file tickets for the team.",
        tools: { http: { allow: [{ baseUrl: `${parlor().baseUrl}/api/dev/echo`, methods: ["GET"] }] }, history: {} },
      },
    });
    expect(agent.status).toBe(201);
  }

  it("publish, moderate, install, and a run of the installed agent in a chat", async () => {
    await publisherWithAgent("market-alice");
    const alice = await signIn("market-alice", "Alice");
    await alice.click("text=Makers");
    await alice.click("[data-testid=open-marketplace]");
    await alice.locator("select[name=publishAgent] option", { hasText: "@tickets" }).waitFor({ state: "attached" });
    await alice.selectOption("select[name=publishAgent]", { label: "@tickets (Ticket helper)" });
    await alice.fill("input[name=publishDescription]", "Files tickets in the tracker");
    await alice.click("button:has-text('Publish')");
    await alice.locator("[data-testid=own-listing]", { hasText: "pending" }).waitFor();
    // Not public yet.
    expect(await alice.locator("[data-testid=listing]").count()).toBe(0);

    // A moderator needs no org of her own to moderate.
    const mia = await signIn(MODERATOR, "Mia");
    await mia.click("[data-testid=open-marketplace]");
    const queued = mia.locator("[data-testid=queued-listing]", { hasText: "Ticket helper" });
    await queued.waitFor();
    await queued.locator("input[name=reviewReason]").fill("useful and safe");
    await queued.locator("button", { hasText: "Approve" }).click();
    await mia.locator("[data-testid=listing]", { hasText: "Ticket helper" }).waitFor();

    const bob = await signIn("market-bob", "Bob");
    await createOrg(bob, "Users");
    await bob.fill("input[name=chatTitle]", "general");
    await bob.press("input[name=chatTitle]", "Enter");
    await bob.waitForSelector("main >> text=# general");
    await bob.click("[data-testid=open-marketplace]");
    expect(await bob.locator("[data-testid=moderation]").count()).toBe(0);
    await bob.fill("input[name=marketSearch]", "tracker");
    const listing = bob.locator("[data-testid=listing]", { hasText: "Ticket helper" });
    await listing.waitFor();
    bob.once("dialog", (dialog) => void dialog.accept("helper"));
    await listing.locator("button", { hasText: "Install" }).click();
    await bob.locator("text=Installed @helper (version 1).").waitFor();
    const installed = bob.locator("[data-testid=install]", { hasText: "@helper" });
    await installed.locator("select[name=installChat] option", { hasText: "# general" }).waitFor({ state: "attached" });
    await installed.locator("select[name=installChat]").selectOption({ label: "# general" });
    await bob.locator("text=@helper joined the chat.").waitFor();

    await bob.click("aside >> text=# general");
    await bob.waitForSelector("text=live");
    await bob.locator("[data-testid=agents]", { hasText: "@helper" }).waitFor();
    await bob.fill("[name=message]", "@helper hello there");
    await bob.press("[name=message]", "Enter");
    await bob.locator("[data-testid=messages] li.author-agent").first().waitFor({ timeout: 30_000 });
    expect(await bob.locator("[data-testid=messages] li.author-agent .author").first().textContent()).toBe(
      "Ticket helper",
    );
  }, 180_000);
});
