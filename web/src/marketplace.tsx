/**
 * The agent marketplace: browse and search approved listings, report one, and (org admins) install one, add an
 * installed agent to a chat, update it to a newer approved version, and publish one of the org's agents.
 * Moderators (`PARLOR_MODERATORS`) also get the queue: pending and reported listings to approve, reject or take down.
 */
import type { InferResponseType } from "hono/client";
import { useEffect, useState } from "preact/hooks";
import { call, client, type OrgRef } from "./api";

const market = client.api.marketplace;
const orgMarket = client.api.orgs[":orgId"].marketplace;
type Listing = InferResponseType<(typeof market.listings)["$get"], 200>["listings"][number];
type Install = InferResponseType<(typeof orgMarket.installs)["$get"], 200>["installs"][number];
type Decision = "approve" | "reject" | "take_down";

/** `org`: the org installs and publishing are for (none selected: browse, report and moderate only). */
export function Marketplace({ org }: { org: OrgRef | null }) {
  const adminOf = org?.role === "admin" ? org : null;
  const [q, setQ] = useState("");
  const [listings, setListings] = useState<Listing[]>([]);
  const [moderator, setModerator] = useState(false);
  const [version, setVersion] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = () => setVersion((v) => v + 1);

  async function run(action: () => Promise<string | undefined>) {
    try {
      const done = await action();
      setNotice(done ?? null);
      setError(null);
      reload();
    } catch (e) {
      setError((e as Error).message);
    }
  }
  useEffect(() => {
    call(market.listings.$get({ query: { q: q || undefined } })).then(
      (r) => setListings(r.listings),
      (e: Error) => setError(e.message),
    );
  }, [q, version]);
  useEffect(() => {
    call(market.moderator.$get()).then(
      (r) => setModerator(r.moderator),
      () => setModerator(false),
    );
  }, []);

  function install(listing: Listing, org: OrgRef) {
    const handle = prompt(`Install @${listing.definition.handle} as (handle)`, listing.definition.handle);
    if (!handle) return;
    void run(async () => {
      const installed = await call(
        orgMarket.installs.$post({ param: { orgId: org.id }, json: { listingId: listing.id, handle } }),
      );
      return `Installed @${handle} (version ${installed.version}).`;
    });
  }
  function report(listing: Listing) {
    const reason = prompt(`Why should moderators look at "${listing.definition.name}"?`);
    if (!reason) return;
    void run(async () => {
      await call(market.listings[":id"].reports.$post({ param: { id: listing.id }, json: { reason } }));
      return "Reported: a moderator will review it.";
    });
  }

  return (
    <div class="marketplace" data-testid="marketplace">
      <h2>Marketplace</h2>
      <label>
        Search listings{" "}
        <input
          name="marketSearch"
          type="search"
          value={q}
          onInput={(e) => setQ(e.currentTarget.value)}
          placeholder="name or description"
        />
      </label>
      {notice && (
        <p class="hint" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <ul class="listings">
        {listings.map((listing) => (
          <li key={listing.id} data-testid="listing">
            <ListingSummary listing={listing} />
            {adminOf && (
              <button type="button" class="small-button" onClick={() => install(listing, adminOf)}>
                Install
              </button>
            )}{" "}
            <button type="button" class="link small" onClick={() => report(listing)}>
              report
            </button>
          </li>
        ))}
        {listings.length === 0 && <li class="hint">No listings{q ? " match" : " yet"}.</li>}
      </ul>
      {adminOf && <Installed org={adminOf} version={version} run={run} />}
      {adminOf && <Publish org={adminOf} version={version} run={run} />}
      {moderator && <ModerationQueue version={version} run={run} />}
    </div>
  );
}

function ListingSummary({ listing }: { listing: Listing }) {
  return (
    <div>
      <strong>{listing.definition.name}</strong> <code>@{listing.definition.handle}</code>{" "}
      <small>
        by {listing.publisherOrgName} · v{listing.version} · {listing.status}
      </small>
      <p>{listing.description}</p>
      {listing.reasons.length > 0 && <p class="error">{listing.reasons.join("; ")}</p>}
    </div>
  );
}

type Run = (action: () => Promise<string | undefined>) => Promise<void>;

function Installed({ org, version, run }: { org: OrgRef; version: number; run: Run }) {
  const [installs, setInstalls] = useState<Install[]>([]);
  const [chats, setChats] = useState<{ id: string; title: string }[]>([]);
  useEffect(() => {
    call(orgMarket.installs.$get({ param: { orgId: org.id } })).then((r) => setInstalls(r.installs));
    call(client.api.orgs[":orgId"].chats.$get({ param: { orgId: org.id }, query: {} })).then((r) => setChats(r.chats));
  }, [org.id, version]);
  if (installs.length === 0) return null;

  function addToChat(install: Install, chatId: string) {
    if (!chatId) return;
    void run(async () => {
      await call(client.api.chats[":chatId"].agents.$post({ param: { chatId }, json: { agentId: install.agentId } }));
      return `@${install.handle} joined the chat.`;
    });
  }
  function update(install: Install) {
    void run(async () => {
      const updated = await call(
        orgMarket.installs[":agentId"].update.$post({ param: { orgId: org.id, agentId: install.agentId } }),
      );
      return `@${install.handle} is at version ${updated.version}.`;
    });
  }
  return (
    <section>
      <h3>Installed here</h3>
      <ul>
        {installs.map((install) => (
          <li key={install.agentId} data-testid="install">
            <code>@{install.handle}</code> {install.name} <small>v{install.version}</small>
            {install.takenDown && <strong class="error"> taken down</strong>}{" "}
            {install.updateAvailable && (
              <button type="button" class="small-button" onClick={() => update(install)}>
                update to v{install.updateAvailable}
              </button>
            )}{" "}
            <select
              aria-label={`add @${install.handle} to a chat`}
              name="installChat"
              onChange={(e) => addToChat(install, e.currentTarget.value)}
            >
              <option value="">add to a chat…</option>
              {chats.map((chat) => (
                <option key={chat.id} value={chat.id}>
                  # {chat.title}
                </option>
              ))}
            </select>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Publish({ org, version, run }: { org: OrgRef; version: number; run: Run }) {
  const [agents, setAgents] = useState<{ id: string; handle: string; name: string }[]>([]);
  const [own, setOwn] = useState<Listing[]>([]);
  const [agentId, setAgentId] = useState("");
  const [description, setDescription] = useState("");
  useEffect(() => {
    call(client.api.orgs[":orgId"].agents.$get({ param: { orgId: org.id } })).then((r) => setAgents(r.agents));
    call(orgMarket.listings.$get({ param: { orgId: org.id } })).then((r) => setOwn(r.listings));
  }, [org.id, version]);

  function publish(event: Event) {
    event.preventDefault();
    if (!agentId || !description.trim()) return;
    void run(async () => {
      const { listing } = await call(
        orgMarket.listings.$post({ param: { orgId: org.id }, json: { agentId, description } }),
      );
      setDescription("");
      return `Submitted version ${listing.version}: it waits for a moderator.`;
    });
  }
  return (
    <section>
      <h3>Publish an agent</h3>
      <form class="publish" onSubmit={publish}>
        <label>
          Agent{" "}
          <select name="publishAgent" value={agentId} onChange={(e) => setAgentId(e.currentTarget.value)}>
            <option value="">choose…</option>
            {agents.map((agent) => (
              <option key={agent.id} value={agent.id}>
                @{agent.handle} ({agent.name})
              </option>
            ))}
          </select>
        </label>{" "}
        <label>
          Description{" "}
          <input
            name="publishDescription"
            value={description}
            maxLength={2000}
            onInput={(e) => setDescription(e.currentTarget.value)}
          />
        </label>{" "}
        <button type="submit">Publish</button>
      </form>
      {own.length > 0 && (
        <ul>
          {own.map((listing) => (
            <li key={listing.id} data-testid="own-listing">
              <ListingSummary listing={listing} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ModerationQueue({ version, run }: { version: number; run: Run }) {
  const [queue, setQueue] = useState<Listing[]>([]);
  const [reasons, setReasons] = useState<Record<string, string>>({});
  useEffect(() => {
    Promise.all([
      call(market.listings.$get({ query: { status: "pending" } })),
      call(market.listings.$get({ query: { status: "reported" } })),
    ]).then(([pending, reported]) => {
      const seen = new Set(pending.listings.map((l) => l.id));
      setQueue([...pending.listings, ...reported.listings.filter((l) => !seen.has(l.id))]);
    });
  }, [version]);

  function decide(listing: Listing, decision: Decision) {
    const reason = reasons[listing.id]?.trim() || (decision === "approve" ? "approved" : "");
    if (!reason) {
      alert("Say why: the publisher sees the reason.");
      return;
    }
    void run(async () => {
      await call(market.listings[":id"].review.$post({ param: { id: listing.id }, json: { decision, reason } }));
      return `${decision.replace("_", " ")}: ${listing.definition.name}.`;
    });
  }
  return (
    <section data-testid="moderation">
      <h3>Moderation queue</h3>
      {queue.length === 0 && <p class="hint">Nothing waits for review.</p>}
      <ul>
        {queue.map((listing) => (
          <li key={listing.id} data-testid="queued-listing">
            <ListingSummary listing={listing} />
            <pre class="definition">{listing.definition.systemPrompt}</pre>
            <small>
              tools: {Object.keys(listing.definition.tools).join(", ") || "none"}
              {listing.openReports > 0 && ` · ${listing.openReports} open report(s)`}
            </small>
            <input
              name="reviewReason"
              aria-label="reason"
              placeholder="reason"
              value={reasons[listing.id] ?? ""}
              onInput={(e) => setReasons({ ...reasons, [listing.id]: e.currentTarget.value })}
            />
            <button type="button" class="small-button" onClick={() => decide(listing, "approve")}>
              Approve
            </button>
            <button type="button" class="small-button" onClick={() => decide(listing, "reject")}>
              Reject
            </button>
            <button type="button" class="small-button" onClick={() => decide(listing, "take_down")}>
              Take down
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
