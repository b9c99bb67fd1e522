/**
 * The room's own SQLite schema: the one place its tables are declared. `migrateRoomSchema` runs the DDL on every
 * wake (each statement is idempotent), and `rows.ts` reads each table's row type off these declarations, so a
 * column renamed or dropped here is a type error wherever its rows are read. Why not drizzle: docs/decisions.md.
 */

/** A column's SQL type and constraints, as written in `CREATE TABLE`. */
type ColumnSql = `${"TEXT" | "INTEGER"}${string}`;

export const roomTables = {
  /**
   * What the room learnt about itself: `chat` → `{ chatId, orgId }`; `billing` → the org's billing as last pushed;
   * `usage_cursor` → what usage has been sent; `usage_batch` → the batch being sent.
   */
  room_meta: {
    key: "TEXT PRIMARY KEY",
    value: "TEXT NOT NULL",
  },
  messages: {
    seq: "INTEGER PRIMARY KEY",
    id: "TEXT NOT NULL UNIQUE",
    author_type: "TEXT NOT NULL",
    author_id: "TEXT NOT NULL",
    author_name: "TEXT",
    client_message_id: "TEXT",
    text: "TEXT NOT NULL",
    created_at: "TEXT NOT NULL",
    artifact_ids: "TEXT",
    /** 1 on the reply of a run a member stopped. */
    stopped: "INTEGER",
    /** Set when its author edits it; `text` holds the edited text. */
    edited_at: "TEXT",
    /** Set when it is deleted (`message-edits.ts`): `text` is then "" and the words are gone from the room. */
    deleted_at: "TEXT",
    deleted_by: "TEXT",
  },
  revoked_members: {
    user_id: "TEXT PRIMARY KEY",
    revoked_at: "TEXT NOT NULL",
  },
  chat_agents: {
    agent_id: "TEXT PRIMARY KEY",
    handle: "TEXT NOT NULL",
    name: "TEXT NOT NULL",
    trigger: "TEXT NOT NULL",
  },
  runs: {
    run_id: "TEXT PRIMARY KEY",
    agent_id: "TEXT NOT NULL",
    trigger_seq: "INTEGER NOT NULL",
    initiator: "TEXT NOT NULL",
    status: "TEXT NOT NULL",
    result_seq: "INTEGER",
    started_at: "TEXT NOT NULL",
    partial_text: "TEXT",
    deadline: "TEXT",
    /** The run's capability secret (`openRun`); null for runs started before there was one. */
    run_secret: "TEXT",
  },
  approvals: {
    approval_id: "TEXT PRIMARY KEY",
    run_id: "TEXT NOT NULL",
    agent_id: "TEXT NOT NULL",
    tool_call_id: "TEXT NOT NULL",
    method: "TEXT NOT NULL",
    url: "TEXT NOT NULL",
    headers: "TEXT NOT NULL",
    body: "TEXT",
    approvers: "TEXT NOT NULL",
    initiator: "TEXT NOT NULL",
    status: "TEXT NOT NULL",
    decided_by: "TEXT",
    agent_notified: "INTEGER NOT NULL DEFAULT 0",
    expires_at: "TEXT NOT NULL",
    created_at: "TEXT NOT NULL",
    /** JSON list of the user ids a `{ users }` policy names (then `approvers` is `users`). */
    approver_users: "TEXT",
    /** Approving votes needed; null is 1. */
    quorum: "INTEGER",
    /** `deny` (null) or `wait`. */
    on_expiry: "TEXT",
    /** When the reminder is due, and whether it went out. */
    remind_at: "TEXT",
    reminded: "INTEGER",
    /** For `wait`: the expiry notice went out, so the expiry job leaves it be. */
    expiry_noticed: "INTEGER",
    /** The chat's last seq when the agent asked: where the request sits in the conversation. */
    after_seq: "INTEGER",
  },
  /** Members last known not to be org admins (role announcements, own votes): their `admins` votes do not count. */
  demoted_admins: {
    user_id: "TEXT PRIMARY KEY",
    demoted_at: "TEXT NOT NULL",
  },
  /** One vote per member per approval (`approval_votes_once`). */
  approval_votes: {
    approval_id: "TEXT NOT NULL",
    user_id: "TEXT NOT NULL",
    decision: "TEXT NOT NULL",
    at: "TEXT NOT NULL",
  },
  artifacts: {
    artifact_id: "TEXT PRIMARY KEY",
    run_id: "TEXT NOT NULL",
    kind: "TEXT NOT NULL",
    status: "INTEGER",
    content_type: "TEXT",
    body: "TEXT NOT NULL",
    truncated: "INTEGER NOT NULL",
    created_at: "TEXT NOT NULL",
  },
  /**
   * What this room counted for billing, not per message (messages are counted by seq range) but per run started
   * and per model step's tokens, keyed so a repeated report counts once. Rows up to the usage cursor have been sent.
   */
  usage_log: {
    id: "INTEGER PRIMARY KEY",
    key: "TEXT NOT NULL UNIQUE",
    user_id: "TEXT NOT NULL",
    agent_runs: "INTEGER NOT NULL",
    tokens_in: "INTEGER NOT NULL",
    tokens_out: "INTEGER NOT NULL",
    at: "TEXT NOT NULL",
  },
  /**
   * Audit events that happened here (decisions, expiries, refusals), written with the change they record and
   * delivered to the org's audit log by the scheduler; the key makes a redelivery land once.
   */
  audit_outbox: {
    key: "TEXT PRIMARY KEY",
    actor_type: "TEXT NOT NULL",
    actor_id: "TEXT NOT NULL",
    action: "TEXT NOT NULL",
    target: "TEXT NOT NULL",
    outcome: "TEXT NOT NULL",
    count: "INTEGER NOT NULL",
    at: "INTEGER NOT NULL",
    due_at: "INTEGER NOT NULL",
  },
  summaries: {
    version: "INTEGER PRIMARY KEY",
    message_cursor: "INTEGER NOT NULL",
    text: "TEXT NOT NULL",
    created_at: "TEXT NOT NULL",
  },
} as const satisfies Record<string, Record<string, ColumnSql>>;

