/**
 * The agent marketplace: browse and search approved listings, report one, and (org admins) install one, add an
 * installed agent to a chat, update it to a newer approved version, and publish one of the org's agents.
 * Moderators (`PARLOR_MODERATORS`) also get the queue: pending and reported listings to approve, reject or take down.
 */
import { useEffect, useState } from "preact/hooks";
import { call, client, type OrgRef } from "./api";
import { Installed } from "./marketplace-installs";
import { type Listing, ListingSummary, type Run } from "./marketplace-listing";
import { ModerationQueue } from "./marketplace-moderation";

const market = client.api.marketplace;
const orgMarket = client.api.orgs[":orgId"].marketplace;

/** `org`: the org installs and publishing are for (none selected: browse, report and moderate only). */
export function Marketplace({ org }: { org: OrgRef | null }) {
  const adminOf = org?.role === "admin" ? org : null;
  const [q, setQ] = useState("");
  const [listings, setListings] = useState<Listing[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
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
      (r) => {
        setListings(r.listings);
        setNextCursor(r.nextCursor);
      },
      (e: Error) => setError(e.message),
    );
  }, [q, version]);
  function more() {
    if (!nextCursor) return;
    call(market.listings.$get({ query: { q: q || undefined, cursor: nextCursor } })).then(
      (r) => {
        setListings((shown) => [...shown, ...r.listings]);
        setNextCursor(r.nextCursor);
      },
      (e: Error) => setError(e.message),
    );
  }
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
      // The org selected is the one the report is made for: moderators see it.
      const json = org ? { reason, orgId: org.id } : { reason };
      await call(market.listings[":id"].reports.$post({ param: { id: listing.id }, json }));
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
      {nextCursor && (
        <button type="button" class="small-button" onClick={more}>
          More listings
        </button>
      )}
      {adminOf && <Installed org={adminOf} version={version} run={run} />}
      {adminOf && <Publish org={adminOf} version={version} run={run} />}
      {moderator && <ModerationQueue version={version} run={run} />}
    </div>
  );
}

function Publish({ org, version, run }: { org: OrgRef; version: number; run: Run }) {
  const [agents, setAgents] = useState<{ id: string; handle: string; name: string }[]>([]);
  const [own, setOwn] = useState<Listing[]>([]);
  const [agentId, setAgentId] = useState("");
  const [description, setDescription] = useState("");
  const [note, setNote] = useState("");
  useEffect(() => {
    call(client.api.orgs[":orgId"].agents.$get({ param: { orgId: org.id } })).then((r) => setAgents(r.agents));
    call(orgMarket.listings.$get({ param: { orgId: org.id } })).then((r) => setOwn(r.listings));
  }, [org.id, version]);

  function publish(event: Event) {
    event.preventDefault();
    if (!agentId || !description.trim()) return;
    void run(async () => {
      const json = note.trim() ? { agentId, description, note } : { agentId, description };
      const { listing } = await call(orgMarket.listings.$post({ param: { orgId: org.id }, json }));
      setDescription("");
      setNote("");
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
        <label>
          What changed (optional){" "}
          <input name="publishNote" value={note} maxLength={500} onInput={(e) => setNote(e.currentTarget.value)} />
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
