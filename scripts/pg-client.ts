/** One node-postgres connection for a Node script's short piece of work, closed whatever happens. */
import pg from "pg";

export async function withClient<T>(
  url: string,
  work: (client: pg.Client) => Promise<T>,
  options: { connectTimeoutMs?: number } = {},
): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: options.connectTimeoutMs });
  client.on("error", () => {}); // a lost connection fails the query in flight, which reports it
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}
