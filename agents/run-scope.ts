/** What the parts of a run reach: the Worker's bindings, the agent's own SQLite (the run's state), the chat's room. */
import type { Room } from "./room";

export type RunScope = { env: Env; sql: SqlStorage; room: Room };
