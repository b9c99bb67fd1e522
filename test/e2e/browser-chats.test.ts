/**
 * Tidying chats in the web client: the creator (an admin here) renames and archives a chat from the sidebar and a
 * member sees both live in the open chat; archived chats hide behind "show archived"; an admin deletes a chat after a
 * confirm and the member's chat says it was deleted; an admin renames the org.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { browserHarness } from "./browser-harness";

const { describeWithBrowser, signIn } = browserHarness("chats");

describeWithBrowser("renaming, archiving and deleting chats in the web client", () => {
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
