// Samsyn's postgres.js patch keeps a reserve() that waits for a connection from being lost when that connection
// closes (porsager/postgres#1195): unpatched, the pool handed the waiting reserve to the reconnect as its first query,
// the reconnect dropped it, and the reserve never settled (a statistics rebuild waited for ever for its lanes,
// idle, with no connection open). Against real PostgreSQL.
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { scratchDatabase } from './support/scratch.ts';

const scratch = scratchDatabase('reserve_requeue', 'id int');

/** What `p` came to within `ms`: its value, its error, or 'pending'. */
async function within<T>(p: Promise<T>, ms: number): Promise<{ value: T } | { error: unknown } | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  try {
    return await Promise.race([
      p.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a reserve() waiting for the pool', () => {
  it('gets the connection it waited on once that one was closed and has reconnected', async () => {
    const pool = postgres(scratch.url, { max: 1, onnotice: () => {} });
    try {
      const held = await pool.reserve();
      const [{ pid }] = (await held`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
      const waiting = pool.reserve();
      // Queued behind the held connection, which PostgreSQL then terminates (a restart, an idle timeout, an admin).
      expect(await within(waiting, 100)).toBe('pending');
      await scratch.client`select pg_terminate_backend(${pid})`;
      const outcome = await within(waiting, 5_000);
      if (outcome === 'pending' || 'error' in outcome)
        throw new Error(`the waiting reserve ${outcome === 'pending' ? 'never settled' : 'failed'}`);
      const lane = outcome.value;
      expect(await lane`select 1 as one`).toEqual([{ one: 1 }]);
      lane.release();
      // And the pool's one connection serves the next query.
      expect(await pool`select 2 as two`).toEqual([{ two: 2 }]);
    } finally {
      await pool.end({ timeout: 1 });
    }
  });
});
