// Group commit against a real PostgreSQL: concurrent writes share transactions, each is durable when its promise
// resolves, and one failing write does not take the others down with it.
import { openPostgres } from '@samsyn/db';
import { createTestDatabase, type TestDatabase } from '@samsyn/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroupCommit } from '../src/group-commit.ts';

let testDb: TestDatabase;
let database: ReturnType<typeof openPostgres>;

beforeAll(async () => {
  testDb = await createTestDatabase('groupcommit');
  database = openPostgres({ url: testDb.url, max: 4 });
  await database.db.execute(
    sql`create table entry (n integer primary key, txid bigint not null default txid_current())`,
  );
});
afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

const insert = (n: number) => async (tx: Parameters<Parameters<GroupCommit['run']>[0]>[0]) => {
  await tx.execute(sql`insert into entry (n) values (${n})`);
};
const rows = async () =>
  (await database.client`select n, txid::text as txid from entry`) as unknown as {
    n: number;
    txid: string;
  }[];

describe('GroupCommit', () => {
  it('commits 100 concurrent writes in far fewer transactions, each visible once its promise resolves', async () => {
    let commits = 0;
    const group = new GroupCommit(database.db, { afterCommit: () => commits++ });
    await Promise.all(Array.from({ length: 100 }, (_, i) => group.run(insert(i))));
    const stored = await rows();
    expect(stored.map((r) => r.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const transactions = new Set(stored.map((r) => r.txid)).size;
    expect(transactions).toBeLessThanOrEqual(10);
    expect(commits).toBe(transactions);
  });

  it('rejects only the failing write and still commits the ones batched with it', async () => {
    const group = new GroupCommit(database.db);
    const results = await Promise.allSettled([
      group.run(insert(1000)),
      group.run(insert(0)), // primary key taken by the previous test
      group.run(insert(1001)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const stored = (await rows()).map((r) => r.n);
    expect(stored).toContain(1000);
    expect(stored).toContain(1001);
    expect(stored.filter((n) => n === 0)).toHaveLength(1);
  });

  it('never resolves a write whose transaction did not commit', async () => {
    const group = new GroupCommit(database.db);
    await expect(
      group.run(async () => {
        throw new Error('the write failed');
      }),
    ).rejects.toThrow('the write failed');
  });
});
