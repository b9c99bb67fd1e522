/**
 * The members screen (main pane): the org's members with their roles. Admins invite people, set a member's role,
 * and remove members after a confirmation; each member's caps show as the billing screen sets them (admins edit
 * them there). Any member may leave the org; the server refuses the last admin (409) and its message is shown. Under
 * Clerk a change goes to Clerk and shows once its webhook arrives.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { call, client, type OrgMember, type OrgRef, session } from "./api";
import { InviteForm } from "./invite-form";
import { listMembers, membersChanged } from "./members";

type Role = OrgMember["role"];
type Caps = Awaited<ReturnType<typeof loadCaps>>;

const PENDING_NOTE = "Sent to Clerk: the change shows here once Clerk confirms it.";

/** Members' caps as billing keeps them (admins only: the API refuses anyone else). */
function loadCaps(orgId: string) {
  return call(client.api.orgs[":orgId"].billing.$get({ param: { orgId } })).then((r) => r.billing.members);
}

const capText = (n: number | null, unit: string) => (n === null ? `no ${unit} cap` : `${n.toLocaleString()} ${unit}`);

export function MembersScreen({
  org,
  onRoleChanged,
  onLeft,
  onOpenBilling,
}: {
  org: OrgRef;
  /** The caller's own role in the org changed (an admin made themselves a member). */
  onRoleChanged: (role: Role) => void;
  /** The caller left the org. */
  onLeft: () => void;
  /** Opens the billing screen, where caps are set. */
  onOpenBilling: () => void;
}) {
  const me = session.user();
  const isAdmin = org.role === "admin";
  const [members, setMembers] = useState<OrgMember[] | null>(null);
  const [caps, setCaps] = useState<Caps>([]);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const membersApi = client.api.orgs[":orgId"].members;

  async function reload() {
    const [list, capList] = await Promise.all([listMembers(org.id), isAdmin ? loadCaps(org.id) : []]);
    setMembers(list);
    setCaps(capList);
  }
  /** Runs a change, then reloads; a refusal's message is shown. Returns whether it succeeded. */
  async function run(action: () => Promise<{ pending?: true }>): Promise<boolean> {
    try {
      const result = await action();
      setNote(result.pending ? PENDING_NOTE : null);
      setError(null);
      await reload();
      membersChanged.dispatchEvent(new Event("change"));
      return true;
    } catch (e) {
      setError((e as Error).message);
      // Drawn again so a refused role change puts the select back to the stored role.
      setMembers((list) => list && [...list]);
      return false;
    }
  }
  useEffect(() => {
    setMembers(null);
    reload().catch((e: Error) => setError(e.message));
  }, [org.id, org.role]);

  async function setRole(member: OrgMember, role: Role) {
    const ok = await run(() =>
      call(membersApi.$post({ param: { orgId: org.id }, json: { userId: member.userId, role } })),
    );
    if (ok && member.userId === me) onRoleChanged(role);
  }
  async function remove(member: OrgMember) {
    const ok = await run(() => call(membersApi.$delete({ param: { orgId: org.id }, json: { userId: member.userId } })));
    if (ok) setRemoving(null);
  }
  async function leave() {
    if (!me) return;
    try {
      await call(membersApi.$delete({ param: { orgId: org.id }, json: { userId: me } }));
      onLeft();
    } catch (e) {
      setError((e as Error).message);
    }
  }

  return (
    <section class="admin-screen members-screen" aria-labelledby="members-title" data-testid="members-admin">
      <h2 id="members-title">Members of {org.name}</h2>
      {members === null ? (
        <p role="status">{error ?? "Loading members…"}</p>
      ) : (
        <ul class="member-rows">
          {members.map((m) => {
            const capsOf = caps.find((c) => c.userId === m.userId)?.limits;
            return (
              <li key={m.userId} data-user={m.userId}>
                <span class="who">
                  <strong>{m.name}</strong>
                  {m.userId === me && " (you)"}
                  {m.name !== m.userId && <small class="muted"> {m.userId}</small>}
                </span>
                {isAdmin ? (
                  <span class="role-select">
                    <label for={`role-${m.userId}`} class="visually-hidden">
                      Role of {m.name}
                    </label>
                    <select
                      id={`role-${m.userId}`}
                      name="memberRole"
                      value={m.role}
                      onChange={(e) => void setRole(m, e.currentTarget.value as Role)}
                    >
                      <option value="member">member</option>
                      <option value="admin">admin</option>
                    </select>
                  </span>
                ) : (
                  <span class={`role role-${m.role}`}>{m.role}</span>
                )}
                {isAdmin && (
                  <span class="caps-summary" data-testid="member-caps">
                    {capsOf
                      ? `${capText(capsOf.agentRunsPerPeriod, "runs")}, ${capText(capsOf.tokensPerPeriod, "tokens")}`
                      : "no caps"}
                  </span>
                )}
                {isAdmin && m.userId !== me && (
                  <RemoveControl
                    member={m}
                    org={org}
                    confirming={removing === m.userId}
                    onAsk={() => setRemoving(m.userId)}
                    onCancel={() => setRemoving(null)}
                    onConfirm={() => void remove(m)}
                  />
                )}
              </li>
            );
          })}
        </ul>
      )}
      {isAdmin && (
        <p class="muted">
          Caps count per billing period and are kept with the org's billing.{" "}
          <button type="button" class="inline-link" onClick={onOpenBilling}>
            Edit caps
          </button>
        </p>
      )}
      {note && <p class="note">{note}</p>}
      {error && members !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {isAdmin && <InviteForm org={org} onInvited={() => void run(async () => ({}))} />}
      <h3>Leave</h3>
      <LeaveControl org={org} onLeave={() => void leave()} />
    </section>
  );
}

/** "Remove", then an inline confirmation that takes the focus (Esc or Cancel backs out). */
function RemoveControl({
  member,
  org,
  confirming,
  onAsk,
  onCancel,
  onConfirm,
}: {
  member: OrgMember;
  org: OrgRef;
  confirming: boolean;
  onAsk: () => void;
  onCancel: () => void;
  onConfirm: () => void;
}) {
  const confirmButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
  }, [confirming]);
  if (!confirming)
    return (
      <button type="button" class="small-button" onClick={onAsk}>
        Remove<span class="visually-hidden"> {member.name}</span>
      </button>
    );
  return (
    <span class="confirm">
      <span>
        Remove {member.name} from {org.name} and all its chats?
      </span>{" "}
      <button
        type="button"
        class="small-button danger"
        ref={confirmButton}
        onClick={onConfirm}
        onKeyDown={(e) => e.key === "Escape" && onCancel()}
      >
        Yes, remove
      </button>{" "}
      <button type="button" class="small-button" onClick={onCancel}>
        Cancel
      </button>
    </span>
  );
}

function LeaveControl({ org, onLeave }: { org: OrgRef; onLeave: () => void }) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" class="small-button" onClick={() => setAsking(true)}>
        Leave {org.name}
      </button>
    );
  return (
    <span class="confirm">
      <span>You lose access to all its chats.</span>{" "}
      <button type="button" class="small-button danger" onClick={onLeave}>
        Yes, leave
      </button>{" "}
      <button type="button" class="small-button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
