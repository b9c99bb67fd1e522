/** `room_meta`: small JSON values the room keeps about itself, one per key, each read through its own schema. */
import type { z } from "zod";
import type { MetaRow } from "./rows";

export function readMeta<T extends z.ZodType>(sql: SqlStorage, key: string, schema: T): z.infer<T> | null {
  const row = sql.exec<Pick<MetaRow, "value">>("SELECT value FROM room_meta WHERE key = ?", key).toArray()[0];
  if (!row) return null;
  const parsed = schema.safeParse(JSON.parse(row.value));
  return parsed.success ? parsed.data : null;
}

export function writeMeta(sql: SqlStorage, key: string, value: unknown): void {
  sql.exec(
    "INSERT INTO room_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    key,
    JSON.stringify(value),
  );
}

export function deleteMeta(sql: SqlStorage, key: string): void {
  sql.exec("DELETE FROM room_meta WHERE key = ?", key);
}
