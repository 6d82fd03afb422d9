// Samsyn's postgres.js patch pipelines BEGIN with a transaction's first statements (infra/patches): one round trip
// less per transaction. These tests hold the driver to what a transaction must still do under it, against real
// PostgreSQL: commit, roll back, isolate, survive a killed connection, and never lend its connection to others.
import net from 'node:net';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openPostgres } from '../src/connection.ts';
import { scratchDatabase } from './support/scratch.ts';

const scratch = scratchDatabase('pipelined_begin', 'id int primary key, note text');

const count = async (where = scratch.client`true`) =>
  Number((await scratch.client`select count(*)::int as n from t where ${where}`)[0]?.n);

/** Socket writes made while `work` runs (each one a round trip's first half). */
async function socketWrites(work: () => Promise<unknown>): Promise<number> {
  const original = net.Socket.prototype.write;
  let writes = 0;
  net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
    writes += 1;
    return original.apply(this, args as never);
  } as typeof original;
  try {
    await work();
  } finally {
    net.Socket.prototype.write = original;
  }
  return writes;
}

describe('a transaction with BEGIN pipelined', () => {
  it('sends BEGIN together with the first statement: two round trips for a one-statement transaction', async () => {
    const once = (id: number) => scratch.client.begin((tx) => tx`insert into t values (${id}, 'x')`);
    await once(1); // prepares the statement on this connection
    await once(2);
    const writes = await socketWrites(async () => {
      for (let id = 3; id < 23; id++) await once(id);
    });
    // BEGIN + INSERT, then COMMIT (unpatched: BEGIN, INSERT, COMMIT = 60 writes).
    expect(writes).toBe(40);
    expect(await count(scratch.client`id between 1 and 22`)).toBe(22);
  });

  it('rolls back everything when a statement fails, and throws that statement’s error', async () => {
    const attempt = scratch.client.begin(async (tx) => {
      await tx`insert into t values (100, 'kept?')`;
      await tx`insert into t values (100, 'duplicate')`;
    });
    await expect(attempt).rejects.toMatchObject({ code: '23505' });
    expect(await count(scratch.client`id = 100`)).toBe(0);
  });

  it('rolls back when the callback throws after its statements succeeded', async () => {
    const attempt = scratch.client.begin(async (tx) => {
      await tx`insert into t values (101, 'x')`;
      throw new Error('changed my mind');
    });
    await expect(attempt).rejects.toThrow('changed my mind');
    expect(await count(scratch.client`id = 101`)).toBe(0);
  });

  it('keeps concurrent transactions and plain queries apart on a pool smaller than the load', async () => {
    const work = Array.from({ length: 60 }, (_, i) =>
      i % 3 === 2
        ? scratch.client`select count(*) from t`.then(() => undefined)
        : scratch.client
            .begin(async (tx) => {
              await tx`insert into t values (${1000 + i}, 'a')`;
              // Each transaction sees its own uncommitted row and no other transaction's.
              const mine = await tx`select count(*)::int as n from t where id >= 1000`;
              expect(mine[0]?.n).toBeGreaterThanOrEqual(1);
              if (i % 5 === 0) throw new Error('roll this one back');
            })
            .catch((err: Error) => {
              if (err.message !== 'roll this one back') throw err;
            }),
    );
    await Promise.all(work);
    const committed = Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 3 !== 2 && i % 5 !== 0);
    expect(await count(scratch.client`id >= 1000`)).toBe(committed.length);
  });

  it('honours an isolation level and savepoints (drizzle nested transactions)', async () => {
    const database = openPostgres({ url: scratch.url, max: 1 });
    try {
      await database.db.transaction(
        async (tx) => {
          await tx.execute(sql`insert into t values (200, 'outer')`);
          await tx
            .transaction(async (inner) => {
              await inner.execute(sql`insert into t values (201, 'inner')`);
              throw new Error('undo the inner one');
            })
            .catch(() => undefined);
          const level = (await tx.execute(sql`show transaction_isolation`)) as unknown as {
            transaction_isolation: string;
          }[];
          expect(level[0]?.transaction_isolation).toBe('serializable');
        },
        { isolationLevel: 'serializable' },
      );
    } finally {
      await database.close();
    }
    expect(await count(scratch.client`id = 200`)).toBe(1);
    expect(await count(scratch.client`id = 201`)).toBe(0);
  });

  it('fails, without hanging, when its connection is killed mid-transaction, and the pool recovers', async () => {
    const attempt = scratch.client.begin(async (tx) => {
      await tx`insert into t values (300, 'x')`;
      const [me] = await tx`select pg_backend_pid() as pid`;
      await scratch.client`select pg_terminate_backend(${me?.pid})`;
      await tx`insert into t values (301, 'x')`;
    });
    await expect(attempt).rejects.toThrow();
    expect(await count(scratch.client`id in (300, 301)`)).toBe(0);
    await scratch.client.begin((tx) => tx`insert into t values (302, 'after')`);
    expect(await count(scratch.client`id = 302`)).toBe(1);
  });

  it('opens its connections with Nagle off, so the small last write of a COPY is not held back', async () => {
    // With Nagle on, each COPY's final message waited for the server's delayed ACK, about 40 ms on Linux: a rebuild
    // writes dozens of COPYs one after the other (docs/statistics.md).
    const original = net.Socket.prototype.setNoDelay;
    const calls: (boolean | undefined)[] = [];
    net.Socket.prototype.setNoDelay = function (this: net.Socket, noDelay?: boolean) {
      calls.push(noDelay);
      return original.call(this, noDelay);
    };
    const database = openPostgres({ url: scratch.url, max: 1 });
    try {
      await database.db.execute(sql`select 1`);
    } finally {
      net.Socket.prototype.setNoDelay = original;
      await database.close();
    }
    expect(calls).toContain(true);
  });
});
