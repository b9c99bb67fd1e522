/** The org's egress settings (admins): hosts always refused, an org-wide ceiling of hosts, and extra ports. */
import { useEffect, useState } from "preact/hooks";
import { call, client, type OrgRef } from "./api";

const egressApi = () => client.api.orgs[":orgId"].egress;
const words = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((w) => w.trim())
    .filter(Boolean);

export function OrgEgress({ org }: { org: OrgRef }) {
  const [allowHosts, setAllowHosts] = useState("");
  const [denyHosts, setDenyHosts] = useState("");
  const [allowPorts, setAllowPorts] = useState("");
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  // The form stays disabled until the stored settings arrive: typed before that, they would be overwritten.
  const [loaded, setLoaded] = useState(false);

  function show(egress: { allowHosts: string[]; denyHosts: string[]; allowPorts: number[] }) {
    setAllowHosts(egress.allowHosts.join("\n"));
    setDenyHosts(egress.denyHosts.join("\n"));
    setAllowPorts(egress.allowPorts.join(", "));
  }
  useEffect(() => {
    call(egressApi().$get({ param: { orgId: org.id } })).then(
      (r) => {
        show(r.egress);
        setLoaded(true);
      },
      (e: Error) => setStatus({ ok: false, text: e.message }),
    );
  }, [org.id]);

  async function save(event: Event) {
    event.preventDefault();
    const ports = words(allowPorts).map(Number);
    if (ports.some((p) => !Number.isInteger(p))) return setStatus({ ok: false, text: "ports are whole numbers" });
    try {
      const egress = { allowHosts: words(allowHosts), denyHosts: words(denyHosts), allowPorts: ports };
      show((await call(egressApi().$put({ param: { orgId: org.id }, json: { egress } }))).egress);
      setStatus({ ok: true, text: "Saved: applies from the next request an agent sends." });
    } catch (e) {
      setStatus({ ok: false, text: (e as Error).message });
    }
  }
  return (
    <section class="admin-screen" aria-labelledby="egress-title" data-testid="egress-admin">
      <h2 id="egress-title">Egress</h2>
      <p class="hint-inline">
        Where the org's agents may send HTTP requests. One host per line (or comma-separated);{" "}
        <code>*.example.com</code> matches every host below it.
      </p>
      <form class="stacked" onSubmit={save}>
        <fieldset disabled={!loaded}>
          <label>
            Always refused hosts
            <textarea
              name="denyHosts"
              rows={3}
              value={denyHosts}
              onInput={(e) => setDenyHosts(e.currentTarget.value)}
            />
          </label>
          <label>
            Only these hosts (empty: any an agent's allow list names)
            <textarea
              name="allowHosts"
              rows={3}
              value={allowHosts}
              onInput={(e) => setAllowHosts(e.currentTarget.value)}
            />
          </label>
          <label>
            Extra ports besides 80 and 443
            <input
              name="allowPorts"
              placeholder="8080, 8443"
              value={allowPorts}
              onInput={(e) => setAllowPorts(e.currentTarget.value)}
            />
          </label>
          <p>
            <button type="submit">Save egress settings</button>
          </p>
        </fieldset>
      </form>
      {status && (
        <p class={status.ok ? "saved" : "error"} role={status.ok ? "status" : "alert"} data-testid="egress-status">
          {status.text}
        </p>
      )}
    </section>
  );
}
