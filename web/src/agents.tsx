/**
 * The org's agents (admins): create one from a server template (the built-in assistant) or from scratch, edit its
 * name, handle, prompt, model, tools with their allow lists, secrets referenced by name in headers, and its approval
 * policy (who decides, quorum, named approvers, timeout, what expiry does); delete it.
 */
import type { InferResponseType } from "hono/client";
import { useEffect, useState } from "preact/hooks";
import type { APPROVAL_EXPIRY } from "../../protocol/approval-policy";
import { call, client, type OrgMember, type OrgRef } from "./api";
import { listMembers } from "./members";

type OrgApi = ReturnType<typeof orgApi>;
type Agent = InferResponseType<OrgApi["agents"]["$get"], 200>["agents"][number];
type Template = InferResponseType<OrgApi["agent-templates"]["$get"], 200>["templates"][number];
type Tools = Template["agent"]["tools"];
const orgApi = () => client.api.orgs[":orgId"];

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;
type Method = (typeof METHODS)[number];
type Approvers = "initiator" | "members" | "admins" | "named";

/** What the form edits: the agent's fields as plain form state. */
type Draft = {
  name: string;
  handle: string;
  systemPrompt: string;
  model: string;
  trigger: "mention" | "always";
  history: boolean;
  allow: { baseUrl: string; methods: Method[] }[];
  headers: { name: string; value: string }[];
  approvers: Approvers;
  namedApprovers: string[];
  quorum: string;
  timeoutSeconds: string;
  onExpiry: (typeof APPROVAL_EXPIRY)[number];
};

const EMPTY: Draft = {
  name: "",
  handle: "",
  systemPrompt: "",
  model: "",
  trigger: "mention",
  history: true,
  allow: [],
  headers: [],
  approvers: "initiator",
  namedApprovers: [],
  quorum: "1",
  timeoutSeconds: "600",
  onExpiry: "deny",
};

function draftOf(agent: Template["agent"] | Agent): Draft {
  const http = agent.tools.http;
  const approvers = http?.approval?.approvers ?? "initiator";
  return {
    name: agent.name,
    handle: agent.handle,
    systemPrompt: agent.systemPrompt,
    model: agent.model ?? "",
    trigger: agent.trigger,
    history: agent.tools.history !== undefined,
    allow: (http?.allow ?? []).map((a) => ({ baseUrl: a.baseUrl, methods: [...a.methods] })),
    headers: Object.entries(http?.headers ?? {}).map(([name, value]) => ({ name, value })),
    approvers: typeof approvers === "object" ? "named" : approvers,
    namedApprovers: typeof approvers === "object" ? approvers.users : [],
    quorum: String(http?.approval?.quorum ?? 1),
    timeoutSeconds: String(http?.approval?.timeoutSeconds ?? 600),
    onExpiry: http?.approval?.onExpiry ?? "deny",
  };
}

function toolsOf(draft: Draft): Tools {
  const tools: Tools = {};
  if (draft.history) tools.history = {};
  const allow = draft.allow.filter((a) => a.baseUrl.trim());
  if (allow.length > 0) {
    const headers = Object.fromEntries(draft.headers.filter((h) => h.name.trim()).map((h) => [h.name.trim(), h.value]));
    tools.http = {
      allow: allow.map((a) => ({ baseUrl: a.baseUrl.trim(), methods: a.methods })),
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      approval: {
        approvers: draft.approvers === "named" ? { users: draft.namedApprovers } : draft.approvers,
        quorum: Number(draft.quorum) || 1,
        timeoutSeconds: Number(draft.timeoutSeconds) || 600,
        onExpiry: draft.onExpiry,
      },
    };
  }
  return tools;
}

export function listTemplates(orgId: string): Promise<Template[]> {
  return call(orgApi()["agent-templates"].$get({ param: { orgId } })).then((r) => r.templates);
}

