/**
 * The members and secrets screens and the sidebar's reading state in the web client: roles set with a labelled
 * select, removals and leaving confirmed first, caps shown as billing sets them, the server's refusals shown;
 * secrets stored by name and never shown back, rotated, granted and deleted; unread counts per org, and chats
 * listed by last activity.
 */
import { randomUUID } from "node:crypto";
import type { Page } from "playwright-core";
import { expect, it } from "vitest";
import { parlorClient } from "../../api/client";
import { browserHarness } from "./browser-harness";

const { describeWithBrowser, parlor, signIn } = browserHarness("people");

async function createOrg(page: Page, name: string): Promise<void> {
  await page.fill("input[name=orgName]", name);
  await page.press("input[name=orgName]", "Enter");
  // A new org opens on its members screen: inviting people is what comes next.
  await page.locator("[data-testid=members-admin] h2", { hasText: `Members of ${name}` }).waitFor();
}

async function invite(page: Page, name: string, role: "member" | "admin" = "member"): Promise<void> {
  await page.getByLabel("Email (or, in development, a name)").fill(name);
  await page.getByLabel("Role", { exact: true }).selectOption(role);
  await page.getByRole("button", { name: "Invite" }).click();
  await page.locator("[data-testid=invite-status]", { hasText: `Added ${name}` }).waitFor();
}

/** A REST client signed in as `userId` (development sign-in). */
async function apiAs(userId: string, name: string) {
  const base = parlor().baseUrl;
  const { token } = await (await parlorClient(base).api.dev.token.$post({ json: { userId, name } })).json();
  return parlorClient(base, { headers: { Authorization: `Bearer ${token}` } }).api;
}

