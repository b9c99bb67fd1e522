/** The moderators' queue: pending and reported listings to approve, reject or take down. */
import { useEffect, useState } from "preact/hooks";
import { call, client } from "./api";
import { type Listing, ListingSummary, type Run } from "./marketplace-listing";

const market = client.api.marketplace;
type Decision = "approve" | "reject" | "take_down";

export function ModerationQueue({ version, run }: { version: number; run: Run }) {
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
