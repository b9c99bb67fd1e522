/**
 * Which chats and agents may use a secret: every chat or some, every agent or some. A fieldset of radios and
 * checkboxes, each labelled; the chats offered are the ones the admin is in (the API also takes others' ids).
 */
import type { SecretGrants } from "../../protocol/secrets";

export type Choice = { id: string; label: string };

export function GrantsEditor({
  idPrefix,
  grants,
  chats,
  agents,
  onChange,
}: {
  idPrefix: string;
  grants: SecretGrants;
  chats: Choice[];
  agents: Choice[];
  onChange: (grants: SecretGrants) => void;
}) {
  const chosenChats = grants.chats === "all" ? null : grants.chats;
  const chosenAgents = grants.agents ?? null;
  const toggle = (list: string[], id: string, on: boolean) => (on ? [...list, id] : list.filter((x) => x !== id));
  return (
    <div class="grants">
      <fieldset>
        <legend>Chats that may use it</legend>
        <label class="check">
          <input
            type="radio"
            name={`${idPrefix}-chats`}
            checked={chosenChats === null}
            onChange={() => onChange({ ...grants, chats: "all" })}
          />
          every chat
        </label>
        <label class="check">
          <input
            type="radio"
            name={`${idPrefix}-chats`}
            checked={chosenChats !== null}
            onChange={() => onChange({ ...grants, chats: [] })}
          />
          only these chats
        </label>
        {chosenChats !== null && (
          <ChoiceList
            choices={chats}
            chosen={chosenChats}
            empty="You are in no chats of this org yet."
            onToggle={(id, on) => onChange({ ...grants, chats: toggle(chosenChats, id, on) })}
          />
        )}
      </fieldset>
      <fieldset>
        <legend>Agents that may use it</legend>
        <label class="check">
          <input
            type="radio"
            name={`${idPrefix}-agents`}
            checked={chosenAgents === null}
            onChange={() => onChange({ chats: grants.chats })}
          />
          every agent
        </label>
        <label class="check">
          <input
            type="radio"
            name={`${idPrefix}-agents`}
            checked={chosenAgents !== null}
            onChange={() => onChange({ ...grants, agents: [] })}
          />
          only these agents
        </label>
        {chosenAgents !== null && (
          <ChoiceList
            choices={agents}
            chosen={chosenAgents}
            empty="The org has no agents yet."
            onToggle={(id, on) => onChange({ ...grants, agents: toggle(chosenAgents, id, on) })}
          />
        )}
      </fieldset>
    </div>
  );
}

function ChoiceList({
  choices,
  chosen,
  empty,
  onToggle,
}: {
  choices: Choice[];
  chosen: string[];
  empty: string;
  onToggle: (id: string, on: boolean) => void;
}) {
  if (choices.length === 0) return <p class="muted">{empty}</p>;
  return (
    <ul class="plain choices">
      {choices.map((choice) => (
        <li key={choice.id}>
          <label class="check">
            <input
              type="checkbox"
              checked={chosen.includes(choice.id)}
              onChange={(e) => onToggle(choice.id, e.currentTarget.checked)}
            />
            {choice.label}
          </label>
        </li>
      ))}
    </ul>
  );
}

/** The grants in words: "every chat, every agent", "2 chats, 1 agent". */
export function grantsText(grants: SecretGrants): string {
  const n = (count: number, one: string) => `${count} ${one}${count === 1 ? "" : "s"}`;
  const chats = grants.chats === "all" ? "every chat" : n(grants.chats.length, "chat");
  const agents = grants.agents === undefined ? "every agent" : n(grants.agents.length, "agent");
  return `${chats}, ${agents}`;
}
