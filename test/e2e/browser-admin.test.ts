/**
 * The admin screens in the web client, each doing its job: invite a person by name (development), add them to a
 * chat by searching their name, create an agent from the server's assistant template and see it answer in a chat
 * (the page opened on 127.0.0.1 while the message names localhost), save egress settings and a member's caps, and
 * read the audit log with its verification status; at 375 px wide too.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { browserHarness } from "./browser-harness";

const { describeWithBrowser, parlor, signIn } = browserHarness("admin");

describeWithBrowser("admin screens in the browser", () => {
  it("invite, add to a chat by name, an agent from the template answering, egress, caps and the audit log", async () => {
    // The page on 127.0.0.1; messages below name the localhost form of the same server.
    const loopback = parlor().baseUrl.replace("localhost", "127.0.0.1");
    const ada = await signIn("ada", "Ada", { origin: loopback });
    await ada.fill("input[name=orgName]", "Control");
    await ada.press("input[name=orgName]", "Enter");
    await ada.waitForSelector("text=Admin");

    // People: invited by name, added to a chat by searching that name.
    await ada.getByLabel("Email (or, in development, a name)").fill("Ben Low");
    await ada.getByRole("button", { name: "Invite" }).click();
    await ada.locator("[data-testid=invite-status]", { hasText: "they sign in as ben-low" }).waitFor();
    await ada.locator("[data-testid=members] li[data-user=ben-low]").waitFor();
    await ada.fill("input[name=chatTitle]", "ops");
    await ada.press("input[name=chatTitle]", "Enter");
    await ada.waitForSelector("text=live");
    await ada.getByLabel("Add to chat").fill("low");
    await ada.getByRole("button", { name: "Add Ben Low" }).click();
    const ben = await signIn("ben-low", "Ben Low");
    await ben.click("text=Control");
    await ben.click("text=# ops");
    await ben.waitForSelector("text=live");

    // Agents: created from the server's template, added to the chat from the picker, answering a mention.
    await ada.getByRole("button", { name: "Agents" }).click();
    await ada.getByRole("button", { name: "New from template: Assistant" }).click();
    expect(await ada.locator("input[name=allowBaseUrl0]").inputValue()).toBe(`${parlor().baseUrl}/api/dev/echo`);
    expect(await ada.locator("input[name=allowBaseUrl1]").inputValue()).toBe(`${loopback}/api/dev/echo`);
    await ada.getByRole("button", { name: "Create agent" }).click();
    await ada.locator("[data-testid=agents-admin] li[data-agent=assistant]").waitFor();
    await ada.click("text=# ops");
    await ada.waitForSelector("text=live");
    await ada.getByLabel("Add an agent").selectOption({ label: "Assistant (@assistant)" });
    await ada.getByRole("button", { name: "add to chat" }).click();
    await ada.locator("[data-testid=agents]", { hasText: "agents: @assistant" }).waitFor();
    await ada.fill("[name=message]", `@assistant GET ${parlor().baseUrl}/api/dev/echo/hello`);
    await ada.press("[name=message]", "Enter");
    await ben
      .locator("[data-testid=messages] li.author-agent .text", { hasText: "The request returned 200." })
      .waitFor({ timeout: 30_000 });

    // Egress settings save, and show again when the screen is opened anew.
    await ada.getByRole("button", { name: "Egress" }).click();
    await ada.getByLabel("Always refused hosts").fill("evil.example\n*.tracker.example");
    await ada.getByLabel("Extra ports besides 80 and 443").fill("8080");
    await ada.getByRole("button", { name: "Save egress settings" }).click();
    await ada.locator("[data-testid=egress-status]", { hasText: "Saved" }).waitFor();
    await ada.getByRole("button", { name: "Agents" }).click();
    await ada.getByRole("button", { name: "Egress" }).click();
    // Polled from here: a string predicate would be evaluated in the page, which its CSP (no 'unsafe-eval') refuses.
    await expect.poll(() => ada.locator("textarea[name=denyHosts]").inputValue()).not.toBe("");
    expect(await ada.getByLabel("Always refused hosts").inputValue()).toBe("evil.example\n*.tracker.example");

    // A member's caps save on the billing screen.
    await ada.getByRole("button", { name: "Billing & usage" }).click();
    const row = ada.locator("tr[data-user=ben-low]");
    await row.locator("input[name=agentRunsPerPeriod]").fill("5");
    await row.getByRole("button", { name: "Save" }).click();
    await row.locator(".saved", { hasText: "saved" }).waitFor();

    // The audit log lists what was done, and its chain verifies.
    await ada.getByRole("button", { name: "Audit log" }).click();
    await ada.locator("[data-testid=audit-verification]", { hasText: "verified:" }).waitFor();
    const entries = ada.locator("[data-testid=audit-entries]");
    for (const action of ["member.added", "agent.created", "egress.settings_changed", "member.limits_changed"]) {
      await entries.locator("td", { hasText: action }).first().waitFor();
    }
    await ada.getByLabel("Action").selectOption("egress.settings_changed");
    await expect.poll(() => ada.locator("[data-testid=audit-entries] tr").count()).toBe(1);

    // At 375 px every admin screen fits: nothing wider than the window.
    await ada.setViewportSize({ width: 375, height: 800 });
    for (const screen of ["Agents", "Egress", "Audit log"]) {
      await ada.getByRole("button", { name: screen }).click();
      const wide = Number(await ada.evaluate("document.documentElement.scrollWidth"));
      expect(wide, `${screen} at 375 px`).toBeLessThanOrEqual(375);
    }
    await ada.screenshot({ path: join(tmpdir(), "parlor-admin.png"), fullPage: true });
  });
});
