/**
 * The org's members and their roles, shown to every member in the sidebar. Admins add a member by user id with a
 * role, switch a member's role and remove members; any member may leave the org (the server refuses the last admin,
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
  const [userId, setUserId] = useState("");
  const [role, setRole] = useState<Role>("member");
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

  function add(event: Event) {
    event.preventDefault();
    const id = userId.trim();
    if (!id) return;
    void run(() => call(membersApi.$post({ param: { orgId: org.id }, json: { userId: id, role } }))).then((ok) => {
      if (ok) setUserId("");
    });
  }
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
      {isAdmin && (
        <form class="inline" onSubmit={add}>
          <input
            name="orgMember"
            placeholder="add member by user id"
            value={userId}
            onInput={(e) => setUserId(e.currentTarget.value)}
          />
          <select name="orgMemberRole" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            <option value="member">member</option>
            <option value="admin">admin</option>
          </select>
          <button type="submit">+</button>
        </form>
      )}
      <button type="button" class="link small" onClick={() => void leave()}>
        Leave org
      </button>
      {note && <p class="hint-inline">{note}</p>}
      {error && <p class="error">{error}</p>}
    </section>
  );
}
