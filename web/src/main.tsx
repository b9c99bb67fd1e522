/**
 * The Parlor web client: sign in (Clerk's sign-in when `GET /api/config` names a publishable key, development
 * sign-in when it allows that), pick an org and a chat, and talk.
 */
import type { Clerk } from "@clerk/clerk-js";
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { AdminNav, AdminScreen, type AdminScreenName, isAdminScreen } from "./admin";
import { type ChatRef, call, client, type OrgRef, session } from "./api";
import { ChatBackups } from "./backups";
import { OrgBilling } from "./billing";
import { ChatList } from "./chat-list";
import { ChatRoomView } from "./chat-room";
import { Marketplace } from "./marketplace";
import { SidebarMembers } from "./members";
import { MembersScreen } from "./members-screen";
import { OrgList } from "./org-list";
import { OrgRename } from "./org-rename";
import { SearchBox } from "./search";

type SignInMode = { kind: "dev" } | { kind: "clerk"; clerk: Clerk } | { kind: "none" };

/** Asks the server how to sign in; Clerk's code is fetched only when a publishable key is named. */
function Root() {
  const [mode, setMode] = useState<SignInMode | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    // Asked again (1 s doubling to 30 s) while the server cannot answer, say while a dev server reloads.
    async function load(delay: number): Promise<void> {
      try {
        const { clerkPublishableKey, devSignIn } = await call(client.api.config.$get());
        if (clerkPublishableKey) {
          const { startClerk } = await import("./clerk");
          const clerk = await startClerk(clerkPublishableKey);
          if (!cancelled) setMode({ kind: "clerk", clerk });
        } else if (!cancelled) setMode(devSignIn ? { kind: "dev" } : { kind: "none" });
      } catch (e) {
        if (cancelled) return;
        setError((e as Error).message);
        setTimeout(() => void load(Math.min(delay * 2, 30_000)), delay);
      }
    }
    void load(1000);
    return () => {
      cancelled = true;
    };
  }, []);
  if (!mode)
    return error ? (
      <p class="error">Could not load the sign-in configuration ({error}); trying again…</p>
    ) : (
      <p class="hint">Loading…</p>
    );
  return <App mode={mode} />;
}

