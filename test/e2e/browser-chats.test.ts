/**
 * Tidying chats in the web client: the creator (an admin here) renames and archives a chat from the sidebar and a
 * member sees both live in the open chat; archived chats hide behind "show archived"; an admin deletes a chat after a
 * confirm and the member's chat says it was deleted; an admin renames the org.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningParlor, startParlor } from "../../scripts/parlor-process";

const CHROMIUM = "/usr/bin/chromium";
const databaseUrl = process.env.PARLOR_TEST_DATABASE_URL as string;
const dataDir = mkdtempSync(join(tmpdir(), "parlor-browser-chats-"));
let parlor: RunningParlor;
let browser: Browser;

if (!existsSync(CHROMIUM) && process.env.PARLOR_REQUIRE_BROWSER === "1") {
  throw new Error(`PARLOR_REQUIRE_BROWSER=1 but there is no browser at ${CHROMIUM} (apt-get install -y chromium)`);
}
describe.skipIf(!existsSync(CHROMIUM))("renaming, archiving and deleting chats in the web client", () => {
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

  it("the creator renames and archives a chat, a member sees it live, an admin deletes it and renames the org", async () => {
    const alice = await signIn("alice", "Alice");
    await alice.fill("input[name=orgName]", "Tidy");
    await alice.press("input[name=orgName]", "Enter");
    await alice.fill("input[name=orgMember]", "bob");
    await alice.press("input[name=orgMember]", "Enter");
    await alice.waitForSelector("aside >> text=bob");
    await alice.fill("input[name=chatTitle]", "drafts");
    await alice.press("input[name=chatTitle]", "Enter");
    await alice.waitForSelector("main >> text=# drafts");
    await alice.fill("input[name=chatMember]", "bob");
    await alice.press("input[name=chatMember]", "Enter");

    const bob = await signIn("bob", "Bob");
    await bob.click("text=Tidy");
    await bob.click("text=# drafts");
    await bob.waitForSelector("text=live");
    // Bob neither created the chat nor administers the org: no tidying controls for him.
    expect(await bob.locator("[data-testid=chat-rename]").count()).toBe(0);

    await alice.click("[data-testid=chat-rename]");
    await alice.fill("input[name=chatRename]", "roadmap");
    await alice.press("input[name=chatRename]", "Enter");
    await alice.locator("aside [data-testid=chat-item]", { hasText: "# roadmap" }).waitFor();
    await bob.locator("main h2", { hasText: "# roadmap" }).waitFor();
    await bob.locator("aside [data-testid=chat-item]", { hasText: "# roadmap" }).waitFor();

    await alice.click("[data-testid=chat-archive]");
    await bob.locator("[data-testid=archived]").waitFor();
    expect(await bob.locator("[name=message]").isDisabled()).toBe(true);
    await alice.locator("aside [data-testid=chat-item]", { hasText: "roadmap" }).waitFor({ state: "detached" });
    await alice.click("[data-testid=show-archived]");
    const archived = alice.locator("aside [data-testid=chat-item]", { hasText: "roadmap (archived)" });
    await archived.waitFor();
    await archived.locator("button.link").click();
    await alice.screenshot({ path: join(tmpdir(), "parlor-browser-chats-archived.png") });
    await archived.locator("[data-testid=chat-archive]", { hasText: "unarchive" }).click();
    await bob.locator("[data-testid=archived]").waitFor({ state: "detached" });
    await bob.fill("[name=message]", "back to work");
    await bob.press("[name=message]", "Enter");
    await alice.waitForSelector("[data-testid=messages] >> text=back to work");

    alice.once("dialog", (dialog) => void dialog.accept());
    await alice.click("[data-testid=chat-delete]");
    await bob.locator("[data-testid=stopped]", { hasText: "this chat was deleted" }).waitFor();
    await alice.locator("aside [data-testid=chat-item]", { hasText: "roadmap" }).waitFor({ state: "detached" });
    await alice.locator("text=Pick or create a chat.").waitFor();

    await alice.fill("input[name=orgRename]", "Tidy Co");
    await alice.press("input[name=orgRename]", "Enter");
    await alice.locator("aside li", { hasText: "Tidy Co" }).waitFor();
    await bob.reload();
    await bob.locator("aside li", { hasText: "Tidy Co" }).waitFor();
    await alice.screenshot({ path: join(tmpdir(), "parlor-browser-chats.png") });
  });
});
