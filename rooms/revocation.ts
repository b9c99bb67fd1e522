/**
 * Members the Orchestrator removed. Postgres is the truth, but a socket that passed the membership check just
 * before the removal could still arrive afterwards; the room remembers the removal and refuses it.
 *
 * Every frame asks, so the set is read once per room instance and kept beside the table: only this module writes
 * the table, and it writes both.
 */
const revokedByRoom = new WeakMap<SqlStorage, Set<string>>();

function revokedSet(sql: SqlStorage): Set<string> {
  let revoked = revokedByRoom.get(sql);
  if (!revoked) {
    const rows = sql.exec<{ userId: string }>("SELECT user_id AS userId FROM revoked_members").toArray();
    revoked = new Set(rows.map((row) => row.userId));
    revokedByRoom.set(sql, revoked);
  }
  return revoked;
}

export function revoke(sql: SqlStorage, userId: string): void {
  sql.exec(
    "INSERT INTO revoked_members (user_id, revoked_at) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING",
    userId,
    new Date().toISOString(),
  );
  revokedSet(sql).add(userId);
}

export function readmit(sql: SqlStorage, userId: string): void {
  sql.exec("DELETE FROM revoked_members WHERE user_id = ?", userId);
  revokedSet(sql).delete(userId);
}

export function isRevoked(sql: SqlStorage, userId: string): boolean {
  return revokedSet(sql).has(userId);
}
