/** Applies the generated migrations in `migrations/` to DATABASE_URL; a second run is a no-op. */
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { withClient } from "./pg-client.ts";

export async function applyMigrations(url: string): Promise<void> {
  await withClient(url, (client) =>
    migrate(drizzle({ client }), { migrationsFolder: new URL("../migrations", import.meta.url).pathname }),
  );
}

if (import.meta.main) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error("migrate: set DATABASE_URL to the database to migrate");
    process.exit(2);
  }
  await applyMigrations(url);
  console.log("migrations applied");
}
