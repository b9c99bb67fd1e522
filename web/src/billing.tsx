/**
 * The org's billing, for admins (the API answers 403 to anyone else): status, plan, seats, this period's usage
 * against the plan's quotas, Stripe's checkout ("Subscribe") and portal ("Manage billing"), and caps per member.
 * Shown in the main pane when an admin picks "Billing & usage" under the org in the sidebar.
 */
import { useEffect, useState } from "preact/hooks";
import { call, client, type OrgMember, type OrgRef } from "./api";
import { listMembers } from "./members";

type Billing = Awaited<ReturnType<typeof loadBilling>>;
type MemberUsage = Billing["members"][number];
type Limits = MemberUsage["limits"];

function loadBilling(orgId: string) {
  return call(client.api.orgs[":orgId"].billing.$get({ param: { orgId } })).then((r) => r.billing);
}

const REFUSALS: Record<NonNullable<Billing["refusing"]>, string> = {
  billing_lapsed: "Agent runs are paused: billing lapsed. Subscribe or fix payment in Manage billing.",
  quota_exceeded: "Agent runs are paused: this period's quota is used up.",
};

const count = (n: number) => n.toLocaleString("en-US");
const ofQuota = (used: number, quota: number | null) =>
  `${count(used)} of ${quota === null ? "unlimited" : count(quota)}`;
const day = (iso: string) => new Date(iso).toLocaleDateString();

