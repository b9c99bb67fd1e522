/** The org's audit log (admins): newest entries first, filtered by action, with the chain's verification status. */
import type { InferResponseType } from "hono/client";
import { useEffect, useState } from "preact/hooks";
import { AUDIT_ACTIONS } from "../../protocol/audit";
import { call, client, type OrgRef } from "./api";

type AuditApi = ReturnType<typeof auditApi>;
type Entry = InferResponseType<AuditApi["$get"], 200>["entries"][number];
type Verification = InferResponseType<AuditApi["verify"]["$get"], 200>;
const auditApi = () => client.api.orgs[":orgId"].audit;
const PAGE = 50;

export function OrgAudit({ org }: { org: OrgRef }) {
  const [entries, setEntries] = useState<Entry[]>([]);
  const [action, setAction] = useState("");
  const [verification, setVerification] = useState<Verification | null>(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function load(before?: number) {
    try {
      const query = {
        limit: String(PAGE),
        ...(action ? { action: action as Entry["action"] } : {}),
        ...(before ? { before: String(before) } : {}),
      };
      const page = (await call(auditApi().$get({ param: { orgId: org.id }, query }))).entries;
      setEntries(before ? [...entries, ...page] : page);
      setMore(page.length === PAGE);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }
  async function verify() {
    try {
      setVerification(await call(auditApi().verify.$get({ param: { orgId: org.id } })));
    } catch (e) {
      setError((e as Error).message);
    }
  }
  useEffect(() => {
    void load();
  }, [org.id, action]);
  useEffect(() => {
    void verify();
  }, [org.id]);

  return (
    <section class="admin-screen" aria-labelledby="audit-title" data-testid="audit-admin">
      <h2 id="audit-title">Audit log</h2>
      <p data-testid="audit-verification" role="status">
        {verification === null
          ? "checking the chain…"
          : verification.ok
            ? `verified: ${verification.entries} entries, hash chain intact` +
              (verification.checkpoint ? `, signed up to #${verification.checkpoint}` : "")
            : `NOT verified: entry #${verification.firstBad}: ${verification.problem}`}{" "}
        <button type="button" class="link small" onClick={() => void verify()}>
          verify again
        </button>
      </p>
      <label>
        Action{" "}
        <select name="auditAction" value={action} onChange={(e) => setAction(e.currentTarget.value)}>
          <option value="">all</option>
          {AUDIT_ACTIONS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </label>
      <div class="table-scroll">
        <table class="audit">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">when</th>
              <th scope="col">who</th>
              <th scope="col">action</th>
              <th scope="col">target</th>
              <th scope="col">outcome</th>
            </tr>
          </thead>
          <tbody data-testid="audit-entries">
            {entries.map((e) => (
              <tr key={e.seq}>
                <td>{e.seq}</td>
                <td>
                  <time dateTime={e.at}>{new Date(e.at).toLocaleString()}</time>
                </td>
                <td>
                  {e.actor.type === "user" ? "" : `${e.actor.type}: `}
                  {e.actor.id}
                </td>
                <td>{e.action}</td>
                <td class="wrap">{e.target}</td>
                <td>
                  {e.outcome}
                  {e.count > 1 ? ` ×${e.count}` : ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {entries.length === 0 && <p class="muted">No entries.</p>}
      {more && (
        <button type="button" onClick={() => void load(entries[entries.length - 1]?.seq)}>
          Older entries
        </button>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
