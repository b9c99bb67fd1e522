/**
 * Accessibility of the web client's main screens: axe-core's WCAG 2.0 and 2.1 A and AA rules find nothing on
 * sign-in, a chat with messages and an approval card, and every admin screen; the keyboard alone reaches the main
 * controls in a sensible order; and at 375 px wide no screen scrolls sideways.
 */
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { expect, it } from "vitest";
import { browserHarness, screenshotPath, seedChat } from "./browser-harness";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

// The page's CSP (script-src 'self', no 'unsafe-eval') rightly refuses a script injected inline and the string
// expressions below; bypassing it in the test's own browser context is the only way to run axe in the page. It does
// not change what the page renders, which is what axe checks; the CSP itself is tested in browser-reading.
const { describeWithBrowser, parlor, browser, signIn } = browserHarness("a11y", {
  signIn: { context: { bypassCSP: true, viewport: { width: 1280, height: 900 } } },
});

type Violation = { rule: string; impact: string | null; help: string; nodes: string[] };

/** Runs axe on the page as it is now and answers its WCAG A/AA violations, each with the first few elements. */
async function violations(page: Page): Promise<Violation[]> {
  if (!(await page.evaluate("typeof window.axe !== 'undefined'"))) await page.addScriptTag({ path: AXE });
  // A string, not a function: this project's Node types have no DOM.
  return (await page.evaluate(`axe
    .run(document, { runOnly: { type: "tag", values: ${JSON.stringify(WCAG_AA)} }, resultTypes: ["violations"] })
    .then((r) => r.violations.map((v) => ({
      rule: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ") + ": " + n.failureSummary),
    })))`)) as Violation[];
}

async function expectAccessible(page: Page, screen: string): Promise<void> {
  // Soft: one run reports every screen's violations, not only the first screen's.
  expect.soft(await violations(page), `axe on ${screen}`).toEqual([]);
}

/** How wide the page scrolls: never past the window's 375 px. */
const scrollWidth = (page: Page) => page.evaluate("document.scrollingElement.scrollWidth") as Promise<number>;

/** Over REST: an org of Ally's with Bo in it, a chat with both, an agent whose POSTs wait for approval, a secret. */
async function seed(): Promise<void> {
  const base = parlor().baseUrl;
  const { api, orgId, chatId } = await seedChat(base, {
    owner: { userId: "ally", name: "Ally" },
    member: { userId: "bo", name: "Bo" },
    org: "Atelier",
    chat: "studio",
  });
  const agent = await api.orgs[":orgId"].agents.$post({
    param: { orgId },
    json: {
      name: "Payer",
      handle: "payer",
      tools: {
        http: {
          allow: [{ baseUrl: `${base}/api/dev/echo`, methods: ["POST"] }],
          approval: { approvers: "members", quorum: 1, timeoutSeconds: 600 },
        },
      },
    },
  });
  expect(agent.status).toBe(201);
  const { id: agentId } = await agent.json();
  expect((await api.chats[":chatId"].agents.$post({ param: { chatId }, json: { agentId } })).ok).toBe(true);
  const secret = await api.orgs[":orgId"].secrets.$post({
    param: { orgId },
    json: { name: "PAYMENTS_TOKEN", value: "s3cret-value", grants: { chats: "all" } },
  });
  expect(secret.status).toBe(201);
}

/** The chat open, with a Markdown message and a pending approval card in it. */
async function openChatWithCard(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Atelier" }).click();
  await page.getByRole("button", { name: "# studio" }).click();
  await page.locator(".status.online").waitFor();
  if ((await page.locator("[data-testid=approval]").count()) > 0) return;
  await page.fill("[name=message]", "Plan for **today**:\n\n- sketch\n- [notes](https://example.com/notes)");
  await page.press("[name=message]", "Enter");
  await page.fill("[name=message]", `@payer POST ${parlor().baseUrl}/api/dev/echo/invoices {"amount":5}`);
  await page.press("[name=message]", "Enter");
  await page.locator("[data-testid=approval]").waitFor({ timeout: 30_000 });
}

/** Each screen: the control that opens it from the sidebar (or the chat), and what shows once it has loaded. */
const SCREENS: { name: string; open: (page: Page) => Promise<void>; ready: string }[] = [
  { name: "chat", open: openChatWithCard, ready: "[data-testid=approval]" },
  {
    name: "members",
    open: (p) => p.getByRole("button", { name: "Manage members" }).click(),
    ready: "[data-testid=members-admin] li[data-user=bo]",
  },
  {
    name: "secrets",
    open: (p) => p.getByRole("button", { name: "Secrets" }).click(),
    ready: "[data-testid=secrets-admin] li[data-secret=PAYMENTS_TOKEN]",
  },
  {
    name: "agents",
    open: (p) => p.getByRole("button", { name: "Agents" }).click(),
    ready: "[data-testid=agents-admin] li[data-agent=payer]",
  },
  {
    name: "billing",
    open: (p) => p.getByRole("button", { name: "Billing & usage" }).click(),
    ready: "[data-testid=caps] tr[data-user=bo]",
  },
  {
    name: "audit",
    open: (p) => p.getByRole("button", { name: "Audit log" }).click(),
    ready: "[data-testid=audit-verification] >> text=verified:",
  },
  {
    name: "egress",
    open: (p) => p.getByRole("button", { name: "Egress" }).click(),
    ready: "[data-testid=egress-admin] fieldset:not([disabled])",
  },
  {
    name: "backups",
    open: async (p) => {
      await p.getByRole("button", { name: "# studio" }).click();
      await p.getByRole("button", { name: "Backups" }).click();
    },
    ready: "[data-testid=no-backups], [data-testid=backup-messages]",
  },
  {
    name: "marketplace",
    open: (p) => p.getByRole("button", { name: "Marketplace" }).click(),
    ready: "[data-testid=marketplace] h2",
  },
];

