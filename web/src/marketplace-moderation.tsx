/**
 * The moderators' screen: listings waiting for review, and reported listings with each report's reason and the org
 * its reporter named; each with approve, reject (a pending version) and take down. A reason is required except to
 * approve: the publisher sees it.
 */
import type { InferResponseType } from "hono/client";
import { useEffect, useState } from "preact/hooks";
import { call, client } from "./api";
import { type Listing, ListingSummary, type Run } from "./marketplace-listing";

const market = client.api.marketplace;
type Decision = "approve" | "reject" | "take_down";
type Report = InferResponseType<(typeof market.listings)[":id"]["reports"]["$get"], 200>["reports"][number];
/** A moderator's queues fit one page each: they are worked down, not browsed. */
const QUEUE_PAGE = "100";

export function ModerationQueue({ version, run }: { version: number; run: Run }) {
  const [pending, setPending] = useState<Listing[]>([]);
  const [reported, setReported] = useState<Listing[]>([]);
  useEffect(() => {
    Promise.all([
      call(market.listings.$get({ query: { status: "pending", limit: QUEUE_PAGE } })),
      call(market.listings.$get({ query: { status: "reported", limit: QUEUE_PAGE } })),
    ]).then(([waiting, flagged]) => {
      setPending(waiting.listings);
      setReported(flagged.listings);
    });
  }, [version]);

  return (
    <section data-testid="moderation">
      <h3>Moderation</h3>
      <h4>Waiting for review</h4>
      {pending.length === 0 && <p class="hint">Nothing waits for review.</p>}
      <ul>
        {pending.map((listing) => (
          <QueuedListing key={listing.id} listing={listing} version={version} run={run} />
        ))}
      </ul>
      <h4>Reported</h4>
      {reported.length === 0 && <p class="hint">No open reports.</p>}
      <ul>
        {reported.map((listing) => (
          <QueuedListing key={listing.id} listing={listing} version={version} run={run} reports />
        ))}
      </ul>
    </section>
  );
}

function QueuedListing(props: { listing: Listing; version: number; run: Run; reports?: boolean }) {
  const { listing, run } = props;
  const [reason, setReason] = useState("");
  function decide(decision: Decision) {
    const said = reason.trim() || (decision === "approve" ? "approved" : "");
    if (!said) {
      alert("Say why: the publisher sees the reason.");
      return;
    }
    void run(async () => {
      await call(market.listings[":id"].review.$post({ param: { id: listing.id }, json: { decision, reason: said } }));
      return `${decision.replace("_", " ")}: ${listing.definition.name}.`;
    });
  }
  return (
    <li data-testid="queued-listing">
      <ListingSummary listing={listing} />
      <pre class="definition">{listing.definition.systemPrompt}</pre>
      <small>
        tools: {Object.keys(listing.definition.tools).join(", ") || "none"}
        {listing.openReports > 0 && ` · ${listing.openReports} open report(s)`}
      </small>
      {props.reports && <Reports listingId={listing.id} version={props.version} />}
      <input
        name="reviewReason"
        aria-label={`reason for ${listing.definition.name}`}
        placeholder="reason"
        value={reason}
        onInput={(e) => setReason(e.currentTarget.value)}
      />
      <button type="button" class="small-button" onClick={() => decide("approve")}>
        {listing.status === "pending" ? "Approve" : "Dismiss reports"}
      </button>
      {listing.status === "pending" && (
        <button type="button" class="small-button" onClick={() => decide("reject")}>
          Reject
        </button>
      )}
      <button type="button" class="small-button" onClick={() => decide("take_down")}>
        Take down
      </button>
    </li>
  );
}

function Reports({ listingId, version }: { listingId: string; version: number }) {
  const [reports, setReports] = useState<Report[]>([]);
  useEffect(() => {
    call(market.listings[":id"].reports.$get({ param: { id: listingId } })).then((r) => setReports(r.reports));
  }, [listingId, version]);
  return (
    <ul class="reports" aria-label="reports">
      {reports
        .filter((report) => report.open)
        .map((report) => (
          <li key={`${report.createdAt}-${report.reason}`} data-testid="listing-report">
            “{report.reason}” <small>— {report.reporterOrg ? report.reporterOrg.name : "no org named"}</small>{" "}
            <small>{new Date(report.createdAt).toLocaleString()}</small>
          </li>
        ))}
    </ul>
  );
}