/**
 * Columns added after the first rooms were created: older rooms get them on their next wake. `ALTER TABLE … ADD
 * COLUMN` only adds columns that may be null or have a default, so a column added later must be one.
 */
const ADDED_LATER: { [T in keyof typeof roomTables]?: (keyof (typeof roomTables)[T])[] } = {
  messages: ["artifact_ids", "stopped", "edited_at", "deleted_at", "deleted_by"],
  runs: ["partial_text", "deadline", "run_secret"],
  approvals: ["approver_users", "quorum", "on_expiry", "remind_at", "reminded", "expiry_noticed", "after_seq"],
};

const INDEXES = [
  `CREATE UNIQUE INDEX IF NOT EXISTS messages_by_client_id
     ON messages (author_type, author_id, client_message_id)
     WHERE client_message_id IS NOT NULL`,
  "CREATE UNIQUE INDEX IF NOT EXISTS approval_votes_once ON approval_votes (approval_id, user_id)",
];

type TableName = keyof typeof roomTables;

/** A row of `table` as SQLite returns it: INTEGER columns are numbers, TEXT strings, and null unless constrained. */
export type Row<T extends TableName> = RowOf<(typeof roomTables)[T]>;
type RowOf<Columns extends Record<string, ColumnSql>> = { -readonly [C in keyof Columns]: ColumnValue<Columns[C]> };
type ColumnValue<S extends ColumnSql> =
  | (S extends `INTEGER${string}` ? number : string)
  | (S extends `${string}NOT NULL${string}` | `${string}PRIMARY KEY${string}` ? never : null);

export function migrateRoomSchema(sql: SqlStorage): void {
  const tables = Object.entries(roomTables).map(([table, columns]) => {
    const definitions = Object.entries(columns).map(([column, type]) => `${column} ${type}`);
    return `CREATE TABLE IF NOT EXISTS ${table} (${definitions.join(", ")});`;
  });
  sql.exec([...tables, ...INDEXES.map((index) => `${index};`)].join("\n"));
  for (const [table, columns] of Object.entries(ADDED_LATER) as [TableName, string[]][]) {
    const existing = new Set(
      sql
        .exec<{ name: string }>(`PRAGMA table_info(${table})`)
        .toArray()
        .map((c) => c.name),
    );
    for (const column of columns) {
      if (!existing.has(column)) {
        const type = (roomTables[table] as Record<string, ColumnSql>)[column];
        sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
      }
    }
  }
}
