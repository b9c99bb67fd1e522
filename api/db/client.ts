/**
 * A drizzle client over postgres.js, one per request: a Worker may not reuse a socket opened by another request.
 * In production the connection string comes from Hyperdrive; locally from DATABASE_URL.
 */
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";

export function openDatabase(env: Env) {
  const url = env.HYPERDRIVE?.connectionString ?? env.DATABASE_URL;
  if (!url) throw new Error("no database configured: bind HYPERDRIVE or set DATABASE_URL");
  // prepare: false because Hyperdrive pools connections across clients; fetch_types: false saves a round trip.
  const client = postgres(url, { max: 1, prepare: false, fetch_types: false, onnotice: () => {} });
  return { db: drizzle(client, { schema }), close: () => client.end({ timeout: 5 }) };
}

export type Database = ReturnType<typeof openDatabase>["db"];
