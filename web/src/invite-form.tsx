/** Admins bring people into an org: an email invitation under Clerk; in development, a development user by name. */
import { useState } from "preact/hooks";
import { call, client, type OrgMember, type OrgRef } from "./api";

type Role = OrgMember["role"];

export function InviteForm({ org, onInvited }: { org: OrgRef; onInvited: () => void }) {
  const [who, setWho] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  async function invite(event: Event) {
    event.preventDefault();
    const value = who.trim();
    if (!value) return setStatus({ ok: false, text: "Type an email address (or, in development, a name)." });
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
    <form class="invite" onSubmit={invite} aria-labelledby="invite-heading">
      <h3 id="invite-heading">Invite someone</h3>
      <div class="row">
        <label for="invite-who">Email (or, in development, a name)</label>
        <input
          id="invite-who"
          name="orgMember"
          autocomplete="off"
          placeholder="ada@example.com"
          value={who}
          onInput={(e) => setWho(e.currentTarget.value)}
        />
      </div>
      <div class="row">
        <label for="invite-role">Role</label>
        <select
          id="invite-role"
          name="inviteRole"
          value={role}
          onChange={(e) => setRole(e.currentTarget.value as Role)}
        >
          <option value="member">member</option>
          <option value="admin">admin</option>
        </select>
        <button type="submit">Invite</button>
      </div>
      <p class={status?.ok === false ? "error" : "note"} role="status" data-testid="invite-status">
        {status?.text ?? ""}
      </p>
    </form>
  );
}
