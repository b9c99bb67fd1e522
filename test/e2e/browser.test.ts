import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page, WebSocketRoute } from "playwright-core";
import { expect, it } from "vitest";
import { parlorClient } from "../../api/client";
import { browserHarness } from "./browser-harness";

const { describeWithBrowser, parlor, browser, startParlorAgain, signIn } = browserHarness("web-client");

describeWithBrowser("the web client in two browser windows", () => {
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

    await alice.fill("[name=message]", "hello bob");
    await bob.locator("[data-testid=typing]", { hasText: "Alice typing" }).waitFor();
    await alice.press("[name=message]", "Enter");
    await bob.waitForSelector("[data-testid=messages] >> text=hello bob");
    await bob.fill("[name=message]", "hi alice");
    await bob.press("[name=message]", "Enter");
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
    await alice.fill("[name=message]", "before the drop");
    await alice.press("[name=message]", "Enter");
    await bob.waitForSelector("[data-testid=messages] >> text=before the drop");

    await parlor().kill("SIGTERM");
    await bob.waitForSelector("text=reconnecting");
    await bob.fill("[name=message]", "sent while offline");
    await bob.press("[name=message]", "Enter");
    await bob.locator(".pending", { hasText: "sent while offline" }).waitFor();
    await startParlorAgain();

    await alice.waitForSelector("[data-testid=messages] >> text=sent while offline", { timeout: 30_000 });
    await bob.waitForSelector("[data-testid=messages] li:not(.pending) >> text=sent while offline", {
      timeout: 30_000,
    });
    await alice.fill("[name=message]", "after the drop");
    await alice.press("[name=message]", "Enter");
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
    // Long enough (40 words, 50 ms each) that a loaded machine still catches it mid-stream.
    const ask = `@assistant summarise the launch plan in one line please ${"and keep it short ".repeat(9).trim()}`;
    await carol.fill("[name=message]", ask);
    await carol.press("[name=message]", "Enter");
    // Mid-stream, part of the reply is on screen before the whole of it is stored.
    const streaming = carol.locator("[data-testid=streaming] .text", { hasText: "You said:" });
    await streaming.waitFor();
    const partial = await streaming.textContent();
    await carol.locator("[data-testid=messages] li.author-agent").waitFor({ timeout: 20_000 });
    const reply = await carol.locator("[data-testid=messages] li.author-agent .text").textContent();
    expect(reply).toBe(`You said: "${ask}"`);
    expect(reply?.startsWith(partial ?? "?")).toBe(true);
    expect(partial?.length).toBeLessThan(reply?.length ?? 0);
    expect(await carol.locator("[data-testid=streaming]").count()).toBe(0);
    await carol.screenshot({ path: join(tmpdir(), "parlor-agent.png") });
  });

  it("the assistant asks before a POST; the member approves in the web client and sees the result", async () => {
    const dana = await chatWithAssistant("dana", "Dana", "Approvals", "ops");
    await dana.fill("[name=message]", `@assistant POST ${parlor().baseUrl}/api/dev/echo/tickets {"title":"ship it"}`);
    await dana.press("[name=message]", "Enter");
    const card = dana.locator("[data-testid=approval]");
    await card.waitFor();
    expect(await card.textContent()).toContain(`POST${parlor().baseUrl}/api/dev/echo/tickets`.replace("POST", "POST "));
    await dana.locator("[data-testid=tool]", { hasText: "waiting approval" }).waitFor();
    // The live-progress document (Yjs) shows the same state.
    await dana.locator("[data-testid=progress]", { hasText: "waiting for approval" }).waitFor();
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

  it("a member stops the assistant mid-reply, keeps what it wrote, and retries it", async () => {
    const erin = await chatWithAssistant("erin", "Erin", "Stops", "long");
    const words = Array.from({ length: 80 }, (_, i) => `word${i}`).join(" ");
    await erin.fill("[name=message]", `@assistant ${words}`);
    await erin.press("[name=message]", "Enter");
    await erin.locator("[data-testid=streaming] .text", { hasText: "You said:" }).waitFor();
    await erin.locator("[data-testid=stop]").click();
    const stopped = erin.locator("[data-testid=messages] li.author-agent", { hasText: "(stopped)" });
    await stopped.waitFor();
    const kept = ((await stopped.locator(".text").textContent()) ?? "").replace(/ \(stopped\)$/, "");
    const whole = `You said: "@assistant ${words}"`;
    expect(kept.length).toBeGreaterThan(0);
    expect(whole.startsWith(kept), `${JSON.stringify(kept)} is how the reply begins`).toBe(true);
    expect(kept.length).toBeLessThan(whole.length);
    expect(await erin.locator("[data-testid=streaming]").count()).toBe(0);
    await stopped.locator("[data-testid=retry]").click();
    // The retry answers the same message again, in full this time.
    const full = erin.locator("[data-testid=messages] li.author-agent .text", { hasText: `${words.slice(-6)}"` });
    await full.waitFor({ timeout: 20_000 });
  });

  /** An org with one chat made over REST by `userId`, and a way to post many messages to it quickly. */
  async function chatOverRest(userId: string, name: string, orgName: string, title: string) {
    const answer = await parlorClient(parlor().baseUrl).api.dev.token.$post({ json: { userId, name } });
    const { token } = await answer.json();
    const api = parlorClient(parlor().baseUrl, { headers: { Authorization: `Bearer ${token}` } }).api;
    const org = await (await api.orgs.$post({ json: { name: orgName } })).json();
    const chat = await (await api.orgs[":orgId"].chats.$post({ param: { orgId: org.id }, json: { title } })).json();
    /** Posts one message, retrying a 503 (a dev server reloading): a retry's clientMessageId is stored once. */
    async function postOne(text: string, clientMessageId: string): Promise<void> {
      for (let attempt = 1; ; attempt++) {
        const response = await api.chats[":chatId"].messages.$post({
          param: { chatId: chat.id },
          json: { text, clientMessageId },
        });
        // The typed answer lists the route's own statuses; a 503 comes from the dev server around it.
        const status: number = response.status;
        if (status === 503 && attempt < 5) {
          await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
          continue;
        }
        expect([200, 201]).toContain(status);
        return;
      }
    }
    /** Posts `count` messages, `batch` at a time in parallel (so their seqs, not their texts, are in order). */
    async function post(count: number, prefix: string, batch = 50): Promise<string[]> {
      const texts = Array.from({ length: count }, (_, i) => `${prefix} ${i + 1}`);
      for (let start = 0; start < count; start += batch) {
        await Promise.all(
          texts.slice(start, start + batch).map((text, i) => postOne(text, `${prefix}-${start + i + 1}`)),
        );
      }
      return texts;
    }
    return { post };
  }

  const seqsShown = (page: Page) =>
    page.$$eval("[data-testid=messages] li[data-seq]", (els) => els.map((e) => Number(e.getAttribute("data-seq"))));
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it("a long chat opens on its newest page; scrolling to the top and the control page back to message 1", async () => {
    const { post } = await chatOverRest("erin", "Erin", "Archive", "history");
    const posted = await post(250, "old");
    const erin = await signIn("erin", "Erin");
    await erin.click("text=Archive");
    await erin.click("text=# history");
    await erin.waitForSelector('[data-testid=messages] li[data-seq="250"]');
    expect(await seqsShown(erin)).toEqual(range(151, 250));
    await erin.locator("[data-testid=load-earlier]").waitFor();

    // Scrolled to the top, the page below is fetched and prepended, and the message in view stays where it was.
    const place = await erin.$eval(".scroller", (scroller) => {
      scroller.scrollTop = 0;
      return scroller.querySelector('li[data-seq="151"]')?.getBoundingClientRect().top;
    });
    await erin.waitForSelector('[data-testid=messages] li[data-seq="51"]');
    expect(await seqsShown(erin)).toEqual(range(51, 250));
    const placeAfter = await erin.$eval('li[data-seq="151"]', (li) => li.getBoundingClientRect().top);
    expect(Math.abs(placeAfter - (place ?? Number.NaN))).toBeLessThan(2);

    // The control fetches the rest; with message 1 held it is gone.
    await erin.click("[data-testid=load-earlier]");
    await erin.waitForSelector('[data-testid=messages] li[data-seq="1"]');
    expect(await seqsShown(erin)).toEqual(range(1, 250));
    expect(await erin.locator("[data-testid=load-earlier]").count()).toBe(0);
    const texts = await erin.$$eval("[data-testid=messages] li .text", (els) => els.map((e) => e.textContent));
    expect(texts.toSorted()).toEqual(posted.toSorted());
  });

  it("a client offline while 1,100 messages arrive resumes past the socket's 1,000 over REST, with no gap", async () => {
    const { post } = await chatOverRest("fay", "Fay", "Backlog", "busy");
    await post(5, "before");
    const fay = await signIn("fay", "Fay");
    let reconnected = () => {};
    const reconnect = new Promise<void>((resolve) => (reconnected = resolve));
    const { whileOffline } = await cuttableSockets(fay, (ws) => {
      if (ws.url().includes("after=")) reconnected();
    });
    const pages: string[] = [];
    fay.on("request", (request) => {
      if (/\/messages\?after=/.test(request.url())) pages.push(new URL(request.url()).search);
    });
    await fay.click("text=Backlog");
    await fay.click("text=# busy");
    await fay.waitForSelector('[data-testid=messages] li[data-seq="5"]');

    await whileOffline(() => post(1100, "away"));
    // Messages sent live while the client catches up are held and merged by seq.
    await reconnect;
    await post(20, "live", 2);
    const last = 5 + 1100 + 20;
    await fay.waitForSelector(`[data-testid=messages] li[data-seq="${last}"]`, { timeout: 60_000 });
    await fay.locator("[data-testid=catching-up]").waitFor({ state: "detached" });
    expect(await seqsShown(fay)).toEqual(range(1, last));
    // The socket brought 6..1005 and said hasMore; the client asked REST for the rest from there.
    expect(pages[0]).toBe("?after=1005&limit=500");
    await fay.screenshot({ path: join(tmpdir(), "parlor-catch-up.png") });
    // 1,100 REST posts, each on a new Postgres connection in development: past two minutes on a busy machine.
  }, 300_000);

  it("catching up past the socket, the client asks for its REST pages at once and shows every message once, in order", async () => {
    const { post } = await chatOverRest("gus", "Gus", "Pages", "many");
    await post(5, "before");
    const gus = await signIn("gus", "Gus");
    // The reconnect's catch-up is cut at seq 105 on its way to the page, so the client has 600 messages to page:
    // two pages, which it asks for together.
    const { whileOffline } = await cuttableSockets(gus, (ws, server) => {
      if (!ws.url().includes("after=")) return;
      server.onMessage((frame) => {
        const event = JSON.parse(String(frame)) as { type: string; seq?: number };
        if (event.type === "message" && (event.seq ?? 0) > 105) return;
        ws.send(frame);
      });
    });
    const pageEvents: string[] = [];
    gus.on("request", (request) => {
      if (/\/messages\?after=/.test(request.url())) pageEvents.push(`asked ${new URL(request.url()).search}`);
    });
    gus.on("requestfinished", (request) => {
      if (/\/messages\?after=/.test(request.url())) pageEvents.push(`answered ${new URL(request.url()).search}`);
    });
    await gus.click("text=Pages");
    await gus.click("text=# many");
    await gus.waitForSelector('[data-testid=messages] li[data-seq="5"]');

    await whileOffline(() => post(700, "away"));

    await gus.waitForSelector('[data-testid=messages] li[data-seq="705"]', { timeout: 60_000 });
    await gus.locator("[data-testid=catching-up]").waitFor({ state: "detached" });
    expect(await seqsShown(gus)).toEqual(range(1, 705));
    // Both pages were asked for before the first was answered.
    const asked = (after: number) => pageEvents.indexOf(`asked ?after=${after}&limit=500`);
    expect(asked(105)).toBeGreaterThanOrEqual(0);
    expect(asked(605)).toBeGreaterThanOrEqual(0);
    expect(asked(605)).toBeLessThan(pageEvents.indexOf("answered ?after=105&limit=500"));
  }, 300_000);

  /**
   * Routes the page's chat sockets through the test: `whileOffline(work)` closes them, refuses new ones and takes the
   * page offline while `work` runs, then lets it reconnect. `onSocket` sees each socket let through, with its server
   * side (a handler set on that stops the frames being passed on by themselves).
   */
  async function cuttableSockets(page: Page, onSocket: (ws: WebSocketRoute, server: WebSocketRoute) => void) {
    let offline = false;
    const sockets = new Set<WebSocketRoute>();
    await page.routeWebSocket(/\/api\/chats\/[^/]+\/ws\?/, (ws) => {
      if (offline) return ws.close();
      const server = ws.connectToServer();
      sockets.add(ws);
      onSocket(ws, server);
    });
    return {
      async whileOffline(work: () => Promise<unknown>): Promise<void> {
        offline = true;
        await page.context().setOffline(true);
        for (const ws of sockets) await ws.close();
        sockets.clear();
        await page.waitForSelector("text=reconnecting");
        await work();
        offline = false;
        await page.context().setOffline(false);
      },
    };
  }

  /** A chat over REST owned by `owner`, with `member` added to its org and to it. */
  async function sharedChat(owner: string, member: string, orgName: string, title: string) {
    const answer = await parlorClient(parlor().baseUrl).api.dev.token.$post({ json: { userId: owner } });
    const { token } = await answer.json();
    const api = parlorClient(parlor().baseUrl, { headers: { Authorization: `Bearer ${token}` } }).api;
    const org = await (await api.orgs.$post({ json: { name: orgName } })).json();
    const orgId = org.id;
    const added = await api.orgs[":orgId"].members.$post({
      param: { orgId },
      json: { userId: member, role: "member" },
    });
    expect(added.ok).toBe(true);
    const chat = await (await api.orgs[":orgId"].chats.$post({ param: { orgId }, json: { title } })).json();
    expect(
      (await api.chats[":chatId"].members.$post({ param: { chatId: chat.id }, json: { userId: member } })).ok,
    ).toBe(true);
    return { api, chatId: chat.id };
  }

  /**
   * Opens `userId`'s page with the chat's sockets going through a route the test can cut, and notes the time of every
   * socket the page opens to the chat (each goes through the route, cut or not) and of every probe of its members.
   */
  async function routedPage(userId: string, name: string) {
    const page = await signIn(userId, name);
    const cut = { offline: false };
    const routes = new Set<WebSocketRoute>();
    const sockets: number[] = [];
    await page.routeWebSocket(/\/api\/chats\/[^/]+\/ws\?/, (ws) => {
      sockets.push(Date.now());
      if (cut.offline) return ws.close();
      ws.connectToServer();
      routes.add(ws);
    });
    const probes: number[] = [];
    /** The statuses of probes that were refused. */
    const refusals: number[] = [];
    page.on("response", (response) => {
      const probe = /\/api\/chats\/[^/]+\/members$/.test(response.url()) && response.request().method() === "GET";
      if (probe && !response.ok()) refusals.push(response.status());
    });
    const requests: string[] = [];
    page.on("request", (request) => {
      requests.push(request.url());
      if (/\/api\/chats\/[^/]+\/members$/.test(request.url()) && request.method() === "GET") probes.push(Date.now());
    });
    /** Cuts every socket open now, and refuses new ones until `cut.offline` is false again. */
    async function goOffline() {
      cut.offline = true;
      for (const ws of routes) await ws.close();
      routes.clear();
    }
    return { page, cut, goOffline, sockets, probes, refusals, requests };
  }

  it("a member removed while their socket was away stops reconnecting and says why", async () => {
    const { api, chatId } = await sharedChat("gil", "hal", "Removal", "kept-out");
    const { page: hal, cut, goOffline, sockets, probes, refusals } = await routedPage("hal", "Hal");
    await hal.click("text=Removal");
    await hal.click("text=# kept-out");
    await hal.waitForSelector("text=live");

    await goOffline();
    await hal.waitForSelector("text=reconnecting");
    const removed = await api.chats[":chatId"].members.$delete({ param: { chatId }, json: { userId: "hal" } });
    expect(removed.status).toBe(200);
    cut.offline = false;

    // The next connect is refused (the browser sees only 1006); the probe's 403 says why, and the client stops.
    await hal.locator("[data-testid=stopped]", { hasText: "you were removed from this chat" }).waitFor();
    expect(probes.length).toBeGreaterThan(0);
    expect(refusals).toEqual([403]);
    const tried = sockets.length;
    await hal.waitForTimeout(3000);
    expect(sockets.length).toBe(tried);
    expect(await hal.locator("text=reconnecting").count()).toBe(0);
    expect(await hal.locator("[name=message]").isDisabled()).toBe(true);
  });

  it("a socket refused for a signed-out token returns the tab to sign-in", async () => {
    await chatOverRest("ivy", "Ivy", "Expiry", "lapsed");
    const { page: ivy, goOffline, cut, refusals, requests } = await routedPage("ivy", "Ivy");
    await ivy.click("text=Expiry");
    await ivy.click("text=# lapsed");
    await ivy.waitForSelector("text=live");
    // The session token goes bad (as an expired one would) and the socket drops: the reconnect is refused with 401.
    await ivy.evaluate(() => sessionStorage.setItem("parlor.token", "not-a-valid-token"));
    await goOffline();
    cut.offline = false;
    await ivy.waitForSelector("input[name=userId]");
    expect(await ivy.evaluate(() => sessionStorage.getItem("parlor.token"))).toBeNull();
    expect(refusals).toContain(401);
    // With no publishable key, Clerk's code was never fetched, and nothing left this server.
    expect(requests.filter((url) => /clerk/i.test(url))).toEqual([]);
    expect(requests.filter((url) => !url.startsWith(parlor().baseUrl))).toEqual([]);
  });

  it("a transient failure retries with a doubling back-off and recovers", async () => {
    await chatOverRest("jo", "Jo", "Flaky", "wobbly");
    const { page: jo, cut, goOffline, sockets, probes } = await routedPage("jo", "Jo");
    await jo.click("text=Flaky");
    await jo.click("text=# wobbly");
    await jo.waitForSelector("text=live");

    const before = sockets.length;
    const dropped = Date.now();
    await goOffline();
    // Two refused connects, each probed (the chat answers 200, so it is transient), then the network comes back.
    await expect.poll(() => sockets.length - before, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    cut.offline = false;
    await expect.poll(() => sockets.length - before, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    await jo.waitForSelector("text=live");
    const [first, second, third] = sockets.slice(before) as [number, number, number];
    const gaps = [first - dropped, second - first, third - second];
    // 1 s, 2 s, 4 s (give or take the probe and the route's own latency).
    expect(gaps[0]).toBeGreaterThanOrEqual(900);
    expect(gaps[1]).toBeGreaterThanOrEqual(1800);
    expect(gaps[2]).toBeGreaterThanOrEqual(3600);
    expect(gaps[2]).toBeLessThan(6000);
    expect(probes.length).toBeGreaterThanOrEqual(2);
    // Recovered: a message sent now is stored and shown.
    await jo.fill("[name=message]", "back again");
    await jo.press("[name=message]", "Enter");
    await jo.waitForSelector("[data-testid=messages] li:not(.pending) >> text=back again");
  });

  it("an admin sees billing and usage, caps a member's agent runs (kept across a reload), and sees roles", async () => {
    const kim = await signIn("kim", "Kim");
    await kim.fill("input[name=orgName]", "Ledger");
    await kim.press("input[name=orgName]", "Enter");
    await kim.fill("input[name=orgMember]", "lee");
    await kim.press("input[name=orgMember]", "Enter");
    const members = kim.locator("[data-testid=members]");
    await members.locator("li[data-user=kim] .role-admin").waitFor();
    await members.locator("li[data-user=lee] .role-member").waitFor();

    const openBilling = async () => {
      await kim.getByRole("button", { name: "Billing & usage" }).click();
      await kim.locator("[data-testid=billing-status]", { hasText: "none" }).waitFor();
    };
    await openBilling();
    await kim.locator("[data-testid=billing]", { hasText: "development (unlimited)" }).waitFor();
    await kim.locator("[data-testid=usage] dd", { hasText: "0 of unlimited" }).first().waitFor();

    const lee = kim.locator("[data-testid=caps] tr[data-user=lee]");
    await lee.locator("input[name=agentRunsPerPeriod]").fill("0");
    await lee.getByRole("button", { name: "Save" }).click();
    await lee.locator(".saved", { hasText: "saved" }).waitFor();
    await lee.locator("td", { hasText: "0 of 0 runs" }).waitFor();

    await kim.reload();
    await kim.click("text=Ledger");
    await openBilling();
    await lee.locator("td", { hasText: "0 of 0 runs" }).waitFor();
    expect(await lee.locator("input[name=agentRunsPerPeriod]").inputValue()).toBe("0");
    expect(await lee.locator("input[name=tokensPerPeriod]").inputValue()).toBe("");
    expect(await kim.locator("[data-testid=caps] tr[data-user=kim]").textContent()).toContain("no caps");

    // An admin makes the member an admin on the members screen; the sidebar's list shows the new role.
    await kim.getByRole("button", { name: "Manage members" }).click();
    await kim.getByLabel("Role of lee").selectOption("admin");
    await members.locator("li[data-user=lee] .role-admin").waitFor();
  });

  it("an admin backs a chat up from the Backups panel, restores it, and the new chat shows the same conversation", async () => {
    const nia = await signIn("nia", "Nia");
    await nia.fill("input[name=orgName]", "Vault");
    await nia.press("input[name=orgName]", "Enter");
    await nia.fill("input[name=orgMember]", "oli");
    await nia.press("input[name=orgMember]", "Enter");
    await nia.waitForSelector("aside >> text=oli");
    await nia.fill("input[name=chatTitle]", "records");
    await nia.press("input[name=chatTitle]", "Enter");
    await nia.waitForSelector("text=live");
    await nia.fill("input[name=chatMember]", "oli");
    await nia.press("input[name=chatMember]", "Enter");
    await nia.fill("[name=message]", "kick-off from Nia");
    await nia.press("[name=message]", "Enter");
    await nia.waitForSelector("[data-testid=messages] li:not(.pending) >> text=kick-off from Nia");

    // A member writes; members see no Backups control (the API would answer them 403).
    const oli = await signIn("oli", "Oli");
    await oli.click("text=Vault");
    await oli.click("text=# records");
    await oli.waitForSelector("text=live");
    for (const text of ["first from Oli", "second from Oli", "third from Oli"]) {
      await oli.fill("[name=message]", text);
      await oli.press("[name=message]", "Enter");
      await oli.waitForSelector(`[data-testid=messages] li:not(.pending) >> text=${text}`);
    }
    expect(await oli.getByRole("button", { name: "Backups" }).count()).toBe(0);
    await nia.waitForSelector("[data-testid=messages] >> text=third from Oli");

    const shown = (page: Page) =>
      page.$$eval("[data-testid=messages] li[data-seq]", (els) =>
        els.map((e) => [
          e.getAttribute("data-seq"),
          e.querySelector(".author")?.textContent,
          e.querySelector(".text")?.textContent,
        ]),
      );
    const original = await shown(nia);
    expect(original.map(([, , text]) => text)).toEqual([
      "kick-off from Nia",
      "first from Oli",
      "second from Oli",
      "third from Oli",
    ]);

    // The admin opens the panel from the chat's header and backs up from the keyboard.
    await nia.getByRole("button", { name: "Backups" }).click();
    const panel = nia.locator("[data-testid=backups]");
    await panel.locator("[data-testid=no-backups]").waitFor();
    await nia.getByRole("button", { name: "Back up now" }).focus();
    await nia.keyboard.press("Enter");
    await panel.getByRole("status").filter({ hasText: "Backed up 4 messages (up to #4)." }).waitFor();
    const row = panel.locator("li[data-backup]");
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.locator("[data-testid=backup-messages]").textContent()).toBe("4 messages");
    expect(await row.textContent()).toContain("up to #4");

    // A refused restore shows the contract's message (this answer is stubbed here; the refusal of a really corrupt
    // backup is proven in test/workers), and nothing opens.
    await nia.route("**/api/orgs/*/chats/restore", (route) =>
      route.fulfill({
        status: 422,
        json: { error: { code: "backup_corrupt", message: "backup x: messages chunk 1: SHA-256 does not match" } },
      }),
    );
    const restoreButton = row.getByRole("button", { name: /^Restore into a new chat/ });
    await restoreButton.click();
    const alert = panel.getByRole("alert");
    await alert.filter({ hasText: "This backup cannot be restored: it is damaged or incomplete" }).waitFor();
    expect(await alert.textContent()).toContain("SHA-256 does not match");
    expect(await alert.textContent()).toContain("Nothing was created.");
    await nia.unrouteAll();

    // The phone-sized panel fits: nothing wider than the screen.
    await nia.setViewportSize({ width: 375, height: 740 });
    expect(await nia.$eval("html", (html) => html.scrollWidth)).toBeLessThanOrEqual(375);
    await nia.screenshot({ path: join(tmpdir(), "parlor-backups.png") });
    await nia.setViewportSize({ width: 1280, height: 720 });

    await restoreButton.click();
    await nia.locator(".chat header h2", { hasText: "# records (restored)" }).waitFor();
    await nia.waitForSelector('[data-testid=messages] li[data-seq="4"]');
    expect(await shown(nia)).toEqual(original);
    await nia.locator("aside li", { hasText: "# records (restored)" }).waitFor();
    await nia.screenshot({ path: join(tmpdir(), "parlor-restored.png") });
  });

  it("a publishable key in GET /api/config loads Clerk's chunk instead of development sign-in", async () => {
    const page = await (await browser().newContext()).newPage();
    const requests: string[] = [];
    page.on("request", (request) => requests.push(request.url()));
    // Nothing may leave this machine: Clerk's calls to its Frontend API are refused here.
    await page.route(
      (url) => !url.href.startsWith(parlor().baseUrl),
      (route) => route.abort(),
    );
    const clerkPublishableKey = `pk_test_${Buffer.from("clerk.parlor.invalid$").toString("base64")}`;
    await page.route(`${parlor().baseUrl}/api/config`, (route) =>
      route.fulfill({ json: { clerkPublishableKey, devSignIn: false } }),
    );
    await page.goto(parlor().baseUrl);
    await expect
      .poll(() => requests.filter((url) => /\/assets\/clerk-[^/]*\.js$/.test(url)).length, { timeout: 10_000 })
      .toBeGreaterThan(0);
    expect(await page.locator("input[name=userId]").count()).toBe(0);
  });
});
