/**
 * The marketplace's installed agents of an org: add one to a chat, read its listing's version history (change notes,
 * the pinned version), and update it to a newer approved version.
 */
import type { InferResponseType } from "hono/client";
import { useEffect, useState } from "preact/hooks";
import { call, client, type OrgRef } from "./api";
import type { Run } from "./marketplace-listing";

const orgMarket = client.api.orgs[":orgId"].marketplace;
type Install = InferResponseType<(typeof orgMarket.installs)["$get"], 200>["installs"][number];
type History = InferResponseType<(typeof orgMarket.installs)[":agentId"]["versions"]["$get"], 200>;

export function Installed({ org, version, run }: { org: OrgRef; version: number; run: Run }) {
  const [installs, setInstalls] = useState<Install[]>([]);
  const [chats, setChats] = useState<{ id: string; title: string }[]>([]);
  useEffect(() => {
    call(orgMarket.installs.$get({ param: { orgId: org.id } })).then((r) => setInstalls(r.installs));
    call(client.api.orgs[":orgId"].chats.$get({ param: { orgId: org.id }, query: {} })).then((r) => setChats(r.chats));
  }, [org.id, version]);
  if (installs.length === 0) return null;

  function addToChat(install: Install, chatId: string) {
    if (!chatId) return;
    void run(async () => {
      await call(client.api.chats[":chatId"].agents.$post({ param: { chatId }, json: { agentId: install.agentId } }));
      return `@${install.handle} joined the chat.`;
    });
  }
  function update(install: Install) {
    void run(async () => {
      const updated = await call(
        orgMarket.installs[":agentId"].update.$post({ param: { orgId: org.id, agentId: install.agentId } }),
      );
      return `@${install.handle} is at version ${updated.version}.`;
    });
  }
  return (
    <section>
      <h3>Installed here</h3>
      <ul>
        {installs.map((install) => (
          <li key={install.agentId} data-testid="install">
            <code>@{install.handle}</code> {install.name} <small>v{install.version}</small>
            {install.takenDown && <strong class="error"> taken down</strong>}{" "}
            {install.updateAvailable && (
              <button type="button" class="small-button" onClick={() => update(install)}>
                update to v{install.updateAvailable}
              </button>
            )}{" "}
            <select
              aria-label={`add @${install.handle} to a chat`}
              name="installChat"
              onChange={(e) => addToChat(install, e.currentTarget.value)}
            >
              <option value="">add to a chat…</option>
              {chats.map((chat) => (
                <option key={chat.id} value={chat.id}>
                  # {chat.title}
                </option>
              ))}
            </select>
            <VersionHistory org={org} install={install} version={version} />
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Read when opened: the listing's approved versions, newest first, with the one this agent is pinned to. */
function VersionHistory({ org, install, version }: { org: OrgRef; install: Install; version: number }) {
  const [open, setOpen] = useState(false);
  const [history, setHistory] = useState<History | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!open) return;
    call(orgMarket.installs[":agentId"].versions.$get({ param: { orgId: org.id, agentId: install.agentId } })).then(
      setHistory,
      (e: Error) => setError(e.message),
    );
  }, [open, org.id, install.agentId, version]);
  return (
    <details data-testid="version-history" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>version history</summary>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {history && (
        <>
          <p class="hint">
            Pinned to v{history.version}
            {history.updateAvailable ? ` · v${history.updateAvailable} available` : " · up to date"}
            {history.takenDown && " · taken down: no updates"}
          </p>
          <ol class="versions">
            {history.versions.map((v) => (
              <li key={v.version} data-testid="listing-version">
                <strong>v{v.version}</strong>
                {v.version === history.version && " (pinned)"}{" "}
                <small>{new Date(v.approvedAt).toLocaleDateString()}</small>
                {" · "}
                {v.note ?? <em>no change note</em>}
              </li>
            ))}
          </ol>
        </>
      )}
    </details>
  );
}
