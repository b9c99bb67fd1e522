/** Renaming the org, in the sidebar's admin section (org admins; the server refuses anyone else). */
import { useState } from "preact/hooks";
import { call, client, type OrgRef } from "./api";

export function OrgRename({ org, onRenamed }: { org: OrgRef; onRenamed: (name: string) => void }) {
  const [name, setName] = useState(org.name);
  const [error, setError] = useState<string | null>(null);
  async function submit(event: Event) {
    event.preventDefault();
    if (!name.trim()) return;
    try {
      const renamed = await call(client.api.orgs[":orgId"].$patch({ param: { orgId: org.id }, json: { name } }));
      setError(null);
      onRenamed(renamed.org.name);
    } catch (e) {
      setError((e as Error).message);
    }
  }
  return (
    <form class="inline" onSubmit={submit}>
      <label class="visually-hidden" for="org-rename">
        Org name
      </label>
      <input id="org-rename" name="orgRename" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <button type="submit">rename org</button>
      {error && <p class="error">{error}</p>}
    </form>
  );
}
