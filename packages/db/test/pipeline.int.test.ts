// The transaction pipeline against real PostgreSQL and embedded PGlite: order kept, one failure rolls all back.
import { createTestDatabase, type TestDatabase } from '@samsyn/testkit';
import { eq, sql } from 'drizzle-orm';
import { integer, pgSchema, text } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openPglite, openPostgres } from '../src/connection.ts';
import { pipeline } from '../src/pipeline.ts';

const schema = pgSchema('pipe');
const parent = schema.table('parent', { id: integer('id').primaryKey() });
const child = schema.table('child', {
  id: integer('id').primaryKey(),
  parentId: integer('parent_id').notNull(),
  note: text('note'),
});

async function createTables(database: Database) {
  await database.db.execute(sql`create schema pipe`);
  await database.db.execute(sql`create table pipe.parent (id integer primary key)`);
  await database.db.execute(
    sql`create table pipe.child (id integer primary key, parent_id integer not null references pipe.parent (id), note text)`,
  );
}

async function count(database: Database, table: 'parent' | 'child'): Promise<number> {
  const rows = (await database.db.execute(
    sql`select count(*)::int as n from ${sql.raw(`pipe.${table}`)}`,
  )) as unknown as { n: number }[] | { rows: { n: number }[] };
  return Array.isArray(rows) ? Number(rows[0]?.n) : Number(rows.rows[0]?.n);
}

/** A write helper as the services have them: async, issuing its statement at its first await. */
async function insertChildren(database: Database['db'], parentId: number, ids: number[]) {
  await database.insert(child).values(ids.map((id) => ({ id, parentId })));
}

function behaves(name: string, open: () => Promise<Database>, close: (d: Database) => Promise<void>) {
  describe(`pipeline on ${name}`, () => {
    let database: Database;
    beforeAll(async () => {
      database = await open();
      await createTables(database);
    }, 30_000);
    afterAll(async () => close(database));

    it('runs the steps in the order given, so a row may reference one inserted by an earlier step', async () => {
      for (let n = 1; n <= 20; n++) {
        await database.db.transaction(async (tx) => {
          const [, , , seen] = await pipeline([
            () => tx.insert(parent).values({ id: n }),
            () => insertChildren(tx as never, n, [n * 100 + 1, n * 100 + 2]),
            () => tx.insert(child).values({ id: n * 100 + 3, parentId: n, note: 'last' }),
            // A read in the same pipeline sees the writes sent before it.
            () => tx.select({ id: child.id }).from(child).where(eq(child.parentId, n)).orderBy(child.id),
          ]);
          expect(seen.map((r) => r.id)).toEqual([n * 100 + 1, n * 100 + 2, n * 100 + 3]);
        });
      }
      expect(await count(database, 'parent')).toBe(20);
      expect(await count(database, 'child')).toBe(60);
    });

    it('throws the first failure and leaves nothing of the transaction behind', async () => {
      const before = { parent: await count(database, 'parent'), child: await count(database, 'child') };
      const attempt = database.db.transaction(async (tx) => {
        await pipeline([
          () => tx.insert(parent).values({ id: 1000 }),
          // A child of a parent that does not exist: the foreign key fails, and aborts what follows.
          () => tx.insert(child).values({ id: 100_001, parentId: 999_999 }),
          () => tx.insert(child).values({ id: 100_002, parentId: 1000 }),
        ]);
      });
      const err = await attempt.then(
        () => undefined,
        (e: unknown) => e as { cause?: { message?: string } },
      );
      expect(err?.cause?.message).toMatch(/foreign key/);
      expect(await count(database, 'parent')).toBe(before.parent);
      expect(await count(database, 'child')).toBe(before.child);
    });
  });
}

let testDb: TestDatabase;
behaves(
  'PostgreSQL',
  async () => {
    testDb = await createTestDatabase('pipeline');
    return openPostgres({ url: testDb.url, max: 2 });
  },
  async (d) => {
    await d?.close();
    await testDb?.drop();
  },
);
behaves(
  'embedded PGlite',
  () => openPglite('memory://'),
  async (d) => d?.close(),
);