describeWithBrowser("members, secrets and reading state in the browser", () => {
  it("roles by a labelled select, removing and leaving confirmed first, caps as billing set them, refusals shown", async () => {
    const ada = await signIn("ada", "Ada");
    await createOrg(ada, "Guild");
    await invite(ada, "Cy");
    await invite(ada, "Di", "admin");
    const sidebar = ada.locator("[data-testid=members]");
    await sidebar.locator("li[data-user=di] .role-admin").waitFor();
    await sidebar.locator("li[data-user=cy] .role-member").waitFor();

    // Caps are set on the billing screen and shown on the members screen.
    await ada.getByRole("button", { name: "Edit caps" }).click();
    const cyCaps = ada.locator("[data-testid=caps] tr[data-user=cy]");
    await cyCaps.locator("input[name=agentRunsPerPeriod]").fill("3");
    await cyCaps.getByRole("button", { name: "Save" }).click();
    await cyCaps.locator(".saved", { hasText: "saved" }).waitFor();
    await ada.getByRole("button", { name: "Manage members" }).click();
    const screen = ada.locator("[data-testid=members-admin]");
    await screen.locator("li[data-user=cy] [data-testid=member-caps]", { hasText: "3 runs, no tokens cap" }).waitFor();

    await ada.getByLabel("Role of Cy").selectOption("admin");
    await sidebar.locator("li[data-user=cy] .role-admin").waitFor();

    // A removal asks first; Escape backs out and nothing changes.
    await screen.getByRole("button", { name: "Remove Di" }).click();
    const yes = screen.getByRole("button", { name: "Yes, remove" });
    await yes.waitFor();
    expect(await ada.evaluate("document.activeElement.textContent")).toBe("Yes, remove");
    await ada.keyboard.press("Escape");
    expect(await yes.count()).toBe(0);
    expect(await screen.locator("li[data-user=di]").count()).toBe(1);
    await screen.getByRole("button", { name: "Remove Di" }).click();
    await yes.click();
    await screen.locator("li[data-user=di]").waitFor({ state: "detached" });
    await sidebar.locator("li[data-user=di]").waitFor({ state: "detached" });

    // Cy, an admin now, leaves after confirming; the org leaves their list.
    const cy = await signIn("cy", "Cy");
    await cy.getByRole("button", { name: "Guild" }).click();
    await cy.getByRole("button", { name: "Manage members" }).click();
    await cy.getByRole("button", { name: "Leave Guild" }).click();
    await cy.getByRole("button", { name: "Yes, leave" }).click();
    await cy.getByRole("button", { name: "Guild" }).waitFor({ state: "detached" });
    // Ada's sidebar hears of it on its next refresh.
    await sidebar.locator("li[data-user=cy]").waitFor({ state: "detached", timeout: 15_000 });

    // The last admin cannot step down: the server's 409 is shown, and the role stays.
    await ada.getByLabel("Role of Ada").selectOption("member");
    await screen.locator(".error[role=alert]", { hasText: "an org must keep at least one admin" }).waitFor();
    expect(await ada.getByLabel("Role of Ada").inputValue()).toBe("admin");
    await ada.reload();
    await ada.getByRole("button", { name: "Guild" }).click();
    await ada.locator("[data-testid=members] li[data-user=ada] .role-admin").waitFor();
  });

  it("secrets: stored by name and never shown back, refusals explained, rotated, granted to a chat, deleted", async () => {
    const ada = await signIn("ada", "Ada");
    await ada.getByRole("button", { name: "Guild" }).click();
    await ada.fill("input[name=chatTitle]", "ops");
    await ada.press("input[name=chatTitle]", "Enter");
    await ada.locator(".status.online").waitFor();
    await ada.getByRole("button", { name: "Secrets" }).click();
    const screen = ada.locator("[data-testid=secrets-admin]");
    await screen.getByText("No secrets yet.").waitFor();

    const store = async (name: string, value: string) => {
      await screen.getByLabel("Name").fill(name);
      await screen.getByLabel("Value").fill(value);
      await screen.getByRole("button", { name: "Store secret" }).click();
    };
    await store("API_TOKEN", "first-value-123");
    const row = screen.locator("li[data-secret=API_TOKEN]");
    await row.getByText("every chat, every agent").waitFor();
    expect(await screen.getByLabel("Value").inputValue()).toBe("");
    expect(await ada.content()).not.toContain("first-value-123");

    // The server's refusals, as it words them: a name taken (409), a name it does not accept (400).
    await store("API_TOKEN", "second-value");
    await ada.locator("[data-testid=secrets-error]", { hasText: "a secret named API_TOKEN exists" }).waitFor();
    await store("bad-name", "x");
    await ada.locator("[data-testid=secrets-error]", { hasText: "names are A-Z" }).waitFor();
    expect(await screen.locator("li[data-secret]").count()).toBe(1);

    await row.getByRole("button", { name: "Rotate API_TOKEN" }).click();
    await ada.getByLabel("New value for API_TOKEN").fill("rotated-value-456");
    await ada.getByRole("button", { name: "Save new value" }).click();
    await ada.locator("[data-testid=secrets-status]", { hasText: "API_TOKEN rotated." }).waitFor();
    expect(await ada.content()).not.toContain("rotated-value-456");

    await row.getByRole("button", { name: "Change grants API_TOKEN" }).click();
    await row.getByLabel("only these chats").check();
    await row.getByLabel("# ops").check();
    await row.getByRole("button", { name: "Save grants" }).click();
    await row.getByText("1 chat, every agent").waitFor();

    await row.getByRole("button", { name: "Delete API_TOKEN" }).click();
    await row.getByRole("button", { name: "Yes, delete" }).click();
    await row.waitFor({ state: "detached" });
    await screen.getByText("No secrets yet.").waitFor();
  });

  it("each org shows its unread, and chats are listed by last activity, newest first", async () => {
    const eve = await apiAs("eve", "Eve");
    await apiAs("fay", "Fay");
    const { id: orgId } = await (await eve.orgs.$post({ json: { name: "Northwind" } })).json();
    expect((await eve.orgs[":orgId"].members.$post({ param: { orgId }, json: { userId: "fay" } })).ok).toBe(true);
    const chatIds: Record<string, string> = {};
    for (const title of ["alpha", "beta"]) {
      const { id } = await (await eve.orgs[":orgId"].chats.$post({ param: { orgId }, json: { title } })).json();
      expect((await eve.chats[":chatId"].members.$post({ param: { chatId: id }, json: { userId: "fay" } })).ok).toBe(
        true,
      );
      chatIds[title] = id;
    }
    const write = async (title: string, text: string) => {
      const answer = await eve.chats[":chatId"].messages.$post({
        param: { chatId: chatIds[title] },
        json: { text, clientMessageId: randomUUID() },
      });
      expect(answer.status).toBe(201);
    };

    const fay = await signIn("fay", "Fay");
    await fay.getByRole("button", { name: "Northwind" }).click();
    const titles = () => fay.locator("[data-testid=chat-item] > .link").allTextContents();
    // Newest first: beta was made last.
    await expect.poll(titles, { timeout: 15_000 }).toEqual(["# beta", "# alpha"]);

    await write("alpha", "one");
    await write("alpha", "two");
    const orgUnread = fay
      .locator("[data-testid=org-item]", { hasText: "Northwind" })
      .locator("[data-testid=org-unread]");
    await expect.poll(() => orgUnread.textContent(), { timeout: 30_000 }).toBe("2 unread");
    await expect.poll(titles, { timeout: 30_000 }).toEqual(["# alpha", "# beta"]);

    await write("beta", "three");
    await expect.poll(titles, { timeout: 30_000 }).toEqual(["# beta", "# alpha"]);
    await expect.poll(() => orgUnread.textContent(), { timeout: 30_000 }).toBe("3 unread");

    // Reading alpha leaves beta's one.
    await fay.getByRole("button", { name: "# alpha" }).click();
    await fay.locator("[data-testid=messages] li", { hasText: "two" }).waitFor();
    await expect.poll(() => orgUnread.textContent(), { timeout: 30_000 }).toBe("1 unread");
  });
});
