/**
 * Tool-call cards and run controls in the web client, in several browser windows: the approval card sits in the
 * conversation where the agent asked (between the messages around it), shows the request's body and who may decide,
 * offers Approve / Deny only to members the policy allows, and a vote in one window shows in the others; a run's stop
 * button is only for the member who started it (and admins), and a stopped run is retried from its message by any
 * member, whose run it then is.
 */
import type { Page } from "playwright-core";
import { expect, it } from "vitest";
import { apiOf, ok } from "../../scripts/parlor-process";
import { browserHarness, screenshotPath } from "./browser-harness";

const { describeWithBrowser, parlor, signIn } = browserHarness("cards");

type Person = { userId: string; name: string; role: "admin" | "member" };

describeWithBrowser("tool-call cards and run controls in the browser", () => {
  async function tokenOf(person: Pick<Person, "userId" | "name">): Promise<string> {
    return (await ok(await apiOf(parlor().baseUrl).dev.token.$post({ json: person }))).token;
  }

  /** Over REST: the owner's org and chat with `others` in both, and an agent `@ops` allowed to POST to the echo. */
  async function chatWith(org: string, owner: Person, others: Person[], approval: object): Promise<void> {
    const api = apiOf(parlor().baseUrl, await tokenOf(owner));
    const { id: orgId } = await ok(await api.orgs.$post({ json: { name: org } }));
    const { id: chatId } = await ok(await api.orgs[":orgId"].chats.$post({ param: { orgId }, json: { title: "ops" } }));
    for (const person of others) {
      await tokenOf(person);
      await ok(await api.orgs[":orgId"].members.$post({ param: { orgId }, json: person }));
      await ok(await api.chats[":chatId"].members.$post({ param: { chatId }, json: { userId: person.userId } }));
    }
    const allow = [{ baseUrl: `${parlor().baseUrl}/api/dev/echo`, methods: ["POST" as const] }];
    const { id: agentId } = await ok(
      await api.orgs[":orgId"].agents.$post({
        param: { orgId },
        json: { name: "Ops", handle: "ops", tools: { http: { allow, approval } } },
      }),
    );
    await ok(await api.chats[":chatId"].agents.$post({ param: { chatId }, json: { agentId } }));
  }

  async function open(person: Person, org: string): Promise<Page> {
    const page = await signIn(person.userId, person.name);
    await enter(page, org);
    return page;
  }

  /** Opens the org's chat from the sidebar (signed in). */
  async function enter(page: Page, org: string): Promise<void> {
    await page.waitForSelector("text=Orgs");
    await page.click(`aside button:text-is("${org}")`);
    await page.click("aside >> text=# ops");
    await page.waitForSelector("text=live");
  }

  async function say(page: Page, text: string): Promise<void> {
    await page.fill("[name=message]", text);
    await page.press("[name=message]", "Enter");
  }

  const message = (page: Page, text: string) =>
    page.locator("[data-testid=messages] > li[data-seq]", { hasText: text });

  it("the card sits where the agent asked, shows body and policy, hides buttons from non-admins, and votes show everywhere", async () => {
    const alice: Person = { userId: "cards-alice", name: "Alice", role: "admin" };
    const bob: Person = { userId: "cards-bob", name: "Bob", role: "admin" };
    const carol: Person = { userId: "cards-carol", name: "Carol", role: "member" };
    await chatWith("Cards", alice, [bob, carol], { approvers: "admins", quorum: 2, timeoutSeconds: 600 });
    const [a, b, c] = [await open(alice, "Cards"), await open(bob, "Cards"), await open(carol, "Cards")];

    await say(a, "before the request");
    await message(a, "before the request").waitFor();
    await say(a, `@ops POST ${parlor().baseUrl}/api/dev/echo/payments {"amount":5,"to":"acme"}`);
    await c.locator("[data-testid=approval]").waitFor();
    await say(c, "written while it waits");
    await message(a, "written while it waits").waitFor();

    for (const page of [a, b, c]) {
      // In place: right after the message that asked, right before the one written while it waited.
      const asked = message(page, "@ops POST");
      const card = page.locator("[data-testid=messages] > li[data-seq] + li[data-testid=approval]");
      await card.waitFor();
      expect(await asked.getAttribute("data-seq")).toBe(
        String(Number(await message(page, "before the request").getAttribute("data-seq")) + 1),
      );
      const seqAsked = await asked.getAttribute("data-seq");
      await page
        .locator(`li[data-seq="${seqAsked}"] + li[data-testid=approval] + li[data-seq]`, {
          hasText: "written while it waits",
        })
        .waitFor();
      expect(await card.locator("[data-testid=approval-method]").textContent()).toBe("POST");
      expect(await card.locator("[data-testid=approval-url]").textContent()).toBe(
        `${parlor().baseUrl}/api/dev/echo/payments`,
      );
      expect(await card.locator("[data-testid=approval-body]").textContent()).toBe('{"amount":5,"to":"acme"}');
      expect(await card.locator("[data-testid=approval-policy]").textContent()).toBe(
        "an org admin decides; 2 approvals needed",
      );
      await card.locator("[data-testid=approval-votes]", { hasText: "0 of 2 approvals" }).waitFor();
    }
    // Carol is a member, not an admin: the policy leaves her out, so she has no buttons to be refused by.
    const carolCard = c.locator("[data-testid=approval]");
    await carolCard.locator("text=waiting for others to decide").waitFor();
    expect(await carolCard.locator("button").count()).toBe(0);

    await a.locator("[data-testid=approval] button", { hasText: "Approve" }).click();
    for (const page of [b, c]) {
      await page
        .locator("[data-testid=approval] [data-testid=approval-votes]", {
          hasText: "1 of 2 approvals: approved by Alice",
        })
        .waitFor();
    }
    await a.locator("[data-testid=approval]").locator("text=you voted").waitFor();
    expect(await a.locator("[data-testid=approval] button").count()).toBe(0);

    await b.locator("[data-testid=approval] button", { hasText: "Approve" }).click();
    for (const page of [a, b, c]) {
      await page.locator("[data-testid=approval-outcome]", { hasText: "approved by Bob" }).waitFor();
    }
    await message(c, "The request returned 201.").waitFor({ timeout: 20_000 });
    // The result it used opens, and Esc closes it.
    const result = message(c, "The request returned 201.");
    await result.locator("[data-testid=artifact]").click();
    await result.locator("pre", { hasText: "acme" }).waitFor();
    await c.keyboard.press("Escape");
    await result.locator("pre").waitFor({ state: "detached" });

    // Opened again, the decided card comes back in the same place, with its outcome and votes.
    await c.reload();
    await enter(c, "Cards");
    const seqAsked = await message(c, "@ops POST").getAttribute("data-seq");
    const again = c.locator(`li[data-seq="${seqAsked}"] + li[data-testid=approval]`);
    await again.locator("[data-testid=approval-outcome]", { hasText: "approved by Bob" }).waitFor();
    expect(await again.locator("[data-testid=approval-votes]").textContent()).toBe(
      "2 of 2 approvals: approved by Alice, Bob",
    );
    await c.screenshot({ path: screenshotPath("approval-card.png") });
  }, 120_000);

  it("only the member who started a run, or an admin, may stop it; any member retries a stopped run, which is then theirs", async () => {
    const dora: Person = { userId: "runs-dora", name: "Dora", role: "admin" };
    const eli: Person = { userId: "runs-eli", name: "Eli", role: "member" };
    const fay: Person = { userId: "runs-fay", name: "Fay", role: "member" };
    await chatWith("Runs", dora, [eli, fay], { approvers: "initiator" });
    const [d, e, f] = [await open(dora, "Runs"), await open(eli, "Runs"), await open(fay, "Runs")];

    // Long enough (a minute at the local model's 50 ms a word) that three windows see it streaming, even under load.
    const words = Array.from({ length: 1200 }, (_, i) => `w${i}`).join(" ");
    await say(e, `@ops ${words}`);
    const streaming = (page: Page) => page.locator("[data-testid=streaming] .text", { hasText: "You said:" });
    for (const page of [d, e, f]) await streaming(page).waitFor();
    // Eli started it and Dora is an admin: both may stop it. Fay may not, and sees no button.
    await e.locator("[data-testid=stop]").waitFor();
    await d.locator("[data-testid=stop]").waitFor();
    expect(await f.locator("[data-testid=stop]").count()).toBe(0);

    await e.locator("[data-testid=stop]").click();
    const stopped = (page: Page) => page.locator("[data-testid=messages] li.author-agent", { hasText: "(stopped)" });
    for (const page of [d, e, f]) await stopped(page).first().waitFor({ timeout: 60_000 });
    expect(await f.locator("[data-testid=streaming]").count()).toBe(0);

    // Any member may retry: Fay does, and the new run is hers to stop (Eli now sees no button).
    await stopped(f).locator("[data-testid=retry]").click();
    for (const page of [d, e, f]) await streaming(page).waitFor();
    await f.locator("[data-testid=stop]").waitFor();
    await d.locator("[data-testid=stop]").waitFor();
    expect(await e.locator("[data-testid=stop]").count()).toBe(0);
    await f.locator("[data-testid=stop]").click();
    for (const page of [d, e, f]) {
      await expect.poll(() => stopped(page).count(), { timeout: 60_000 }).toBe(2);
    }
  }, 240_000);
});
