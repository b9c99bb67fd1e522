/** What the parts of a run reach: the Worker's bindings, the agent's own SQLite (the run's state), and the run. */
import type { RunLink } from "./run-link";

export type RunScope = { env: Env; sql: SqlStorage; run: RunLink };
