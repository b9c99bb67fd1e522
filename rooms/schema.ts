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
    CREATE UNIQUE INDEX IF NOT EXISTS messages_by_client_id
      ON messages (author_type, author_id, client_message_id)
      WHERE client_message_id IS NOT NULL;
  `);
}
