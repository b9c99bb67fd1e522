/**
 * The org's members: looked up by name (`GET …/members?q=`), listed in the sidebar with their roles for every member,
 * and added to chats by name. The members screen (members-screen.tsx) changes roles and membership; it says so on
 * `membersChanged`, and the sidebar's list reloads.
 */
import { useEffect, useState } from "preact/hooks";
import { call, client, type OrgMember, type OrgRef, session } from "./api";
import { useListRefresh } from "./list-refresh";

export function listMembers(orgId: string, q?: string): Promise<OrgMember[]> {
  const query = q ? { q } : {};
  return call(client.api.orgs[":orgId"].members.$get({ param: { orgId }, query })).then((r) => r.members);
}

/** Fired when the members screen changed who is in an org or their role. */
export const membersChanged = new EventTarget();

/** The sidebar's members: names and roles, and the way to the members screen. */
export function SidebarMembers({ org, onOpen }: { org: OrgRef; onOpen: () => void }) {
  const me = session.user();
  const [members, setMembers] = useState<OrgMember[]>([]);
  const [error, setError] = useState<string | null>(null);
  // Polled too: people join and leave from elsewhere (another admin, Clerk's webhooks, someone leaving).
  const [reloads, setReloads] = useState(0);
  useListRefresh(() => setReloads((n) => n + 1));
  useEffect(() => {
    const load = () =>
      listMembers(org.id).then(
        (list) => {
          setMembers(list);
          setError(null);
        },
        (e: Error) => setError(e.message),
      );
    void load();
    membersChanged.addEventListener("change", load);
    return () => membersChanged.removeEventListener("change", load);
  }, [org.id, reloads]);
  return (
    <section aria-labelledby="members-heading">
      <h2 id="members-heading">Members</h2>
      <ul data-testid="members" class="member-names">
        {members.map((m) => (
          <li key={m.userId} data-user={m.userId}>
            {m.name} <small class={`role role-${m.role}`}>{m.role}</small>
            {m.userId === me && <small class="muted-dark"> (you)</small>}
          </li>
        ))}
      </ul>
      {error && <p class="error">{error}</p>}
      <button type="button" class="link" data-testid="open-members" onClick={onOpen}>
        {org.role === "admin" ? "Manage members" : "All members"}
      </button>
    </section>
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