/** What the focused element is, in words a test can compare: its name attribute, label or text. */
const focused = (page: Page) =>
  page.evaluate(`(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return "";
    return el.getAttribute("name") || el.getAttribute("aria-label") || (el.textContent || "").trim();
  })()`) as Promise<string>;

/** Presses Tab up to `limit` times, or until `until` is focused, and answers what each press focused. */
async function tabWalk(page: Page, limit: number, until?: string): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    seen.push(await focused(page));
    if (seen.at(-1) === until) break;
  }
  return seen;
}

describeWithBrowser("accessibility of the web client", () => {
  it("sign-in has no WCAG A/AA violations, and Tab walks its fields in order to the button", async () => {
    const page = await (await browser().newContext({ bypassCSP: true })).newPage();
    await page.goto(parlor().baseUrl);
    await page.locator("input[name=userId]").waitFor();
    await expectAccessible(page, "sign-in");
    const walk = await tabWalk(page, 3);
    expect(walk).toEqual(["userId", "name", "Sign in"]);
    await page.setViewportSize({ width: 375, height: 700 });
    expect(await scrollWidth(page)).toBeLessThanOrEqual(375);
  });

  it("every main screen has no WCAG A/AA violations, and none scrolls sideways at 375 px", async () => {
    await seed();
    const ally = await signIn("ally", "Ally");
    for (const screen of SCREENS) {
      await screen.open(ally);
      await ally.locator(screen.ready).first().waitFor({ timeout: 30_000 });
      await ally.screenshot({ path: screenshotPath(`screen-${screen.name}.png`) });
      await expectAccessible(ally, screen.name);
    }
    await ally.setViewportSize({ width: 375, height: 800 });
    for (const screen of SCREENS) {
      await screen.open(ally);
      await ally.locator(screen.ready).first().waitFor({ timeout: 30_000 });
      expect.soft(await scrollWidth(ally), `${screen.name} at 375 px`).toBeLessThanOrEqual(375);
      await ally.screenshot({ path: join(tmpdir(), `parlor-a11y-${screen.name}-375.png`) });
      await expectAccessible(ally, `${screen.name} at 375 px`);
    }
  });

  it("the keyboard alone opens a chat, writes in it, approves its card and reaches the admin screens", async () => {
    const ally = await signIn("ally", "Ally");
    // From the top of the page, once the org list is in: the sidebar's controls come first, in reading order.
    await ally.getByRole("button", { name: "Atelier" }).waitFor();
    const sidebar = await tabWalk(ally, 6);
    expect(sidebar.slice(0, 2)).toEqual(["sign out", "Atelier"]);
    expect(sidebar).toContain("orgName");

    await ally.getByRole("button", { name: "Atelier" }).focus();
    await ally.keyboard.press("Enter");
    const chatButton = ally.getByRole("button", { name: "# studio" });
    await chatButton.focus();
    await ally.keyboard.press("Enter");
    await ally.locator(".status.online").waitFor();
    await openChatWithCard(ally);

    // On from the chat's button: the chat's own controls follow the sidebar's, the card's Approve among them.
    await chatButton.focus();
    const walk = await tabWalk(ally, 200, "message");
    for (const control of ["chatTitle", "Manage members", "Agents", "Secrets", "Marketplace", "Approve", "message"]) {
      expect(walk, `Tab reaches ${control}: ${walk.join(" | ")}`).toContain(control);
    }
    expect(walk.indexOf("Marketplace")).toBeLessThan(walk.indexOf("message"));

    await ally.locator("[name=message]").focus();
    await ally.keyboard.type("typed with the keyboard alone");
    await ally.keyboard.press("Enter");
    await ally
      .locator("[data-testid=messages] li:not(.pending)", { hasText: "typed with the keyboard alone" })
      .waitFor();

    await ally.locator("[data-testid=approval] button", { hasText: "Approve" }).first().focus();
    await ally.keyboard.press("Enter");
    await ally.locator("[data-testid=approval] .decision-approved").first().waitFor();

    await ally.getByRole("button", { name: "Secrets" }).focus();
    await ally.keyboard.press("Enter");
    await ally.locator("[data-testid=secrets-admin] li[data-secret=PAYMENTS_TOKEN]").waitFor();
  });
});
