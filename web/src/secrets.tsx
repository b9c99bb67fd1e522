/**
 * The org's secrets, for admins: names, grants and when each was last used, never a value (the API never answers
 * one). Store one (every chat, every agent), rotate its value, or delete it. Agents use one in a header value as
 * `{{secret:NAME}}`. Shown in the sidebar, under the org's members.
 */
import { useEffect, useState } from "preact/hooks";
import { call, client, type OrgRef } from "./api";

type Secret = Awaited<ReturnType<typeof listSecrets>>[number];

function listSecrets(orgId: string) {
  return call(client.api.orgs[":orgId"].secrets.$get({ param: { orgId } })).then((r) => r.secrets);
}

function grantsText(grants: Secret["grants"]): string {
  const chats = grants.chats === "all" ? "every chat" : `${grants.chats.length} chat(s)`;
  const agents = grants.agents === undefined ? "every agent" : `${grants.agents.length} agent(s)`;
  return `${chats}, ${agents}`;
}

export function OrgSecrets({ org }: { org: OrgRef }) {
  const [secrets, setSecrets] = useState<Secret[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const secretsApi = client.api.orgs[":orgId"].secrets;

  async function run(action: () => Promise<unknown>) {
    try {
      await action();
      setSecrets(await listSecrets(org.id));
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }
  useEffect(() => {
    if (org.role === "admin") void run(async () => {});
  }, [org.id, org.role]);
  if (org.role !== "admin") return null;

  function add(event: Event) {
    event.preventDefault();
    void run(async () => {
      await call(secretsApi.$post({ param: { orgId: org.id }, json: { name, value, grants: { chats: "all" } } }));
      setName("");
      setValue("");
    });
  }
  function rotate(secret: Secret) {
    const next = prompt(`New value for ${secret.name} (it is never shown again)`);
    if (next) {
      void run(() =>
        call(secretsApi[":name"].$patch({ param: { orgId: org.id, name: secret.name }, json: { value: next } })),
      );
    }
  }
  function remove(secret: Secret) {
    if (!confirm(`Delete ${secret.name}? Agents that use it fail from their next call.`)) return;
    void run(() => call(secretsApi[":name"].$delete({ param: { orgId: org.id, name: secret.name } })));
  }

  return (
    <section>
      <h2>Secrets</h2>
      <ul>
        {secrets.map((secret) => (
          <li key={secret.name}>
            <code>{secret.name}</code> <small>{grantsText(secret.grants)}</small>{" "}
            <small>{secret.lastUsedAt ? `used ${new Date(secret.lastUsedAt).toLocaleString()}` : "never used"}</small>{" "}
            <button type="button" class="link small" onClick={() => rotate(secret)}>
              rotate
            </button>{" "}
            <button type="button" class="link small" onClick={() => remove(secret)}>
              delete
            </button>
          </li>
        ))}
      </ul>
      <form class="inline" onSubmit={add}>
        <input name="secretName" placeholder="NAME" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <input
          name="secretValue"
          type="password"
          autocomplete="off"
          placeholder="value"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <button type="submit">+</button>
      </form>
      {error && <p class="error">{error}</p>}
    </section>
  );
}
