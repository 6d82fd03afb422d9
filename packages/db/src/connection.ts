// Opens the database: postgres.js when a DATABASE_URL is given, otherwise one embedded PGlite shared by all services.
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';

/** The drizzle database every service works with, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** A database or an open transaction: what a use case writes through. */
export type DbOrTx = Db | Tx;

export interface Database {
  db: Db;
  driver: 'postgres' | 'pglite';
  /** The connection URL, when driver is postgres (migrations open their own single connection). */
  url?: string;
  /** Connection-level check for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface PostgresOptions {
  url: string;
  /** Pool size per service; postgres.js opens connections lazily. */
  max?: number;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
}

export function openPostgres(options: PostgresOptions): Database & { client: postgres.Sql } {
  const client = postgres(options.url, {
    max: options.max ?? 10,
    idle_timeout: 30,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'samsyn' },
  });
  const db = drizzlePostgres(client) as unknown as Db;
  return {
    db,
    client,
    url: options.url,
    driver: 'postgres',
    ping: async () => {
      await client`select 1`;
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/** Embedded PostgreSQL (PGlite) under `dataDir`; `memory://` keeps it in memory. */
export async function openPglite(dataDir: string): Promise<Database & { client: PGlite }> {
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir);
  const db = drizzlePglite(client) as unknown as Db;
  return {
    db,
    client,
    driver: 'pglite',
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => client.close(),
  };
}

/** A view of a shared Database whose close() does nothing: the owner closes the real one. */
export function borrowed(database: Database): Database {
  return { ...database, close: async () => {} };
}
