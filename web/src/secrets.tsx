/**
 * The org's secrets screen, for admins: names, grants and when each was last used, never a value (the API never
 * answers one). Store one, rotate its value, change who may use it, or delete it after a confirmation. Agents use
 * one in a header value as `{{secret:NAME}}`. A refusal (say, a name already taken: 409) shows the server's message.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { SecretGrants } from "../../protocol/secrets";
import { call, client, type OrgRef } from "./api";
import { type Choice, GrantsEditor, grantsText } from "./secret-grants";

type Secret = Awaited<ReturnType<typeof listSecrets>>[number];

const secretsApi = () => client.api.orgs[":orgId"].secrets;

function listSecrets(orgId: string) {
  return call(secretsApi().$get({ param: { orgId } })).then((r) => r.secrets);
}

/** The chats and agents a grant can name. */
async function loadChoices(orgId: string): Promise<{ chats: Choice[]; agents: Choice[] }> {
  const org = client.api.orgs[":orgId"];
  const [chats, agents] = await Promise.all([
    call(org.chats.$get({ param: { orgId }, query: {} })).then((r) => r.chats),
    call(org.agents.$get({ param: { orgId } })).then((r) => r.agents),
  ]);
  return {
    chats: chats.map((c) => ({ id: c.id, label: `# ${c.title}` })),
    agents: agents.map((a) => ({ id: a.id, label: `${a.name} (@${a.handle})` })),
  };
}

export function OrgSecrets({ org }: { org: OrgRef }) {
  const [secrets, setSecrets] = useState<Secret[] | null>(null);
  const [choices, setChoices] = useState<{ chats: Choice[]; agents: Choice[] }>({ chats: [], agents: [] });
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  /** The secret whose row is open for a change, and which change. */
  const [open, setOpen] = useState<{ name: string; what: "rotate" | "grants" | "delete" } | null>(null);

  /** Runs a change, then reloads; a refusal's message is shown. Returns whether it succeeded. */
  async function run(action: () => Promise<unknown>, done?: string): Promise<boolean> {
    try {
      await action();
      setSecrets(await listSecrets(org.id));
      setError(null);
      setStatus(done ?? null);
      return true;
    } catch (e) {
      setError((e as Error).message);
      setStatus(null);
      return false;
    }
  }
  useEffect(() => {
    if (org.role !== "admin") return;
    void run(async () => {});
    loadChoices(org.id).then(setChoices, (e: Error) => setError(e.message));
  }, [org.id, org.role]);
  if (org.role !== "admin") return <p class="hint">Secrets are for the org's admins.</p>;

  const param = (name: string) => ({ orgId: org.id, name });
  return (
    <section class="admin-screen secrets-screen" aria-labelledby="secrets-title" data-testid="secrets-admin">
      <h2 id="secrets-title">Secrets</h2>
      <p class="muted">
        Agents put a secret in a header value as <code>{"{{secret:NAME}}"}</code>. Values are never shown again.
      </p>
      {secrets === null ? (
        <p role="status">Loading secrets…</p>
      ) : secrets.length === 0 ? (
        <p>No secrets yet.</p>
      ) : (
        <ul class="secret-rows">
          {secrets.map((secret) => (
            <li key={secret.name} data-secret={secret.name}>
              <div class="secret-facts">
                <code>{secret.name}</code>
                <span>{grantsText(secret.grants)}</span>
                <span class="muted">
                  {secret.lastUsedAt ? `used ${new Date(secret.lastUsedAt).toLocaleString()}` : "never used"}
                </span>
              </div>
              <div class="actions">
                {(["rotate", "grants", "delete"] as const).map((what) => (
                  <button
                    key={what}
                    type="button"
                    class="small-button"
                    aria-expanded={open?.name === secret.name && open.what === what}
                    onClick={() =>
                      setOpen(open?.name === secret.name && open.what === what ? null : { name: secret.name, what })
                    }
                  >
                    {{ rotate: "Rotate", grants: "Change grants", delete: "Delete" }[what]}
                    <span class="visually-hidden"> {secret.name}</span>
                  </button>
                ))}
              </div>
              {open?.name === secret.name && open.what === "rotate" && (
                <RotateForm
                  secret={secret}
                  onCancel={() => setOpen(null)}
                  onRotate={(value) =>
                    run(
                      () => call(secretsApi()[":name"].$patch({ param: param(secret.name), json: { value } })),
                      `${secret.name} rotated.`,
                    ).then((ok) => ok && setOpen(null))
                  }
                />
              )}
              {open?.name === secret.name && open.what === "grants" && (
                <GrantsForm
                  secret={secret}
                  choices={choices}
                  onCancel={() => setOpen(null)}
                  onSave={(grants) =>
                    run(
                      () => call(secretsApi()[":name"].$patch({ param: param(secret.name), json: { grants } })),
                      `${secret.name}: grants saved.`,
                    ).then((ok) => ok && setOpen(null))
                  }
                />
              )}
              {open?.name === secret.name && open.what === "delete" && (
                <ConfirmDelete
                  name={secret.name}
                  onCancel={() => setOpen(null)}
                  onDelete={() =>
                    void run(
                      () => call(secretsApi()[":name"].$delete({ param: param(secret.name) })),
                      `${secret.name} deleted.`,
                    ).then((ok) => ok && setOpen(null))
                  }
                />
              )}
            </li>
          ))}
        </ul>
      )}
      <p class="note" role="status" data-testid="secrets-status">
        {status ?? ""}
      </p>
      {error && (
        <p class="error" role="alert" data-testid="secrets-error">
          {error}
        </p>
      )}
      <CreateSecret
        choices={choices}
        onCreate={(name, value, grants) =>
          run(
            () => call(secretsApi().$post({ param: { orgId: org.id }, json: { name, value, grants } })),
            `${name} stored.`,
          )
        }
      />
    </section>
  );
}

