/**
 * Members the Orchestrator removed. Postgres is the truth, but a socket that passed the membership check just
 * before the removal could still arrive afterwards; the room remembers the removal and refuses it.
 */
export function revoke(sql: SqlStorage, userId: string): void {
  sql.exec(
    "INSERT INTO revoked_members (user_id, revoked_at) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING",
    userId,
    new Date().toISOString(),
  );
}

export function readmit(sql: SqlStorage, userId: string): void {
  sql.exec("DELETE FROM revoked_members WHERE user_id = ?", userId);
}

export function isRevoked(sql: SqlStorage, userId: string): boolean {
  return sql.exec("SELECT 1 FROM revoked_members WHERE user_id = ?", userId).toArray().length > 0;
}
