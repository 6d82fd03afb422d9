// Waits until the statistics consumers have applied a number of events (their inbox rows), so tests never sleep.
import type { Bus } from '@samsyn/bus';
import type { Database } from '@samsyn/db';
import { eventually } from '@samsyn/testkit';
import { sql } from 'drizzle-orm';
import { PROJECTED_EVENTS, PROJECTED_STREAMS } from '../../src/projection/case-state.ts';
import type { Published } from './scenario.ts';

export function projected(list: Published[]): number {
  return list.filter((e) => (PROJECTED_EVENTS as readonly string[]).includes(e.name)).length;
}

export async function appliedEvents(database: Database): Promise<number> {
  const rows = (await database.db.execute(
    sql`select count(*)::int as n from statistics.inbox`,
  )) as unknown as { n: number }[];
  return rows[0]?.n ?? 0;
}

export async function waitForApplied(database: Database, n: number, timeoutMs = 20_000): Promise<void> {
  await eventually(
    async () => ((await appliedEvents(database)) >= n ? true : undefined),
    timeoutMs,
    `${n} events applied by statistics`,
  );
}

/** Waits until every statistics consumer has nothing pending and nothing unacknowledged. */
export async function waitForDrained(bus: Bus, timeoutMs = 20_000): Promise<void> {
  await eventually(
    async () => {
      for (const stream of PROJECTED_STREAMS) {
        const info = await bus.jsm.consumers.info(bus.naming.stream(stream), 'statistics');
        if (info.num_pending > 0 || info.num_ack_pending > 0) return undefined;
      }
      return true;
    },
    timeoutMs,
    'statistics consumers drained',
  );
}
