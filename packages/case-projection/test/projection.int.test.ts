// The case projection against real PostgreSQL: whatever order the events arrive in (and however often), the
// participants end the same, and the visibility condition follows them.
import { randomUUID } from 'node:crypto';
import type { ConsumedEvent } from '@samsyn/bus';
import { openPostgres } from '@samsyn/db';
import { createTestDatabase, type TestDatabase } from '@samsyn/testkit';
import { sql } from 'drizzle-orm';
import { pgSchema } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseProjectionHandlers } from '../src/handlers.ts';
import { caseProjectionTables } from '../src/tables.ts';
import { caseParticipants, takesPart, takesPartIn } from '../src/visibility.ts';

const tables = caseProjectionTables(pgSchema('projtest'));
const handlers = caseProjectionHandlers(tables);
let testDb: TestDatabase;
let database: ReturnType<typeof openPostgres>;

beforeAll(async () => {
  testDb = await createTestDatabase('case_projection');
  database = openPostgres({ url: testDb.url, max: 2 });
  // The DDL drizzle-kit generates for the factory (see consent's 0000_init.sql).
  await database.db.execute(
    sql.raw(`
    create schema projtest;
    create table projtest.sip_case (id uuid primary key, requester_org text not null, initiated_at timestamptz);
    create table projtest.case_invitee (invitation_id uuid primary key, case_id uuid not null, org text not null,
      kind text not null, changed_at timestamptz not null,
      constraint case_invitee_kind_ck check (kind in ('summoned','invited')));
  `),
  );
});

afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

const WARD = 'SE2321000032-1001';
const [A, B, C, SUB] = ['SE2120000415-2001', 'SE2120000415-2002', 'SE2120000415-2003', 'SE2120000415-3001'];

function event<T>(data: T): ConsumedEvent<never> {
  return { attrs: { id: randomUUID() } as never, data: data as never, deliveryCount: 1 };
}

/** One case's events: initiated (A summoned, B2 invited), A forwarded to B then to C, a substitute for B2. */
function caseEvents(caseId: string) {
  const first = randomUUID();
  const second = randomUUID();
  const t = (min: number) => new Date(Date.UTC(2026, 10, 23, 9, min)).toISOString();
  return [
    () => (tx: never) =>
      handlers.caseInitiated(
        event({
          caseId,
          requesterOrg: WARD,
          trigger: 'discharge',
          initiatedAt: t(0),
          person: { ageBand: 'older' },
          invitations: [
            { invitationId: first, org: A, kind: 'summoned' },
            { invitationId: second, org: 'SE2120000415-9999', kind: 'invited' },
          ],
        }),
        tx,
      ),
    () => (tx: never) =>
      handlers.invitationForwarded(
        event({
          caseId,
          invitationId: first,
          org: A,
          toOrg: B,
          kind: 'summoned',
          at: t(1),
          requesterOrg: WARD,
        }),
        tx,
      ),
    () => (tx: never) =>
      handlers.invitationForwarded(
        event({
          caseId,
          invitationId: first,
          org: B,
          toOrg: C,
          kind: 'summoned',
          at: t(2),
          requesterOrg: WARD,
        }),
        tx,
      ),
    () => (tx: never) =>
      handlers.invitationCreated(
        event({
          caseId,
          invitationId: randomUUID(),
          org: SUB,
          kind: 'invited',
          at: t(3),
          requesterOrg: WARD,
          cause: 'substitute',
          replaces: second,
        }),
        tx,
      ),
  ];
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

describe('the case projection', () => {
  it('ends with the same participants in every order of arrival, each event applied twice', async () => {
    for (const order of permutations([0, 1, 2, 3])) {
      const caseId = randomUUID();
      const steps = caseEvents(caseId);
      for (const k of [...order, ...order]) {
        const apply = steps[k]?.();
        await database.db.transaction((tx) => apply?.(tx as never) ?? Promise.resolve());
      }
      const participants = await caseParticipants(database.db, tables, caseId);
      expect(participants?.requesterOrg, `order ${order}`).toBe(WARD);
      expect(participants?.invitedOrgs.sort(), `order ${order}`).toEqual(
        [C, SUB, 'SE2120000415-9999'].sort(),
      );
      expect(takesPart(participants as never, C)).toBe(true);
      expect(takesPart(participants as never, A)).toBe(false);
      expect(takesPart(participants as never, B)).toBe(false);
    }
  });

  it('lets the SQL condition agree with the participants: the requester and current invitees only', async () => {
    const caseId = randomUUID();
    for (const step of caseEvents(caseId)) {
      const apply = step();
      await database.db.transaction((tx) => apply(tx as never));
    }
    const visible = async (org: string) => {
      const rows = (await database.db.execute(
        sql`select ${takesPartIn(tables, sql`${caseId}::uuid`, org)} as ok`,
      )) as unknown as { ok: boolean }[];
      return rows[0]?.ok;
    };
    expect(await visible(WARD)).toBe(true);
    expect(await visible(C)).toBe(true);
    expect(await visible(SUB)).toBe(true);
    expect(await visible(A)).toBe(false);
    expect(await visible('SE2321000099-7777')).toBe(false);
  });

  it('does not know a case no event named', async () => {
    expect(await caseParticipants(database.db, tables, randomUUID())).toBeUndefined();
  });
});
