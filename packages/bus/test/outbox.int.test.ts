// The outbox relay against a real PostgreSQL and a nats-server this test stops and starts.
import { randomUUID } from 'node:crypto';
import { events } from '@samsyn/contracts';
import { openPostgres } from '@samsyn/db';
import {
  createTestDatabase,
  eventually,
  type PrivateNats,
  privateNatsServer,
  type TestDatabase,
} from '@samsyn/testkit';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../src/bus.ts';
import { enqueue, OutboxRelay } from '../src/outbox.ts';
import { createTables, outbox } from './support.ts';

const log = pino({ level: 'silent' });
let nats: PrivateNats;
let testDb: TestDatabase;
let database: ReturnType<typeof openPostgres>;
let bus: Bus;
let relay: OutboxRelay;
/** What the relay reported for the backlog gauge, in order. */
const backlogSeen: number[] = [];

function payload() {
  return {
    caseId: randomUUID(),
    requesterOrg: 'SE2321000032-1001',
    trigger: 'other' as const,
    initiatedAt: new Date().toISOString(),
    person: { ageBand: 'adult' as const },
    invitations: [{ invitationId: randomUUID(), org: 'SE2120000415-2001', kind: 'summoned' as const }],
  };
}

beforeAll(async () => {
  nats = await privateNatsServer();
  testDb = await createTestDatabase('outbox');
  database = openPostgres({ url: testDb.url, max: 3 });
  await createTables(database.db);
  bus = await Bus.connect({ servers: nats.url, name: 'outbox-test', log });
  await bus.ensureStreams(['INVITATION']);
  relay = new OutboxRelay({
    db: database.db,
    outbox,
    bus,
    log,
    pollMs: 100,
    onBacklog: (n) => backlogSeen.push(n),
  });
  relay.start();
});

afterAll(async () => {
  await relay?.stop();
  await bus?.close();
  await database?.close();
  await testDb?.drop();
  await nats?.dispose();
});

async function streamMessages(): Promise<number> {
  const info = await bus.jsm.streams.info('INVITATION');
  return info.state.messages;
}

describe('the outbox relay', () => {
  it('publishes a committed event with its CloudEvents headers and marks it sent', async () => {
    const data = payload();
    const id = await database.db.transaction((tx) =>
      enqueue(tx, outbox, events.caseInitiated, data, { aggregate: data.caseId, source: '/test' }),
    );
    relay.kick();
    await eventually(
      async () => {
        const [row] = await database.db.select().from(outbox).where(eq(outbox.id, id));
        return row?.publishedAt ?? undefined;
      },
      5000,
      'outbox row marked published',
    );
    const msg = await bus.jsm.streams.getMessage('INVITATION', { last_by_subj: 'sip.case.initiated' });
    expect(msg.header.get('ce-id')).toBe(id);
    expect(msg.header.get('Nats-Msg-Id')).toBe(id);
    expect(msg.header.get('ce-type')).toBe('se.samsyn.case.initiated.v1');
    expect(msg.header.get('ce-subject')).toBe(data.caseId);
    expect(JSON.parse(new TextDecoder().decode(msg.data))).toEqual(data);
  });

  it('publishes nothing for a transaction that rolled back', async () => {
    const before = await streamMessages();
    const data = payload();
    await expect(
      database.db.transaction(async (tx) => {
        await enqueue(tx, outbox, events.caseInitiated, data, { aggregate: data.caseId, source: '/test' });
        throw new Error('state change failed');
      }),
    ).rejects.toThrow('state change failed');
    relay.kick();
    await new Promise((r) => setTimeout(r, 300));
    expect(await streamMessages()).toBe(before);
  });

  it('refuses to enqueue an event that breaks its contract', async () => {
    const bad = { ...payload(), invitations: [] };
    await expect(
      database.db.transaction((tx) =>
        enqueue(tx, outbox, events.caseInitiated, bad, { aggregate: 'x', source: '/test' }),
      ),
    ).rejects.toThrow(/at least one organisation/);
  });

  it('keeps an event committed while NATS is down and publishes it exactly once when NATS is back', async () => {
    const before = await streamMessages();
    await nats.stop();
    const data = payload();
    const id = await database.db.transaction((tx) =>
      enqueue(tx, outbox, events.caseInitiated, data, { aggregate: data.caseId, source: '/test' }),
    );
    relay.kick();
    // While the broker is away the row stays unpublished, and the relay records its attempts.
    await eventually(
      async () => {
        const [row] = await database.db.select().from(outbox).where(eq(outbox.id, id));
        return row && row.attempts > 0 ? row : undefined;
      },
      15_000,
      'a failed publish attempt',
    );
    const [waiting] = await database.db.select().from(outbox).where(eq(outbox.id, id));
    expect(waiting?.publishedAt).toBeNull();
    // The backlog gauge shows the waiting row while NATS is away (without anyone calling /readyz).
    await eventually(async () => (backlogSeen.at(-1) === 1 ? true : undefined), 10_000, 'backlog of 1');

    await nats.start();
    await eventually(
      async () => {
        const [row] = await database.db.select().from(outbox).where(eq(outbox.id, id));
        return row?.publishedAt ?? undefined;
      },
      20_000,
      'publish after NATS came back',
    );
    expect(await streamMessages()).toBe(before + 1);
    await eventually(async () => (backlogSeen.at(-1) === 0 ? true : undefined), 5000, 'backlog back to 0');
    const msg = await bus.jsm.streams.getMessage('INVITATION', { last_by_subj: 'sip.case.initiated' });
    expect(msg.header.get('ce-id')).toBe(id);
  });
});
