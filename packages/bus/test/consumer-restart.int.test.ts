// A durable consumer across a restart of the NATS server it pulls from (the fault run restarts NATS under load):
// it must keep applying events afterwards, and must never take the process down with an unhandled rejection.
import { randomUUID } from 'node:crypto';
import { events, toHeaders } from '@samsyn/contracts';
import { openPostgres } from '@samsyn/db';
import {
  createTestDatabase,
  eventually,
  type PrivateNats,
  privateNatsServer,
  type TestDatabase,
} from '@samsyn/testkit';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../src/bus.ts';
import { EventConsumer } from '../src/consumer.ts';
import { createTables, inbox } from './support.ts';

const log = pino({ level: 'silent' });
let nats: PrivateNats;
let testDb: TestDatabase;
let database: ReturnType<typeof openPostgres>;
let bus: Bus;
let consumer: EventConsumer;
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  nats = await privateNatsServer();
  testDb = await createTestDatabase('consumerrestart');
  database = openPostgres({ url: testDb.url, max: 3 });
  await createTables(database.db);
  await database.db.execute(sql`create table bustest.applied (case_id text not null)`);
  bus = await Bus.connect({ servers: nats.url, name: 'consumer-restart-test', log });
  await bus.ensureStreams(['INVITATION']);
  consumer = new EventConsumer(bus, {
    stream: 'INVITATION',
    durable: 'restart-test',
    db: database.db,
    inbox,
    log,
    backoffMs: [50],
    handlers: {
      caseInitiated: async (e, tx) => {
        await tx.execute(sql`insert into bustest.applied (case_id) values (${e.data.caseId})`);
      },
    },
  });
  await consumer.start();
}, 60_000);

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await consumer?.drain();
  await bus?.close();
  await database?.close();
  await testDb?.drop();
  await nats?.dispose();
});

async function publish(): Promise<string> {
  const caseId = randomUUID();
  const headers = toHeaders({
    id: randomUUID(),
    type: events.caseInitiated.type,
    source: '/test',
    time: new Date().toISOString(),
    subject: caseId,
  });
  const data = {
    caseId,
    requesterOrg: 'SE2321000032-1001',
    trigger: 'other' as const,
    initiatedAt: new Date().toISOString(),
    person: { ageBand: 'adult' as const },
    invitations: [{ invitationId: randomUUID(), org: 'SE2120000415-2001', kind: 'summoned' as const }],
  };
  await bus.publishRaw('sip.case.initiated', new TextEncoder().encode(JSON.stringify(data)), headers);
  return caseId;
}

async function applied(caseId: string): Promise<boolean | undefined> {
  const rows = (await database.db.execute(
    sql`select 1 from bustest.applied where case_id = ${caseId}`,
  )) as unknown as unknown[];
  return rows.length > 0 ? true : undefined;
}

describe('a durable consumer when its NATS server restarts', () => {
  it('applies events published after the restart, without an unhandled rejection', async () => {
    const before = await publish();
    await eventually(() => applied(before), 10_000, 'event before the restart applied');
    await nats.stop();
    await new Promise((r) => setTimeout(r, 1500));
    await nats.start();
    const after = await eventually(
      async () => {
        try {
          return await publish();
        } catch {
          return undefined; // the client is still reconnecting
        }
      },
      20_000,
      'publish after the restart',
    );
    await eventually(() => applied(after), 30_000, 'event after the restart applied');
    expect(unhandled).toEqual([]);
  }, 90_000);
});
