// Migrations at start-up against real PostgreSQL and embedded PGlite: applied once, safe to race, idempotent.
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@samsyn/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite, openPostgres } from '../src/connection.ts';
import { migrate } from '../src/migrate.ts';

const migrationsFolder = fileURLToPath(new URL('./fixtures/migrations', import.meta.url));

describe('migrate on PostgreSQL', () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase('migrate');
  });
  afterAll(async () => testDb?.drop());

  it('lets three replicas start at once: every migration runs exactly once', async () => {
    const replicas = [1, 2, 3].map(() => openPostgres({ url: testDb.url, max: 2 }));
    try {
      await Promise.all(replicas.map((r) => migrate(r, { schema: 'fixture', migrationsFolder })));
      const db = replicas[0]?.db;
      const journal = (await db?.execute(
        sql`select count(*)::int as n from samsyn_migrations.fixture`,
      )) as unknown as {
        n: number;
      }[];
      expect(journal[0]?.n).toBe(2);
      await db?.execute(sql`insert into fixture.thing (id, name, note) values (1, 'a', 'b')`);
      await migrate(replicas[0] as never, { schema: 'fixture', migrationsFolder });
      const rows = (await db?.execute(sql`select note from fixture.thing`)) as unknown as { note: string }[];
      expect(rows[0]?.note).toBe('b');
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  });
});

describe('migrate on embedded PGlite', () => {
  it('applies the same migrations in memory', async () => {
    const database = await openPglite('memory://');
    try {
      await migrate(database, { schema: 'fixture', migrationsFolder });
      await migrate(database, { schema: 'fixture', migrationsFolder });
      await database.db.execute(sql`insert into fixture.thing (id, name, note) values (1, 'x', 'y')`);
      const rows = (await database.db.execute(sql`select name, note from fixture.thing`)) as unknown as {
        rows: { name: string; note: string }[];
      };
      expect(rows.rows).toEqual([{ name: 'x', note: 'y' }]);
      await expect(database.ping()).resolves.toBeUndefined();
    } finally {
      await database.close();
    }
    // PGlite compiles its WebAssembly on start: ~3 s alone, far longer while the rest of the suite loads both cores.
  }, 120_000);
});
