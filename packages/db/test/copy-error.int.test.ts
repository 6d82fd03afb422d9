// Samsyn's postgres.js patch settles a COPY FROM STDIN that PostgreSQL rejects after the client ended the stream
// (porsager/postgres#1173): unpatched, the writable's end never completes, so a bulk load that hits a bad row hangs
// forever, and inside a transaction never rolls back. Against real PostgreSQL.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { scratchDatabase } from './support/scratch.ts';

const scratch = scratchDatabase('copy_error', 'id uuid primary key, note text');

const GOOD = '0b0c6c3e-4f7e-4c55-9a55-2f0b7f5d1a01';

async function copy(sql: postgres.Sql | postgres.ReservedSql | postgres.TransactionSql, text: string) {
  const target = await sql`copy t (id, note) from stdin`.writable();
  await pipeline(Readable.from([text]), target);
}

describe('a COPY FROM STDIN that PostgreSQL rejects', () => {
  it("fails with PostgreSQL's error instead of hanging, and the connection serves the next query", async () => {
    await expect(copy(scratch.client, `${GOOD}\tfine\nnot-a-uuid\tbad\n`)).rejects.toThrow(/uuid/);
    expect(await scratch.client`select count(*)::int as n from t`).toEqual([{ n: 0 }]);
    await copy(scratch.client, `${GOOD}\tfine\n`);
    expect(await scratch.client`select note from t`).toEqual([{ note: 'fine' }]);
    await scratch.client`delete from t`;
  });

  it('rolls back the transaction it ran in, which frees the connection', async () => {
    await expect(
      scratch.client.begin(async (tx) => {
        await tx`insert into t values (${GOOD}, 'inserted first')`;
        await copy(tx, 'not-a-uuid\tbad\n');
      }),
    ).rejects.toThrow(/uuid/);
    expect(await scratch.client`select count(*)::int as n from t`).toEqual([{ n: 0 }]);
    const [open] = await scratch.client`
      select count(*)::int as n from pg_stat_activity
      where datname = current_database() and state like 'idle in transaction%'`;
    expect(open?.n).toBe(0);
  });
});