export function OrgBilling({ org }: { org: OrgRef }) {
  const [billing, setBilling] = useState<Billing | null>(null);
  const [members, setMembers] = useState<OrgMember[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function reload() {
    try {
      const [b, m] = await Promise.all([loadBilling(org.id), listMembers(org.id)]);
      setBilling(b);
      setMembers(m);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }
  useEffect(() => {
    setBilling(null);
    void reload();
  }, [org.id]);

  /** Checkout or portal: go to the URL Stripe gave, or show why there is none (say, Stripe not configured here). */
  async function toStripe(which: "checkout" | "portal") {
    setBusy(true);
    try {
      const billingApi = client.api.orgs[":orgId"].billing;
      const param = { orgId: org.id };
      const { url } = await call(
        which === "checkout" ? billingApi.checkout.$post({ param }) : billingApi.portal.$post({ param }),
      );
      setActionError(null);
      window.location.assign(url);
    } catch (e) {
      setActionError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  if (org.role !== "admin") return <p class="hint">Billing is for the org's admins.</p>;
  if (!billing) return <div class="admin">{error ? <p class="error">{error}</p> : <p>Loading billing…</p>}</div>;
  const { usage, quotas } = billing;
  return (
    <div class="admin" data-testid="billing">
      <h2>Billing & usage — {org.name}</h2>
      {billing.refusing && (
        <p class="warning" data-testid="refusing">
          {REFUSALS[billing.refusing]}
        </p>
      )}
      <dl class="facts">
        <dt>Status</dt>
        <dd data-testid="billing-status">{billing.status}</dd>
        <dt>Plan</dt>
        <dd>{billing.plan ?? "development (unlimited)"}</dd>
        <dt>Seats</dt>
        <dd>{billing.seats}</dd>
        <dt>Period</dt>
        <dd>
          {day(billing.periodStart)} – {day(billing.periodEnd)}
        </dd>
        {billing.graceEndsAt && (
          <>
            <dt>Grace ends</dt>
            <dd>{new Date(billing.graceEndsAt).toLocaleString()}</dd>
          </>
        )}
      </dl>
      <h3>Usage this period</h3>
      <p class="muted">Counted by the rooms and sent in batches, so it may trail live use a little.</p>
      <dl class="facts" data-testid="usage">
        <dt>Messages</dt>
        <dd>{count(usage.messages)}</dd>
        <dt>Agent runs</dt>
        <dd>{ofQuota(usage.agentRuns, quotas.agentRunsPerPeriod)}</dd>
        <dt>Tokens (in + out)</dt>
        <dd>
          {ofQuota(usage.tokensIn + usage.tokensOut, quotas.tokensPerPeriod)}{" "}
          <small class="muted">
            ({count(usage.tokensIn)} in, {count(usage.tokensOut)} out)
          </small>
        </dd>
      </dl>
      <p class="actions">
        <button type="button" disabled={busy} onClick={() => void toStripe("checkout")}>
          Subscribe
        </button>
        <button type="button" disabled={busy} onClick={() => void toStripe("portal")}>
          Manage billing
        </button>
        <button type="button" class="small-button" onClick={() => void reload()}>
          refresh
        </button>
      </p>
      {actionError && <p class="error">{actionError}</p>}
      {error && <p class="error">{error}</p>}
      <h3>Caps per member</h3>
      <p class="muted">
        Per billing period; leave a box empty for no cap. A member at a cap starts no more agent runs.
      </p>
      <table class="caps" data-testid="caps">
        <thead>
          <tr>
            <th>Member</th>
            <th>Agent runs</th>
            <th>Tokens</th>
            <th />
            <th>Used this period</th>
          </tr>
        </thead>
        <tbody>
          {members.map((m) => (
            <MemberCaps
              key={m.userId}
              org={org}
              member={m}
              usage={billing.members.find((u) => u.userId === m.userId) ?? null}
              onSaved={() => void reload()}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}

const asText = (n: number | null | undefined) => (n === null || n === undefined ? "" : String(n));

/** "" → null (no cap); otherwise a whole number ≥ 0, or an error message. */
function parseCap(text: string): number | null | string {
  const t = text.trim();
  if (t === "") return null;
  const n = Number(t);
  return Number.isSafeInteger(n) && n >= 0 ? n : `"${t}" is not a whole number ≥ 0`;
}

function MemberCaps({
  org,
  member,
  usage,
  onSaved,
}: {
  org: OrgRef;
  member: OrgMember;
  usage: MemberUsage | null;
  onSaved: () => void;
}) {
  const limits: Limits = usage?.limits ?? { agentRunsPerPeriod: null, tokensPerPeriod: null };
  const [runs, setRuns] = useState(asText(limits.agentRunsPerPeriod));
  const [tokensCap, setTokensCap] = useState(asText(limits.tokensPerPeriod));
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  // The stored caps, when they arrive or change, replace what the boxes hold.
  useEffect(() => {
    setRuns(asText(limits.agentRunsPerPeriod));
    setTokensCap(asText(limits.tokensPerPeriod));
  }, [limits.agentRunsPerPeriod, limits.tokensPerPeriod]);

  async function save(event: Event) {
    event.preventDefault();
    const agentRunsPerPeriod = parseCap(runs);
    const tokensPerPeriod = parseCap(tokensCap);
    const bad = [agentRunsPerPeriod, tokensPerPeriod].find((v) => typeof v === "string");
    if (typeof bad === "string") return setStatus({ ok: false, text: bad });
    try {
      await call(
        client.api.orgs[":orgId"].members[":userId"].limits.$put({
          param: { orgId: org.id, userId: member.userId },
          json: {
            agentRunsPerPeriod: agentRunsPerPeriod as number | null,
            tokensPerPeriod: tokensPerPeriod as number | null,
          },
        }),
      );
      setStatus({ ok: true, text: "saved" });
      onSaved();
    } catch (e) {
      setStatus({ ok: false, text: (e as Error).message });
    }
  }
  const formId = `caps-${member.userId}`;
  return (
    <tr data-user={member.userId}>
      <td>
        {member.name} <small class="muted">{member.role}</small>
      </td>
      <td>
        <input
          form={formId}
          name="agentRunsPerPeriod"
          type="number"
          min={0}
          step={1}
          placeholder="no cap"
          value={runs}
          onInput={(e) => setRuns(e.currentTarget.value)}
        />
      </td>
      <td>
        <input
          form={formId}
          name="tokensPerPeriod"
          type="number"
          min={0}
          step={1}
          placeholder="no cap"
          value={tokensCap}
          onInput={(e) => setTokensCap(e.currentTarget.value)}
        />
      </td>
      <td>
        <form id={formId} onSubmit={save}>
          <button type="submit">Save</button>
        </form>
        {status && <small class={status.ok ? "saved" : "error"}> {status.text}</small>}
      </td>
      <td>
        {usage ? (
          <small>
            {ofQuota(usage.usage.agentRuns, usage.limits.agentRunsPerPeriod)} runs,{" "}
            {ofQuota(usage.usage.tokensIn + usage.usage.tokensOut, usage.limits.tokensPerPeriod)} tokens
          </small>
        ) : (
          <small class="muted">no caps</small>
        )}
      </td>
    </tr>
  );
}
