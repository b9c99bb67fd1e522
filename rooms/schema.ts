/** The room's own SQLite schema. Statements are idempotent, so running them on every wake is safe. */
export function migrateRoomSchema(sql: SqlStorage): void {
  sql.exec(`
    CREATE TABLE IF NOT EXISTS room_meta (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS messages (
      seq INTEGER PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      author_type TEXT NOT NULL,
      author_id TEXT NOT NULL,
      author_name TEXT,
      client_message_id TEXT,
      text TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS revoked_members (
      user_id TEXT PRIMARY KEY,
      revoked_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS chat_agents (
      agent_id TEXT PRIMARY KEY,
      handle TEXT NOT NULL,
      name TEXT NOT NULL,
      trigger TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS runs (
      run_id TEXT PRIMARY KEY,
      agent_id TEXT NOT NULL,
      trigger_seq INTEGER NOT NULL,
      initiator TEXT NOT NULL,
      status TEXT NOT NULL,
      result_seq INTEGER,
      started_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS approvals (
      approval_id TEXT PRIMARY KEY,
      run_id TEXT NOT NULL,
      agent_id TEXT NOT NULL,
      tool_call_id TEXT NOT NULL,
      method TEXT NOT NULL,
      url TEXT NOT NULL,
      headers TEXT NOT NULL,
      body TEXT,
      approvers TEXT NOT NULL,
      initiator TEXT NOT NULL,
      status TEXT NOT NULL,
      decided_by TEXT,
      agent_notified INTEGER NOT NULL DEFAULT 0,
      expires_at TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS artifacts (
      artifact_id TEXT PRIMARY KEY,
      run_id TEXT NOT NULL,
      kind TEXT NOT NULL,
      status INTEGER,
      content_type TEXT,
      body TEXT NOT NULL,
      truncated INTEGER NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS summaries (
      version INTEGER PRIMARY KEY,
      message_cursor INTEGER NOT NULL,
      text TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS messages_by_client_id
      ON messages (author_type, author_id, client_message_id)
      WHERE client_message_id IS NOT NULL;
  `);
  // Columns added after the first rooms were created: older rooms get them on their next wake.
  addColumnIfMissing(sql, "messages", "artifact_ids", "TEXT");
  addColumnIfMissing(sql, "runs", "partial_text", "TEXT");
  addColumnIfMissing(sql, "runs", "deadline", "TEXT");
}

function addColumnIfMissing(sql: SqlStorage, table: string, column: string, type: string): void {
  const columns = sql.exec<{ name: string }>(`PRAGMA table_info(${table})`).toArray();
  if (!columns.some((c) => c.name === column)) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
}