function CreateSecret({
  choices,
  onCreate,
}: {
  choices: { chats: Choice[]; agents: Choice[] };
  onCreate: (name: string, value: string, grants: SecretGrants) => Promise<boolean>;
}) {
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [grants, setGrants] = useState<SecretGrants>({ chats: "all" });
  async function submit(event: Event) {
    event.preventDefault();
    if (await onCreate(name.trim(), value, grants)) {
      setName("");
      setValue("");
      setGrants({ chats: "all" });
    }
  }
  return (
    <form class="stacked" onSubmit={(e) => void submit(e)} aria-labelledby="new-secret-heading">
      <h3 id="new-secret-heading">New secret</h3>
      <label>
        Name <small class="muted">(A–Z, 0–9 and _, starting with a letter)</small>
        <input
          name="secretName"
          autocomplete="off"
          placeholder="API_TOKEN"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </label>
      <label>
        Value
        <input
          name="secretValue"
          type="password"
          autocomplete="new-password"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
      </label>
      <GrantsEditor
        idPrefix="new-secret"
        grants={grants}
        chats={choices.chats}
        agents={choices.agents}
        onChange={setGrants}
      />
      <button type="submit">Store secret</button>
    </form>
  );
}

function RotateForm({
  secret,
  onRotate,
  onCancel,
}: {
  secret: Secret;
  onRotate: (value: string) => Promise<unknown>;
  onCancel: () => void;
}) {
  const [value, setValue] = useState("");
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  return (
    <form
      class="inline"
      onSubmit={(e) => {
        e.preventDefault();
        void onRotate(value);
      }}
      onKeyDown={(e) => e.key === "Escape" && onCancel()}
    >
      <label class="visually-hidden" for={`rotate-${secret.name}`}>
        New value for {secret.name}
      </label>
      <input
        id={`rotate-${secret.name}`}
        ref={input}
        name="rotateValue"
        type="password"
        autocomplete="new-password"
        placeholder="new value"
        value={value}
        onInput={(e) => setValue(e.currentTarget.value)}
      />
      <button type="submit">Save new value</button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </form>
  );
}

function GrantsForm({
  secret,
  choices,
  onSave,
  onCancel,
}: {
  secret: Secret;
  choices: { chats: Choice[]; agents: Choice[] };
  onSave: (grants: SecretGrants) => Promise<unknown>;
  onCancel: () => void;
}) {
  const [grants, setGrants] = useState<SecretGrants>(secret.grants);
  return (
    <form
      class="stacked"
      onSubmit={(e) => {
        e.preventDefault();
        void onSave(grants);
      }}
      onKeyDown={(e) => e.key === "Escape" && onCancel()}
    >
      <GrantsEditor
        idPrefix={`grants-${secret.name}`}
        grants={grants}
        chats={choices.chats}
        agents={choices.agents}
        onChange={setGrants}
      />
      <div class="actions">
        <button type="submit">Save grants</button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function ConfirmDelete({ name, onDelete, onCancel }: { name: string; onDelete: () => void; onCancel: () => void }) {
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => yes.current?.focus(), []);
  return (
    <div class="confirm">
      <span>Delete {name}? Agents that use it fail from their next call.</span>{" "}
      <button
        type="button"
        class="small-button danger"
        ref={yes}
        onClick={onDelete}
        onKeyDown={(e) => e.key === "Escape" && onCancel()}
      >
        Yes, delete
      </button>{" "}
      <button type="button" class="small-button" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
