import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningParlor, startParlor } from "../../scripts/parlor-process";

const CHROMIUM = "/usr/bin/chromium";
const databaseUrl = process.env.PARLOR_TEST_DATABASE_URL as string;
const dataDir = mkdtempSync(join(tmpdir(), "parlor-browser-"));
let parlor: RunningParlor;
let browser: Browser;

// Debian's chromium is installed by .ci/run; without it (a bare laptop) this suite says so and is skipped.
describe.skipIf(!existsSync(CHROMIUM))("the web client in two browser windows", () => {
  beforeAll(async () => {
    parlor = await startParlor(dataDir, databaseUrl);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await parlor?.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function signIn(userId: string, name: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(parlor.baseUrl);
    await page.fill("input[name=userId]", userId);
    await page.fill("input[name=name]", name);
    await page.click("button[type=submit]");
    await page.waitForSelector("text=Orgs");
    return page;
  }

  it("two people chat live, see each other present and typing, and a reload loses nothing", async () => {
    const alice = await signIn("alice", "Alice");
    await alice.fill("input[name=orgName]", "Acme");
    await alice.press("input[name=orgName]", "Enter");
    await alice.fill("input[name=orgMember]", "bob");
    await alice.press("input[name=orgMember]", "Enter");
    await alice.waitForSelector("aside >> text=bob");
    await alice.fill("input[name=chatTitle]", "launch");
    await alice.press("input[name=chatTitle]", "Enter");
    await alice.waitForSelector("text=# launch");
    await alice.fill("input[name=chatMember]", "bob");
    await alice.press("input[name=chatMember]", "Enter");

    const bob = await signIn("bob", "Bob");
    await bob.click("text=Acme");
    await bob.click("text=# launch");
    await bob.waitForSelector("text=live");
    await alice.locator("[data-testid=present]", { hasText: "Bob" }).waitFor();

    await alice.fill("input[name=message]", "hello bob");
    await bob.locator("[data-testid=typing]", { hasText: "Alice typing" }).waitFor();
    await alice.press("input[name=message]", "Enter");
    await bob.waitForSelector("[data-testid=messages] >> text=hello bob");
    await bob.fill("input[name=message]", "hi alice");
    await bob.press("input[name=message]", "Enter");
    await alice.waitForSelector("[data-testid=messages] >> text=hi alice");

    const texts = (page: Page) =>
      page.$$eval("[data-testid=messages] li .text", (els) => els.map((e) => e.textContent));
    expect(await texts(alice)).toEqual(["hello bob", "hi alice"]);
    expect(await texts(bob)).toEqual(["hello bob", "hi alice"]);

    await bob.reload();
    await bob.click("text=Acme");
    await bob.click("text=# launch");
    await bob.waitForSelector("[data-testid=messages] >> text=hi alice");
    expect(await texts(bob)).toEqual(["hello bob", "hi alice"]);
  });

  it("after a dropped connection both clients resume from their last seq, and a send made offline arrives once", async () => {
    const alice = await signIn("alice2", "Alice");
    await alice.fill("input[name=orgName]", "Resume");
    await alice.press("input[name=orgName]", "Enter");
    await alice.fill("input[name=orgMember]", "bob2");
    await alice.press("input[name=orgMember]", "Enter");
    await alice.waitForSelector("aside >> text=bob2");
    await alice.fill("input[name=chatTitle]", "resume");
    await alice.press("input[name=chatTitle]", "Enter");
    await alice.fill("input[name=chatMember]", "bob2");
    await alice.press("input[name=chatMember]", "Enter");
    const bob = await signIn("bob2", "Bob");
    await bob.click("text=Resume");
    await bob.click("text=# resume");
    await bob.waitForSelector("text=live");
    await alice.fill("input[name=message]", "before the drop");
    await alice.press("input[name=message]", "Enter");
    await bob.waitForSelector("[data-testid=messages] >> text=before the drop");

    await parlor.kill("SIGTERM");
    await bob.waitForSelector("text=reconnecting");
    await bob.fill("input[name=message]", "sent while offline");
    await bob.press("input[name=message]", "Enter");
    await bob.locator(".pending", { hasText: "sent while offline" }).waitFor();
    parlor = await startParlor(dataDir, databaseUrl, parlor.port);

    await alice.waitForSelector("[data-testid=messages] >> text=sent while offline", { timeout: 30_000 });
    await bob.waitForSelector("[data-testid=messages] li:not(.pending) >> text=sent while offline", {
      timeout: 30_000,
    });
    await alice.fill("input[name=message]", "after the drop");
    await alice.press("input[name=message]", "Enter");
    await bob.waitForSelector("[data-testid=messages] >> text=after the drop");
    const texts = (page: Page) =>
      page.$$eval("[data-testid=messages] li .text", (els) => els.map((e) => e.textContent));
    const expected = ["before the drop", "sent while offline", "after the drop"];
    expect(await texts(alice)).toEqual(expected);
    expect(await texts(bob)).toEqual(expected);
    await bob.screenshot({ path: join(tmpdir(), "parlor-browser.png") });
  });

  /** A new org with one chat, the built-in assistant added to it. */
  async function chatWithAssistant(userId: string, name: string, org: string, chat: string): Promise<Page> {
    const page = await signIn(userId, name);
    await page.fill("input[name=orgName]", org);
    await page.press("input[name=orgName]", "Enter");
    await page.fill("input[name=chatTitle]", chat);
    await page.press("input[name=chatTitle]", "Enter");
    await page.waitForSelector("text=live");
    await page.click("text=add @assistant");
    await page.locator("[data-testid=agents]", { hasText: "agents: @assistant" }).waitFor();
    return page;
  }

  it("with no model key, a member adds the built-in assistant, mentions it and watches the reply stream in", async () => {
    const carol = await chatWithAssistant("carol", "Carol", "Agents", "ask");
    await carol.fill("input[name=message]", "@assistant summarise the launch plan in one line please");
    await carol.press("input[name=message]", "Enter");
    // Mid-stream, part of the reply is on screen before the whole of it is stored.
    const streaming = carol.locator("[data-testid=streaming] .text", { hasText: "You said:" });
    await streaming.waitFor();
    const partial = await streaming.textContent();
    await carol.locator("[data-testid=messages] li.author-agent").waitFor({ timeout: 20_000 });
    const reply = await carol.locator("[data-testid=messages] li.author-agent .text").textContent();
    expect(reply).toBe('You said: "@assistant summarise the launch plan in one line please"');
    expect(reply?.startsWith(partial ?? "?")).toBe(true);
    expect(partial?.length).toBeLessThan(reply?.length ?? 0);
    expect(await carol.locator("[data-testid=streaming]").count()).toBe(0);
    await carol.screenshot({ path: join(tmpdir(), "parlor-agent.png") });
  });

  it("the assistant asks before a POST; the member approves in the web client and sees the result", async () => {
    const dana = await chatWithAssistant("dana", "Dana", "Approvals", "ops");
    await dana.fill(
      "input[name=message]",
      `@assistant POST ${parlor.baseUrl}/api/dev/echo/tickets {"title":"ship it"}`,
    );
    await dana.press("input[name=message]", "Enter");
    const card = dana.locator("[data-testid=approval]");
    await card.waitFor();
    expect(await card.textContent()).toContain(`POST${parlor.baseUrl}/api/dev/echo/tickets`.replace("POST", "POST "));
    await dana.locator("[data-testid=tool]", { hasText: "waiting approval" }).waitFor();
    // The live-progress document (Yjs) shows the same state.
    await dana.locator("[data-testid=progress]", { hasText: "waiting approval" }).waitFor();
    await card.locator("button", { hasText: "Approve" }).click();
    const reply = dana.locator("[data-testid=messages] li.author-agent .text", {
      hasText: "The request returned 201.",
    });
    await reply.waitFor({ timeout: 20_000 });
    await dana.locator("[data-testid=messages] li.author-system", { hasText: "approved POST" }).waitFor();
    await dana.locator("[data-testid=progress]", { hasText: "Assistant: done" }).waitFor();
    await reply.locator("[data-testid=artifact]").click();
    await reply.locator("pre", { hasText: "ship it" }).waitFor();
    expect(await reply.locator("pre").textContent()).toContain('"method":"POST"');
    await dana.screenshot({ path: join(tmpdir(), "parlor-approval.png") });
  });
});
