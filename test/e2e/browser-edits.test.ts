/**
 * Editing, deleting and searching in the web client, in two browser windows: the author edits and deletes their own
 * message and the other window sees it at once; an admin may delete, not edit, someone else's; search in a chat
 * highlights the words, and the org's search opens the chat a result is in.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { expect, it } from "vitest";
import { browserHarness } from "./browser-harness";

const { describeWithBrowser, signIn } = browserHarness("edits", {
  // Deleting asks first: say yes.
  signIn: { onDialog: (dialog) => void dialog.accept() },
});

describeWithBrowser("editing, deleting and searching in the web client", () => {
  const message = (page: Page, text: string) => page.locator("[data-testid=messages] li", { hasText: text });

  it("an author edits and deletes their own messages live; an admin deletes others'; search finds and opens", async () => {
    const alice = await signIn("alice", "Alice");
    await alice.fill("input[name=orgName]", "Edits");
    await alice.press("input[name=orgName]", "Enter");
    await alice.fill("input[name=orgMember]", "bob");
    await alice.press("input[name=orgMember]", "Enter");
    await alice.waitForSelector("aside >> text=bob");
    await alice.fill("input[name=chatTitle]", "fixes");
    await alice.press("input[name=chatTitle]", "Enter");
    await alice.waitForSelector("text=live");
    await alice.fill("input[name=chatMember]", "bob");
    await alice.press("input[name=chatMember]", "Enter");

    const bob = await signIn("bob", "Bob");
    await bob.click("text=Edits");
    await bob.click("text=# fixes");
    await bob.waitForSelector("text=live");

    await alice.fill("[name=message]", "teh launch plan");
    await alice.press("[name=message]", "Enter");
    await message(bob, "teh launch plan").waitFor();
    // Bob (a member) has no actions on Alice's message.
    expect(await message(bob, "teh launch plan").locator("[data-testid=edit], [data-testid=delete]").count()).toBe(0);

    const own = message(alice, "teh launch plan");
    await own.locator("[data-testid=edit]").click();
    await own.locator("input[name=editText]").fill("the launch plan");
    await own.locator("[data-testid=save-edit]").click();
    const edited = message(bob, "the launch plan");
    await edited.locator("[data-testid=edited]").waitFor();
    expect(await edited.locator(".text").textContent()).toBe("the launch plan (edited)");

    await bob.fill("[name=message]", "oops my password is hunter2");
    await bob.press("[name=message]", "Enter");
    await message(alice, "hunter2").waitFor();
    // Alice, an admin, may delete Bob's message but not edit it.
    expect(await message(alice, "hunter2").locator("[data-testid=edit]").count()).toBe(0);
    expect(await message(alice, "hunter2").locator("[data-testid=delete]").count()).toBe(1);
    await bob.fill("[name=message]", "and a typo here");
    await bob.press("[name=message]", "Enter");
    await message(alice, "a typo here").waitFor();

    await message(bob, "hunter2").locator("[data-testid=delete]").click();
    await alice.locator("[data-testid=messages] [data-testid=deleted]").waitFor();
    await bob.locator("[data-testid=messages] [data-testid=deleted]").waitFor();
    expect(await alice.locator("[data-testid=messages]").textContent()).not.toContain("hunter2");
    await message(alice, "a typo here").locator("[data-testid=delete]").click();
    await bob.locator("[data-testid=messages] [data-testid=deleted]").nth(1).waitFor();

    // After a reload the log still shows the latest state.
    await bob.reload();
    await bob.click("text=Edits");
    await bob.click("text=# fixes");
    await message(bob, "the launch plan").waitFor();
    const texts = await bob.$$eval("[data-testid=messages] li .text", (els) => els.map((e) => e.textContent));
    expect(texts).toEqual(["the launch plan (edited)", "message deleted", "message deleted"]);

    // Search in the chat: the word is highlighted; the deleted message is not found.
    const chatSearch = bob.locator("[data-testid=chat-search]");
    await chatSearch.locator("input[name=search]").fill("launch");
    await chatSearch.locator("button[type=submit]").click();
    await chatSearch.locator("[data-testid=search-result] mark", { hasText: "launch" }).waitFor();
    await chatSearch.locator("input[name=search]").fill("hunter2");
    await chatSearch.locator("button[type=submit]").click();
    await chatSearch.locator("text=no messages found").waitFor();

    // Search across the org: a result in another chat opens that chat.
    await alice.fill("input[name=chatTitle]", "roadmap");
    await alice.press("input[name=chatTitle]", "Enter");
    await alice.waitForSelector("h2 >> text=# roadmap");
    await alice.waitForSelector("text=live");
    await alice.fill("[name=message]", "launch day is friday");
    await alice.press("[name=message]", "Enter");
    await message(alice, "launch day is friday").waitFor();
    await alice.click("text=# fixes");
    await alice.waitForSelector("h2 >> text=# fixes");
    const orgSearch = alice.locator("[data-testid=org-search]");
    await orgSearch.locator("input[name=search]").fill("launch");
    await orgSearch.locator("button[type=submit]").click();
    const results = orgSearch.locator("[data-testid=search-result]");
    await results.nth(1).waitFor();
    expect(await results.count()).toBe(2);
    await orgSearch.locator("[data-testid=search-result]", { hasText: "# roadmap" }).click();
    await alice.waitForSelector("h2 >> text=# roadmap");
    await message(alice, "launch day is friday").waitFor();
    await alice.screenshot({ path: join(tmpdir(), "parlor-edits.png") });
  });
});