export function OrgAgents({ org }: { org: OrgRef }) {
  const [agents, setAgents] = useState<Agent[]>([]);
  const [templates, setTemplates] = useState<Template[]>([]);
  const [members, setMembers] = useState<OrgMember[]>([]);
  const [secrets, setSecrets] = useState<string[]>([]);
  /** The agent being edited (its id), "new", or null when only the list shows. */
  const [editing, setEditing] = useState<string | null>(null);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  async function reload() {
    try {
      setAgents((await call(orgApi().agents.$get({ param: { orgId: org.id } }))).agents);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }
  useEffect(() => {
    void reload();
    listTemplates(org.id).then(setTemplates, (e: Error) => setError(e.message));
    listMembers(org.id).then(setMembers, () => {});
    call(orgApi().secrets.$get({ param: { orgId: org.id } })).then(
      (r) => setSecrets(r.secrets.map((s) => s.name)),
      () => setSecrets([]),
    );
  }, [org.id]);

  function open(id: string, next: Draft) {
    setEditing(id);
    setDraft(next);
    setNote(null);
    setError(null);
  }
  const set = (patch: Partial<Draft>) => setDraft({ ...draft, ...patch });

  async function save(event: Event) {
    event.preventDefault();
    const body = {
      name: draft.name,
      handle: draft.handle,
      systemPrompt: draft.systemPrompt,
      trigger: draft.trigger,
      tools: toolsOf(draft),
      ...(draft.model.trim() ? { model: draft.model.trim() } : {}),
    };
    try {
      if (editing === "new") await call(orgApi().agents.$post({ param: { orgId: org.id }, json: body }));
      else if (editing) {
        await call(orgApi().agents[":agentId"].$patch({ param: { orgId: org.id, agentId: editing }, json: body }));
      }
      setNote(`Saved @${draft.handle}.`);
      setEditing(null);
      await reload();
    } catch (e) {
      setError((e as Error).message);
    }
  }
  async function remove(agent: Agent) {
    if (!confirm(`Delete @${agent.handle}? It leaves every chat.`)) return;
    try {
      await call(orgApi().agents[":agentId"].$delete({ param: { orgId: org.id, agentId: agent.id } }));
      await reload();
    } catch (e) {
      setError((e as Error).message);
    }
  }

  return (
    <section class="admin-screen" aria-labelledby="agents-title" data-testid="agents-admin">
      <h2 id="agents-title">Agents</h2>
      <ul class="plain">
        {agents.map((a) => (
          <li key={a.id} data-agent={a.handle}>
            <strong>{a.name}</strong> @{a.handle} <small class="muted">{a.model ?? "default model"}</small>{" "}
            <button type="button" class="link small" onClick={() => open(a.id, draftOf(a))}>
              edit
            </button>
            <button type="button" class="link small" onClick={() => void remove(a)}>
              delete
            </button>
          </li>
        ))}
        {agents.length === 0 && <li class="muted">No agents yet.</li>}
      </ul>
      <p>
        {templates.map((t) => (
          <button key={t.id} type="button" title={t.description} onClick={() => open("new", draftOf(t.agent))}>
            New from template: {t.agent.name}
          </button>
        ))}{" "}
        <button type="button" onClick={() => open("new", EMPTY)}>
          New agent
        </button>
      </p>
      {editing && (
        <AgentForm
          draft={draft}
          set={set}
          members={members}
          secrets={secrets}
          isNew={editing === "new"}
          onSubmit={save}
          onCancel={() => setEditing(null)}
        />
      )}
      {note && (
        <p class="saved" role="status">
          {note}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

function AgentForm({
  draft,
  set,
  members,
  secrets,
  isNew,
  onSubmit,
  onCancel,
}: {
  draft: Draft;
  set: (patch: Partial<Draft>) => void;
  members: OrgMember[];
  secrets: string[];
  isNew: boolean;
  onSubmit: (event: Event) => void;
  onCancel: () => void;
}) {
  const setAllow = (i: number, patch: Partial<Draft["allow"][number]>) =>
    set({ allow: draft.allow.map((a, j) => (j === i ? { ...a, ...patch } : a)) });
  const setHeader = (i: number, patch: Partial<Draft["headers"][number]>) =>
    set({ headers: draft.headers.map((h, j) => (j === i ? { ...h, ...patch } : h)) });
  return (
    <form class="stacked" onSubmit={onSubmit} aria-label={isNew ? "New agent" : `Edit @${draft.handle}`}>
      <label>
        Name{" "}
        <input name="agentName" required value={draft.name} onInput={(e) => set({ name: e.currentTarget.value })} />
      </label>
      <label>
        Handle{" "}
        <input
          name="agentHandle"
          required
          pattern="[a-z0-9][a-z0-9_\-]{0,31}"
          value={draft.handle}
          onInput={(e) => set({ handle: e.currentTarget.value })}
        />
      </label>
      <label>
        Prompt{" "}
        <textarea
          name="agentPrompt"
          rows={3}
          value={draft.systemPrompt}
          onInput={(e) => set({ systemPrompt: e.currentTarget.value })}
        />
      </label>
      <label>
        Model{" "}
        <input
          name="agentModel"
          placeholder="default (parlor-local without a key)"
          value={draft.model}
          onInput={(e) => set({ model: e.currentTarget.value })}
        />
      </label>
      <label>
        Wakes on{" "}
        <select
          name="agentTrigger"
          value={draft.trigger}
          onChange={(e) => set({ trigger: e.currentTarget.value as Draft["trigger"] })}
        >
          <option value="mention">an @mention</option>
          <option value="always">every message</option>
        </select>
      </label>
      <label>
        <input
          type="checkbox"
          name="agentHistory"
          checked={draft.history}
          onChange={(e) => set({ history: e.currentTarget.checked })}
        />{" "}
        may search the chat's history
      </label>
      <fieldset>
        <legend>HTTP tool: allowed addresses</legend>
        {draft.allow.map((a, i) => (
          <div key={i} class="row">
            <label>
              Base URL{" "}
              <input
                name={`allowBaseUrl${i}`}
                type="url"
                value={a.baseUrl}
                onInput={(e) => setAllow(i, { baseUrl: e.currentTarget.value })}
              />
            </label>
            {METHODS.map((m) => (
              <label key={m} class="check">
                <input
                  type="checkbox"
                  checked={a.methods.includes(m)}
                  onChange={(e) =>
                    setAllow(i, {
                      methods: e.currentTarget.checked ? [...a.methods, m] : a.methods.filter((x) => x !== m),
                    })
                  }
                />
                {m}
              </label>
            ))}
            <button
              type="button"
              class="link small"
              onClick={() => set({ allow: draft.allow.filter((_, j) => j !== i) })}
            >
              remove address
            </button>
          </div>
        ))}
        <button
          type="button"
          class="small-button"
          onClick={() => set({ allow: [...draft.allow, { baseUrl: "", methods: ["GET"] }] })}
        >
          add address
        </button>
      </fieldset>
      {draft.allow.length > 0 && (
        <>
          <fieldset>
            <legend>Headers (secrets by name)</legend>
            {draft.headers.map((h, i) => (
              <div key={i} class="row">
                <label>
                  Header{" "}
                  <input
                    name={`headerName${i}`}
                    value={h.name}
                    onInput={(e) => setHeader(i, { name: e.currentTarget.value })}
                  />
                </label>
                <label>
                  Value{" "}
                  <input
                    name={`headerValue${i}`}
                    value={h.value}
                    placeholder="Bearer {{secret:NAME}}"
                    onInput={(e) => setHeader(i, { value: e.currentTarget.value })}
                  />
                </label>
                <label>
                  Secret{" "}
                  <select
                    name={`headerSecret${i}`}
                    value=""
                    onChange={(e) => {
                      const name = e.currentTarget.value;
                      if (name) setHeader(i, { value: `${h.value}{{secret:${name}}}` });
                    }}
                  >
                    <option value="">insert a secret…</option>
                    {secrets.map((s) => (
                      <option key={s} value={s}>
                        {s}
                      </option>
                    ))}
                  </select>
                </label>
                <button
                  type="button"
                  class="link small"
                  onClick={() => set({ headers: draft.headers.filter((_, j) => j !== i) })}
                >
                  remove header
                </button>
              </div>
            ))}
            <button
              type="button"
              class="small-button"
              onClick={() => set({ headers: [...draft.headers, { name: "", value: "" }] })}
            >
              add header
            </button>
          </fieldset>
          <fieldset>
            <legend>Approval of POST, PUT, PATCH and DELETE</legend>
            <label>
              Who decides{" "}
              <select
                name="approvers"
                value={draft.approvers}
                onChange={(e) => set({ approvers: e.currentTarget.value as Approvers })}
              >
                <option value="initiator">who asked</option>
                <option value="members">any chat member</option>
                <option value="admins">org admins</option>
                <option value="named">named people</option>
              </select>
            </label>
            {draft.approvers === "named" && (
              <fieldset>
                <legend>Named approvers</legend>
                {members.map((m) => (
                  <label key={m.userId} class="check">
                    <input
                      type="checkbox"
                      checked={draft.namedApprovers.includes(m.userId)}
                      onChange={(e) =>
                        set({
                          namedApprovers: e.currentTarget.checked
                            ? [...draft.namedApprovers, m.userId]
                            : draft.namedApprovers.filter((u) => u !== m.userId),
                        })
                      }
                    />
                    {m.name}
                  </label>
                ))}
              </fieldset>
            )}
            <label>
              Approvals needed{" "}
              <input
                name="quorum"
                type="number"
                min={1}
                max={20}
                value={draft.quorum}
                onInput={(e) => set({ quorum: e.currentTarget.value })}
              />
            </label>
            <label>
              Seconds to decide{" "}
              <input
                name="timeoutSeconds"
                type="number"
                min={10}
                max={86400}
                value={draft.timeoutSeconds}
                onInput={(e) => set({ timeoutSeconds: e.currentTarget.value })}
              />
            </label>
            <label>
              When nobody decides in time{" "}
              <select
                name="onExpiry"
                value={draft.onExpiry}
                onChange={(e) => set({ onExpiry: e.currentTarget.value as Draft["onExpiry"] })}
              >
                <option value="deny">deny it</option>
                <option value="wait">keep waiting (with a notice)</option>
              </select>
            </label>
          </fieldset>
        </>
      )}
      <p>
        <button type="submit">{isNew ? "Create agent" : "Save agent"}</button>{" "}
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </p>
    </form>
  );
}
