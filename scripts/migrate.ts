/** Applies the generated migrations in `migrations/` to DATABASE_URL; a second run is a no-op. */
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";

export async function applyMigrations(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrate(drizzle(sql), { migrationsFolder: new URL("../migrations", import.meta.url).pathname });
  } finally {
    await sql.end();
  }
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
