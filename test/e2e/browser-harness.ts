/**
 * What every browser test file shares: Parlor started as `npm start` runs it, Debian's Chromium, and signing in to
 * the web client through development sign-in. One harness per file:
 *
 *   const { describeWithBrowser, parlor, signIn } = browserHarness("edits");
 *   describeWithBrowser("editing in the web client", () => {
 *     it("…", async () => {
 *       const alice = await signIn("alice", "Alice");
 *     });
 *   });
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Browser, type BrowserContextOptions, chromium, type Dialog, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { parlorClient } from "../../api/client";
import { type RunningParlor, startParlor } from "../../scripts/parlor-process";

export const CHROMIUM = "/usr/bin/chromium";

/**
 * Where a test saves a screenshot named `file`: `PARLOR_SCREENSHOTS_DIR` (`npm run screenshots` points it at
 * docs/screenshots/), else the ignored test-screenshots/.
 */
export function screenshotPath(file: string): string {
  const folder = resolve(process.env.PARLOR_SCREENSHOTS_DIR ?? "test-screenshots");
  mkdirSync(folder, { recursive: true });
  return join(folder, file);
}

export type SignInOptions = {
  /** Where the page opens: another origin of the same server (its 127.0.0.1 form, say); the server's own by default. */
  origin?: string;
  /** Options of the page's browser context (a viewport, say). */
  context?: BrowserContextOptions;
  /** Called for every dialog the page opens (confirm, prompt, alert); without it Playwright dismisses them. */
  onDialog?: (dialog: Dialog) => void;
};

export type BrowserHarnessOptions = {
  /** Variables for this file's server: `npm start` passes PARLOR_* ones on to the Worker. */
  env?: Record<string, string>;
  /** What every `signIn` of this file does unless the call says otherwise. */
  signIn?: SignInOptions;
};

export type BrowserHarness = {
  /** A `describe` that starts Parlor and Chromium before its tests and stops both after; skipped with no Chromium. */
  describeWithBrowser: (title: string, body: () => void) => void;
  /** The running Parlor (a new one after `startParlorAgain`). */
  parlor: () => RunningParlor;
  browser: () => Browser;
  /** Once a test has stopped Parlor (`parlor().kill(…)`), starts it again on the same port and data directory. */
  startParlorAgain: () => Promise<RunningParlor>;
  /** A new browser context's page, signed in through development sign-in and showing the org list. */
  signIn: (userId: string, name: string, options?: SignInOptions) => Promise<Page>;
};

// Debian's chromium is installed by .ci/run; without it (a bare laptop) a browser file says so and is skipped, unless
// PARLOR_REQUIRE_BROWSER=1 asks for it to fail instead.
const hasBrowser = existsSync(CHROMIUM);

/** `name` names this file's data directory (parlor-browser-NAME-…), so a leftover one says whose it is. */
export function browserHarness(name: string, options: BrowserHarnessOptions = {}): BrowserHarness {
  if (!hasBrowser && process.env.PARLOR_REQUIRE_BROWSER === "1") {
    throw new Error(`PARLOR_REQUIRE_BROWSER=1 but there is no browser at ${CHROMIUM} (apt-get install -y chromium)`);
  }
  const databaseUrl = process.env.PARLOR_TEST_DATABASE_URL as string;
  const env = options.env ?? {};
  let dataDir: string | undefined;
  let running: RunningParlor | undefined;
  let launched: Browser | undefined;

  const parlor = () => {
    if (!running) throw new Error("Parlor is not running: call parlor() inside describeWithBrowser's tests");
    return running;
  };
  const browser = () => {
    if (!launched) throw new Error("Chromium is not running: call browser() inside describeWithBrowser's tests");
    return launched;
  };

  function describeWithBrowser(title: string, body: () => void): void {
    describe.skipIf(!hasBrowser)(title, () => {
      beforeAll(async () => {
        dataDir = mkdtempSync(join(tmpdir(), `parlor-browser-${name}-`));
        running = await startParlor(dataDir, databaseUrl, undefined, env);
        launched = await chromium.launch({
          executablePath: CHROMIUM,
          args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        });
      });

      afterAll(async () => {
        await launched?.close();
        await running?.kill("SIGTERM");
        if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      });

      body();
    });
  }

  async function startParlorAgain(): Promise<RunningParlor> {
    running = await startParlor(dataDir as string, databaseUrl, parlor().port, env);
    return running;
  }

  async function signIn(userId: string, name: string, callOptions: SignInOptions = {}): Promise<Page> {
    const { origin, context, onDialog } = { ...options.signIn, ...callOptions };
    const page = await (await browser().newContext(context)).newPage();
    if (onDialog) page.on("dialog", onDialog);
    await page.goto(origin ?? parlor().baseUrl);
    await page.fill("input[name=userId]", userId);
    await page.fill("input[name=name]", name);
    await page.click("button[type=submit]");
    await page.waitForSelector("text=Orgs");
    return page;
  }

  return { describeWithBrowser, parlor, browser, startParlorAgain, signIn };
}

export type SeedChatOptions = {
  /** The development user who creates the org and the chat, and whose typed client is answered. */
  owner: { userId: string; name: string };
  /** Added to both as a member. With a name, their development user is made first, so the org knows them by it. */
  member: { userId: string; name?: string };
  org: string;
  chat: string;
};

/** Over REST, with the typed client: an org of `owner`'s with `member` in it, and a chat of the org's with both. */
export async function seedChat(baseUrl: string, { owner, member, org, chat }: SeedChatOptions) {
  const { token } = await (await parlorClient(baseUrl).api.dev.token.$post({ json: owner })).json();
  const api = parlorClient(baseUrl, { headers: { Authorization: `Bearer ${token}` } }).api;
  if (member.name !== undefined) {
    await parlorClient(baseUrl).api.dev.token.$post({ json: { userId: member.userId, name: member.name } });
  }
  const { id: orgId } = await (await api.orgs.$post({ json: { name: org } })).json();
  expect(
    (await api.orgs[":orgId"].members.$post({ param: { orgId }, json: { userId: member.userId, role: "member" } })).ok,
  ).toBe(true);
  const { id: chatId } = await (
    await api.orgs[":orgId"].chats.$post({ param: { orgId }, json: { title: chat } })
  ).json();
  expect((await api.chats[":chatId"].members.$post({ param: { chatId }, json: { userId: member.userId } })).ok).toBe(
    true,
  );
  return { api, orgId, chatId };
}
