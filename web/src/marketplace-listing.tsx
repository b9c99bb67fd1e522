/** What the marketplace screens share: a listing as the API answers it, and its summary. */
import type { InferResponseType } from "hono/client";
import type { client } from "./api";

export type Listing = InferResponseType<(typeof client.api.marketplace.listings)["$get"], 200>["listings"][number];
/** Runs a screen action, then shows its notice (or its error) and reloads. */
export type Run = (action: () => Promise<string | undefined>) => Promise<void>;

export function ListingSummary({ listing }: { listing: Listing }) {
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
