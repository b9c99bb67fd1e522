/**
 * The org's members and their roles, shown to every member in the sidebar. Admins invite people (by email under
 * Clerk, by name in development: `POST …/invitations`), switch a member's role and remove members; any member may leave the org (the server refuses the last admin,
 * 409, and its message is shown). Under Clerk a change is sent to Clerk and shows once its webhook arrives.
 */
import { useEffect, useState } from "preact/hooks";
import { call, client, type OrgMember, type OrgRef, session } from "./api";

type Role = OrgMember["role"];

export function listMembers(orgId: string, q?: string): Promise<OrgMember[]> {
  const query = q ? { q } : {};
  return call(client.api.orgs[":orgId"].members.$get({ param: { orgId }, query })).then((r) => r.members);
}

const PENDING_NOTE = "Sent to Clerk: the change shows here once Clerk confirms it.";

export function OrgMembers({
  org,
  onRoleChanged,
  onLeft,
}: {
  org: OrgRef;
  /** The caller's own role in the org changed (an admin made themselves a member). */
  onRoleChanged: (role: Role) => void;
  /** The caller left the org. */
  onLeft: () => void;
}) {
  const me = session.user();
  const isAdmin = org.role === "admin";
  const [members, setMembers] = useState<OrgMember[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const membersApi = client.api.orgs[":orgId"].members;

  /** Runs a change, then reloads the list; a refusal's message is shown. Returns whether it succeeded. */
  async function run(action: () => Promise<{ pending?: true }>): Promise<boolean> {
    try {
      const result = await action();
      setNote(result.pending ? PENDING_NOTE : null);
      setError(null);
      setMembers(await listMembers(org.id));
      return true;
    } catch (e) {
      setError((e as Error).message);
      return false;
    }
  }
  useEffect(() => {
    setMembers([]);
    setNote(null);
    void run(async () => ({}));
  }, [org.id]);

  function setMemberRole(member: OrgMember, next: Role) {
    void run(() =>
      call(membersApi.$post({ param: { orgId: org.id }, json: { userId: member.userId, role: next } })),
    ).then((ok) => {
      if (ok && member.userId === me) onRoleChanged(next);
    });
  }
  function remove(member: OrgMember) {
    if (!confirm(`Remove ${member.name} from ${org.name} and all its chats?`)) return;
    void run(() => call(membersApi.$delete({ param: { orgId: org.id }, json: { userId: member.userId } })));
  }
  async function leave() {
    if (!me || !confirm(`Leave ${org.name}? You lose access to all its chats.`)) return;
    try {
      await call(membersApi.$delete({ param: { orgId: org.id }, json: { userId: me } }));
      onLeft();
    } catch (e) {
      setError((e as Error).message);
    }
  }

  return (
    <section>
      <h2>Org members</h2>
      <ul data-testid="members">
        {members.map((m) => (
          <li key={m.userId} data-user={m.userId}>
            {m.name} {m.name !== m.userId && <small class="muted">({m.userId})</small>}{" "}
            <small class={`role role-${m.role}`}>{m.role}</small>
            {m.userId === me && <small class="muted"> (you)</small>}
            {isAdmin && (
              <>
                {" "}
                <button
                  type="button"
                  class="link small"
                  onClick={() => setMemberRole(m, m.role === "admin" ? "member" : "admin")}
                >
                  {m.role === "admin" ? "make member" : "make admin"}
                </button>
                {m.userId !== me && (
                  <button type="button" class="link small" onClick={() => remove(m)}>
                    remove
                  </button>
                )}
              </>
            )}
          </li>
        ))}
      </ul>
      {isAdmin && <InviteForm org={org} onInvited={() => void run(async () => ({}))} />}
      <button type="button" class="link small" onClick={() => void leave()}>
        Leave org
      </button>
      {note && <p class="hint-inline">{note}</p>}
      {error && <p class="error">{error}</p>}
    </section>
  );
}

/** Admins bring people in: an email invitation under Clerk; in development, a development user by name. */
function InviteForm({ org, onInvited }: { org: OrgRef; onInvited: () => void }) {
  const [who, setWho] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  async function invite(event: Event) {
    event.preventDefault();
    const value = who.trim();
    if (!value) return;
    try {
      const json = value.includes("@") ? { email: value, role } : { name: value, role };
      const { invitation } = await call(
        client.api.orgs[":orgId"].invitations.$post({ param: { orgId: org.id }, json }),
      );
      setStatus({
        ok: true,
        text:
          invitation.status === "pending"
            ? `Invitation sent to ${invitation.email}.`
            : `Added ${invitation.name}: they sign in as ${invitation.userId}.`,
      });
      setWho("");
      onInvited();
    } catch (e) {
      setStatus({ ok: false, text: (e as Error).message });
    }
  }
  return (
    <form class="inline" onSubmit={invite} aria-label="Invite someone to the org">
      <label class="visually-hidden" for="invite-who">
        Email (or, in development, a name)
      </label>
      <input
        id="invite-who"
        name="orgMember"
        placeholder="invite by email or name"
        value={who}
        onInput={(e) => setWho(e.currentTarget.value)}
      />
      <label class="visually-hidden" for="invite-role">
        Role
      </label>
      <select id="invite-role" name="inviteRole" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
        <option value="member">member</option>
        <option value="admin">admin</option>
      </select>
      <button type="submit">Invite</button>
      {status && (
        <p class={status.ok ? "hint-inline" : "error"} role="status" data-testid="invite-status">
          {status.text}
        </p>
      )}
    </form>
  );
}

/** Adds an org member to a chat: search the org's members by name and pick one. Never an id, never an outsider. */
export function ChatMemberPicker({ org, onAdd }: { org: OrgRef; onAdd: (userId: string) => Promise<void> }) {
  const [q, setQ] = useState("");
  const [found, setFound] = useState<OrgMember[]>([]);
  useEffect(() => {
    const text = q.trim();
    if (!text) return setFound([]);
    let stale = false;
    const timer = setTimeout(() => {
      listMembers(org.id, text).then(
        (members) => !stale && setFound(members.slice(0, 8)),
        () => !stale && setFound([]),
      );
    }, 150);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [q, org.id]);
  const [problem, setProblem] = useState<string | null>(null);
  /** Enter adds the member whose name is the text typed (any case), or the only one found. */
  async function addTyped(event: Event) {
    event.preventDefault();
    const text = q.trim();
    if (!text) return;
    const members = await listMembers(org.id, text).catch(() => []);
    const pick =
      members.find((m) => m.name.toLowerCase() === text.toLowerCase()) ?? (members.length === 1 ? members[0] : null);
    if (!pick)
      return setProblem(members.length === 0 ? `no org member named like “${text}”` : "pick one from the list");
    setProblem(null);
    await onAdd(pick.userId);
    setQ("");
    setFound([]);
  }
  return (
    <form class="member-picker" onSubmit={(e) => void addTyped(e)}>
      <label for="chat-member-search">Add to chat</label>{" "}
      <input
        id="chat-member-search"
        name="chatMember"
        type="search"
        placeholder="search org members by name"
        autocomplete="off"
        value={q}
        onInput={(e) => setQ(e.currentTarget.value)}
      />
      {found.length > 0 && (
        <ul class="plain" data-testid="member-results">
          {found.map((m) => (
            <li key={m.userId}>
              <button
                type="button"
                class="small-button"
                onClick={() =>
                  void onAdd(m.userId).then(() => {
                    setQ("");
                    setFound([]);
                  })
                }
              >
                Add {m.name}
              </button>
            </li>
          ))}
        </ul>
      )}
      {problem && <span class="error"> {problem}</span>}
    </form>
  );
}