function App({ mode }: { mode: SignInMode }) {
  const [user, setUser] = useState(session.user());
  const [org, setOrg] = useState<OrgRef | null>(null);
  const [chat, setChat] = useState<ChatRef | null>(null);
  /** What the main pane shows: the selected chat, its backups, the members screen, or an admin screen. */
  const [pane, setPane] = useState<"chat" | "backups" | "billing" | "marketplace" | "members" | AdminScreenName>(
    "chat",
  );
  /** Bumped to reload the chat list (after a restore made a chat). */
  const [chatsVersion, setChatsVersion] = useState(0);
  /** Bumped to reload the org list (after leaving an org or a role change). */
  const [orgsVersion, setOrgsVersion] = useState(0);
  /** The open chat's unread count as its socket sees it (the list's own count trails the room by a batch). */
  const [openUnread, setOpenUnread] = useState<{ chatId: string; unread: number } | null>(null);
  const signOut = () => {
    session.clear();
    setUser(null);
    setOrg(null);
    setChat(null);
    setPane("chat");
  };
  // A request refused as unauthenticated (an expired token) clears the session: back to sign-in.
  useEffect(() => session.onSignedOut(signOut), []);
  // Under Clerk, its session decides who is signed in (its sign-in form, its sign-out, another tab).
  useEffect(() => {
    if (mode.kind !== "clerk") return;
    return mode.clerk.addListener(({ user: signedIn }) => setUser(signedIn?.id ?? null));
  }, [mode]);
  if (!user) {
    if (mode.kind === "clerk") return <ClerkSignIn clerk={mode.clerk} />;
    if (mode.kind === "dev") return <SignIn onSignedIn={setUser} />;
    return <p class="hint">This server has no sign-in configured (no Clerk publishable key).</p>;
  }
  return (
    <div class="layout">
      <aside>
        <header>
          <strong>Parlor</strong>
          <span class="who">
            {user}{" "}
            <button type="button" onClick={signOut}>
              sign out
            </button>
          </span>
        </header>
        <OrgList
          key={orgsVersion}
          selected={org}
          onSelect={(o) => {
            setOrg(o);
            setChat(null);
            setPane("chat");
          }}
          onCreated={(o) => {
            setOrg(o);
            setChat(null);
            setPane("members");
          }}
        />
        {org && (
          <ChatList
            key={org.id}
            version={chatsVersion}
            org={org}
            selected={pane === "chat" || pane === "backups" ? chat : null}
            openUnread={openUnread}
            onSelect={(c) => {
              setChat(c);
              setPane("chat");
            }}
            onDeleted={(id) => {
              if (chat?.id === id) setChat(null);
            }}
          />
        )}
        {org && (
          <SearchBox
            key={org.id}
            scope={{ org }}
            onOpen={(c) => {
              setChat(c);
              setPane("chat");
            }}
          />
        )}
        {org && <SidebarMembers key={org.id} org={org} onOpen={() => setPane("members")} />}
        {org?.role === "admin" && (
          <section>
            <h2>Admin</h2>
            <OrgRename
              key={org.id}
              org={org}
              onRenamed={(name) => {
                setOrg({ ...org, name });
                setOrgsVersion((v) => v + 1);
              }}
            />
            <ul>
              <li class={pane === "billing" ? "selected" : ""}>
                <button type="button" class="link" onClick={() => setPane("billing")}>
                  Billing & usage
                </button>
              </li>
            </ul>
            <AdminNav pane={pane} onOpen={setPane} />
          </section>
        )}
        <section>
          <button type="button" class="link" data-testid="open-marketplace" onClick={() => setPane("marketplace")}>
            Marketplace
          </button>
        </section>
      </aside>
      <main>
        {pane === "marketplace" ? (
          <Marketplace key={org?.id ?? ""} org={org} />
        ) : org && pane === "members" ? (
          <MembersScreen
            key={org.id}
            org={org}
            onOpenBilling={() => setPane("billing")}
            onRoleChanged={(role) => {
              setOrg({ ...org, role });
              setOrgsVersion((v) => v + 1);
            }}
            onLeft={() => {
              setOrg(null);
              setChat(null);
              setPane("chat");
              setOrgsVersion((v) => v + 1);
            }}
          />
        ) : org && isAdminScreen(pane) ? (
          <AdminScreen org={org} screen={pane} />
        ) : org && pane === "billing" ? (
          <OrgBilling key={org.id} org={org} />
        ) : chat && org && pane === "backups" ? (
          <ChatBackups
            key={chat.id}
            chat={chat}
            org={org}
            onBack={() => setPane("chat")}
            onRestored={(restored) => {
              setChat(restored);
              setPane("chat");
              setChatsVersion((v) => v + 1);
            }}
          />
        ) : chat && org ? (
          <ChatRoomView
            key={chat.id}
            chat={chat}
            org={org}
            onBackups={() => setPane("backups")}
            onUpdated={() => setChatsVersion((v) => v + 1)}
            onUnread={(unread) => setOpenUnread({ chatId: chat.id, unread })}
          />
        ) : (
          <p class="hint">Pick or create a chat.</p>
        )}
      </main>
    </div>
  );
}

/** Clerk's own sign-in component, mounted into a div of ours. */
function ClerkSignIn({ clerk }: { clerk: Clerk }) {
  const node = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const div = node.current;
    if (!div) return;
    clerk.mountSignIn(div);
    return () => clerk.unmountSignIn(div);
  }, [clerk]);
  return (
    <div class="sign-in">
      <h1>Parlor</h1>
      <div ref={node} />
    </div>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (userId: string) => void }) {
  const [userId, setUserId] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  async function submit(event: Event) {
    event.preventDefault();
    try {
      const body = name.trim() ? { userId, name } : { userId };
      const { token } = await call(client.api.dev.token.$post({ json: body }));
      session.save(token, userId);
      onSignedIn(userId);
    } catch (e) {
      setError((e as Error).message);
    }
  }
  return (
    <form class="sign-in" onSubmit={submit}>
      <h1>Parlor</h1>
      <p>Development sign-in: pick any user id.</p>
      <label for="sign-in-user">User id</label>
      <input
        id="sign-in-user"
        name="userId"
        autocomplete="username"
        placeholder="e.g. alice"
        value={userId}
        onInput={(e) => setUserId(e.currentTarget.value)}
      />
      <label for="sign-in-name">Display name (optional)</label>
      <input
        id="sign-in-name"
        name="name"
        autocomplete="name"
        placeholder="e.g. Alice"
        value={name}
        onInput={(e) => setName(e.currentTarget.value)}
      />
      <button type="submit">Sign in</button>
      {error && <p class="error">{error}</p>}
    </form>
  );
}

/** A tool result the reply used, opened on demand. */

render(<Root />, document.getElementById("app") as HTMLElement);
