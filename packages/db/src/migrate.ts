// Applies a service's drizzle migrations at start-up, into the service's own schema, one replica at a time.
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { Database } from './connection.ts';

export interface MigrateOptions {
  /** The service's PostgreSQL schema. Its journal is table samsyn_migrations.<schema>: drizzle-kit's first
   * migration creates the service schema itself, so the journal cannot live inside it. */
  schema: string;
  /** Folder with drizzle-kit's SQL files and meta/_journal.json. */
  migrationsFolder: string;
}

/**
 * Runs pending migrations while holding a session advisory lock on a connection of its own, so that
 * replicas (and services) starting together do not race.
 */
export async function migrate(database: Database, options: MigrateOptions): Promise<void> {
  const config = {
    migrationsFolder: options.migrationsFolder,
    migrationsSchema: 'samsyn_migrations',
    migrationsTable: options.schema,
  };
  if (database.driver === 'pglite' || !database.url) {
    // PGlite is single-connection and in-process: there is nobody to race with.
    await migratePglite(database.db as unknown as PgliteDatabase, config);
    return;
  }
  // One lock for all services: they share the journal schema, whose creation must not race either.
  const client = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(hashtext('samsyn.migrate'))`;
    await migratePostgres(drizzle(client), config);
  } finally {
    // Ending the session releases the advisory lock too.
    await client.end({ timeout: 5 });
  }
}
