/**
 * The sidebar's orgs: pick one, or create one (its creator is its admin). Each org shows the caller's unread across
 * its chats, refreshed as the chat list is (list-refresh.ts).
 */
import { useEffect, useState } from "preact/hooks";
import { call, client, type Org, type OrgRef } from "./api";
import { useListRefresh } from "./list-refresh";

export function OrgList({
  selected,
  onSelect,
  onCreated,
}: {
  selected: OrgRef | null;
  onSelect: (org: OrgRef) => void;
  /** A new org was created by the caller, its admin. */
  onCreated: (org: OrgRef) => void;
}) {
  const [orgs, setOrgs] = useState<Org[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const reload = () => setReloads((n) => n + 1);
  useListRefresh(reload);
  useEffect(() => {
    call(client.api.orgs.$get()).then(
      (r) => {
        setOrgs(r.orgs);
        setError(null);
      },
      (e: Error) => setError(e.message),
    );
  }, [reloads]);

  return (
    <section aria-labelledby="orgs-heading">
      <h2 id="orgs-heading">Orgs</h2>
      <ul>
        {orgs.map((org) => (
          <li key={org.id} class={selected?.id === org.id ? "selected" : ""} data-testid="org-item">
            <button
              type="button"
              class="link"
              aria-current={selected?.id === org.id ? "true" : undefined}
              onClick={() => onSelect(org)}
            >
              {org.name}
            </button>
            {org.unread > 0 && (
              <span class="unread" data-testid="org-unread" title={`${org.unread} unread`}>
                {org.unread}
                <span class="visually-hidden"> unread</span>
              </span>
            )}
          </li>
        ))}
      </ul>
      {error && <p class="error">{error}</p>}
      <CreateOrg
        onCreated={(org) => {
          reload();
          onCreated(org);
        }}
      />
    </section>
  );
}

function CreateOrg({ onCreated }: { onCreated: (org: OrgRef) => void }) {
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  async function submit(event: Event) {
    event.preventDefault();
    const value = name.trim();
    if (!value) return;
    try {
      const { id } = await call(client.api.orgs.$post({ json: { name: value } }));
      setName("");
      setError(null);
      onCreated({ id, name: value, role: "admin" });
    } catch (e) {
      setError((e as Error).message);
    }
  }
  return (
    <form class="inline" onSubmit={submit}>
      <label class="visually-hidden" for="new-org-name">
        New org name
      </label>
      <input
        id="new-org-name"
        name="orgName"
        placeholder="new org"
        value={name}
        onInput={(e) => setName(e.currentTarget.value)}
      />
      <button type="submit" aria-label="Create org">
        +
      </button>
      {error && <p class="error">{error}</p>}
    </form>
  );
}
