/**
 * Reading in the web client: unread counts in the sidebar move as others write and clear on reading; a message with
 * a hostile Markdown payload renders inert (no script runs, no dialog opens, no stranger's URL is fetched); and the
 * page is served with a strict Content-Security-Policy. Screenshots go to `PARLOR_SCREENSHOTS_DIR` (`npm run
 * screenshots` points it at docs/screenshots/), else to the ignored `test-screenshots/`.
 */
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { browserHarness } from "./browser-harness";

const screenshots = resolve(process.env.PARLOR_SCREENSHOTS_DIR ?? "test-screenshots");
/** A stranger's server: a message names its pixel; reading the message must never reach it. */
let stranger: Server;
const strangerHits: string[] = [];
const dialogs: string[] = [];

const { describeWithBrowser, parlor, signIn } = browserHarness("reading", {
  // Chat lists learn a room's head in batches: small, so the test waits little (start.ts passes PARLOR_* on).
  env: { PARLOR_ACTIVITY_BATCH_MS: "300" },
  signIn: {
    context: { viewport: { width: 1200, height: 800 } },
    onDialog: (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    },
  },
});

describeWithBrowser("reading in the web client", () => {
  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    stranger = createServer((request, response) => {
      strangerHits.push(request.url ?? "");
      response.writeHead(200, { "Content-Type": "image/png" }).end();
    });
    await new Promise<void>((r) => stranger.listen(0, "127.0.0.1", r));
  });

  afterAll(async () => {
    await new Promise((r) => stranger?.close(r));
  });

  /** Sends a message and waits until it is stored (`shown`: its text as rendered, when Markdown changes it). */
  async function say(page: Page, text: string, shown = text): Promise<void> {
    await page.fill("[name=message]", text);
    await page.press("[name=message]", "Enter");
    await page.locator("[data-testid=messages] li:not(.pending)", { hasText: shown }).first().waitFor();
  }

  const chatItem = (page: Page, title: string) => page.locator("[data-testid=chat-item]", { hasText: `# ${title}` });

  it("the page and its assets carry a strict Content-Security-Policy", async () => {
    const page = await fetch(parlor().baseUrl);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("img-src 'self' data:");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    const html = await page.text();
    const script = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${parlor().baseUrl}${script}`);
    expect(asset.headers.get("content-security-policy")).toBe(csp);
  });

  it("unread counts move as others write and clear on reading", async () => {
    const alice = await signIn("alice", "Alice");
    await alice.fill("input[name=orgName]", "Reading");
    await alice.press("input[name=orgName]", "Enter");
    await alice.fill("input[name=orgMember]", "bob");
    await alice.press("input[name=orgMember]", "Enter");
    await alice.waitForSelector("aside >> text=bob");
    for (const title of ["general", "random"]) {
      await alice.fill("input[name=chatTitle]", title);
      await alice.press("input[name=chatTitle]", "Enter");
      await alice.waitForSelector(`h2 >> text=# ${title}`);
      await alice.waitForSelector("text=live");
      await alice.fill("input[name=chatMember]", "bob");
      await alice.press("input[name=chatMember]", "Enter");
    }

    const bob = await signIn("bob", "Bob");
    await bob.click("text=Reading");
    await bob.click("text=# general");
    await bob.waitForSelector("text=live");
    expect(await chatItem(bob, "random").locator("[data-testid=unread]").count()).toBe(0);

    // Alice writes in "random" while Bob reads "general": his sidebar counts them.
    await say(alice, "first news");
    await say(alice, "**second** news", "second news");
    await chatItem(bob, "random").locator("[data-testid=unread]", { hasText: "2" }).waitFor({ timeout: 20_000 });
    // Her own messages never count for her.
    expect(await chatItem(alice, "random").locator("[data-testid=unread]").count()).toBe(0);
    await bob.screenshot({ path: join(screenshots, "unread.png") });

    // Bob opens "random": it is read at once, and stays read after the list's next refresh.
    await chatItem(bob, "random").locator("button.link").click();
    await bob.locator("[data-testid=messages] li", { hasText: "second news" }).waitFor();
    expect(await bob.locator("[data-testid=messages] strong", { hasText: "second" }).count()).toBe(1);
    await chatItem(bob, "random").locator("[data-testid=unread]").waitFor({ state: "detached" });
    await bob.reload();
    await bob.click("text=Reading");
    await chatItem(bob, "random").waitFor();
    await bob.waitForTimeout(500);
    expect(await chatItem(bob, "random").locator("[data-testid=unread]").count()).toBe(0);
  });

  it("a hostile Markdown message renders inert and fetches nothing", async () => {
    const pixel = `http://127.0.0.1:${(stranger.address() as AddressInfo).port}/pixel.png`;
    const alice = await signIn("alice", "Alice");
    await alice.click("text=Reading");
    await alice.click("text=# general");
    await alice.waitForSelector("text=live");
    const bob = await signIn("bob", "Bob");
    const violations: string[] = [];
    bob.on("console", (m) => m.text().includes("Content Security Policy") && violations.push(m.text()));
    await bob.click("text=Reading");
    await bob.click("text=# general");
    await bob.waitForSelector("text=live");

    const payload = [
      "hostile <img src=x onerror=alert(1)> here",
      "<script>alert(2)</script>",
      "[click me](javascript:alert(3))",
      `![tracker](${pixel})`,
      "[docs](https://example.com/docs) and `code`",
    ].join("\n\n");
    await alice.fill("[name=message]", payload);
    await alice.press("[name=message]", "Enter");
    const message = bob.locator("[data-testid=messages] li", { hasText: "hostile" });
    await message.waitFor();
    await bob.waitForTimeout(1000);

    const text = message.locator(".text");
    // Raw HTML is shown as the text it is; nothing of it became an element.
    expect(await text.textContent()).toContain("<img src=x onerror=alert(1)>");
    expect(await message.locator("img, script, iframe, [onerror]").count()).toBe(0);
    // The javascript: link lost its href; the image is a link to it, never loaded; links open safely.
    expect(await message.locator("a[href^='javascript']").count()).toBe(0);
    const tracker = message.locator("a.image-link");
    expect(await tracker.getAttribute("href")).toBe(pixel);
    for (const link of await message.locator("a[href]").all()) {
      expect(await link.getAttribute("target")).toBe("_blank");
      expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
    }
    expect(await message.locator("a[href='https://example.com/docs']").count()).toBe(1);
    expect(dialogs).toEqual([]);
    expect(strangerHits).toEqual([]);
    await bob.screenshot({ path: join(screenshots, "markdown.png") });

    // Even markup that got past the sanitiser could not load the pixel: the CSP refuses it.
    await bob.evaluate(
      `(() => { const img = document.createElement("img"); img.src = ${JSON.stringify(`${pixel}?csp`)}; document.body.append(img); })()`,
    );
    await bob.waitForTimeout(500);
    expect(strangerHits).toEqual([]);
    expect(violations.length).toBeGreaterThan(0);
  });
});
