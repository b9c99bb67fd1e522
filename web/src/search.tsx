/**
 * A search box over one chat's messages, or every chat of an org the member is in. Results name their chat and show
 * a snippet with the matched words highlighted (the API wraps them in U+0002 … U+0003); clicking one opens it.
 */
import { useEffect, useState } from "preact/hooks";
import { type SearchResult, SNIPPET_MARK } from "../../protocol/message-edits";
import { type ChatRef, call, client, type OrgRef } from "./api";

type Scope = { org: OrgRef } | { chat: ChatRef };

export function SearchBox({ scope, onOpen }: { scope: Scope; onOpen: (chat: ChatRef, seq: number) => void }) {
  const [q, setQ] = useState("");
  const [results, setResults] = useState<SearchResult[] | null>(null);
  const [titles, setTitles] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const orgId = "org" in scope ? scope.org.id : null;
  useEffect(() => setResults(null), [orgId, "chat" in scope ? scope.chat.id : null]);

  async function search(event: Event) {
    event.preventDefault();
    if (!q.trim()) return setResults(null);
    try {
      const query = { q: q.trim().slice(0, 200), limit: "20" };
      const found =
        "org" in scope
          ? await call(client.api.orgs[":orgId"].search.$get({ param: { orgId: scope.org.id }, query }))
          : await call(client.api.chats[":chatId"].search.$get({ param: { chatId: scope.chat.id }, query }));
      if ("org" in scope) {
        const { chats } = await call(
          client.api.orgs[":orgId"].chats.$get({ param: { orgId: scope.org.id }, query: { include: "archived" } }),
        );
        setTitles(Object.fromEntries(chats.map((c) => [c.id, c.title])));
      } else {
        setTitles({ [scope.chat.id]: scope.chat.title });
      }
      setResults(found.results);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }

  return (
    <div class="search" data-testid={"org" in scope ? "org-search" : "chat-search"}>
      <form class="inline" onSubmit={search}>
        <input
          name="search"
          placeholder={"org" in scope ? "search all my chats" : "search this chat"}
          value={q}
          onInput={(e) => setQ(e.currentTarget.value)}
        />
        <button type="submit">search</button>
      </form>
      {error && <p class="error">{error}</p>}
      {results && (
        <ul class="search-results" data-testid="search-results">
          {results.length === 0 && <li class="hint">no messages found</li>}
          {results.map((r) => (
            <li key={`${r.chatId}:${r.message.seq}`}>
              <button
                type="button"
                class="link"
                data-testid="search-result"
                onClick={() => onOpen({ id: r.chatId, title: titles[r.chatId] ?? "chat" }, r.message.seq)}
              >
                <span class="where">
                  # {titles[r.chatId] ?? "chat"} · {r.message.author.name ?? r.message.author.id}
                </span>{" "}
                <Snippet text={r.snippet} />
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The snippet with each matched word (between U+0002 and U+0003) as a highlight; the rest as plain text. */
function Snippet({ text }: { text: string }) {
  const [before, ...marked] = text.split(SNIPPET_MARK.open);
  return (
    <span class="snippet">
      {before}
      {marked.map((part, i) => {
        const [word, ...rest] = part.split(SNIPPET_MARK.close);
        return (
          <span key={i}>
            <mark>{word}</mark>
            {rest.join(SNIPPET_MARK.close)}
          </span>
        );
      })}
    </span>
  );
}
