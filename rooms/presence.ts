/** Who is here, derived from the room's open sockets; never stored, so it cannot go stale across restarts. */
import type { Connection } from "partyserver";
import type { PresentUser } from "../protocol/chat";
import type { MemberIdentity } from "./room-address";

export function presentUsers(connections: Iterable<Connection<MemberIdentity>>, leaving?: string): PresentUser[] {
  const users = new Map<string, PresentUser>();
  for (const connection of connections) {
    const state = connection.state;
    if (connection.id === leaving || !state) continue;
    users.set(state.userId, { id: state.userId, name: state.name });
  }
  return [...users.values()].sort((a, b) => a.id.localeCompare(b.id));
}
