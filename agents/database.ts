/**
 * The agents' own way to Postgres, for the few reads a run makes there: one postgres.js client per read, closed
 * after it (a Worker may not reuse a socket another request opened). Hyperdrive in production, DATABASE_URL locally;
 * no prepared statements, since Hyperdrive pools connections across clients.
 */
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";

export async function readDatabase<T>(env: Env, read: (db: PostgresJsDatabase) => Promise<T>): Promise<T> {
  const url = env.HYPERDRIVE?.connectionString ?? env.DATABASE_URL;
  if (!url) throw new Error("no database configured: bind HYPERDRIVE or set DATABASE_URL");
  const client = postgres(url, { max: 1, prepare: false, fetch_types: false, onnotice: () => {} });
  try {
    return await read(drizzle(client));
  } finally {
    await client.end({ timeout: 5 });
  }
}
