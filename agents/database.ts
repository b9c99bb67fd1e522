/**
 * The agents' way to Postgres, for the few reads a run makes there: the App API's client (`api/db/client.ts`), one
 * per read and closed after it (a Worker may not reuse a socket another request opened).
 */
import { type Database, openDatabase } from "../api/db/client";

export async function readDatabase<T>(env: Env, read: (db: Database) => Promise<T>): Promise<T> {
  const { db, close } = openDatabase(env);
  try {
    return await read(db);
  } finally {
    await close();
  }
}
