// Durable consumers against real NATS JetStream and PostgreSQL: apply once, retry, dead-letter with a reason.
import { randomUUID } from 'node:crypto';
import { DEAD_LETTER_STREAM, events, toHeaders } from '@samsyn/contracts';
import { openPostgres, type Tx } from '@samsyn/db';
import {
  createTestDatabase,
  deleteNamespaceStreams,
  eventually,
  natsUrl,
  type TestDatabase,
  testNamespace,
} from '@samsyn/testkit';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../src/bus.ts';
import { type ConsumedEvent, DLQ_REASON_HEADER, DLQ_SUBJECT_HEADER, EventConsumer } from '../src/consumer.ts';
import { enqueue } from '../src/outbox.ts';
import { createTables, inbox, outbox } from './support.ts';

const log = pino({ level: 'silent' });
let testDb: TestDatabase;
let database: ReturnType<typeof openPostgres>;
let bus: Bus;
const namespace = testNamespace('consumer');
const consumers: EventConsumer[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase('consumer');
  database = openPostgres({ url: testDb.url, max: 5 });
  await createTables(database.db);
  await database.db.execute(
    sql`create table bustest.applied (n bigserial, event_id text not null, case_id text not null, subject text, tx bigint not null default txid_current())`,
  );
  bus = await Bus.connect({ servers: natsUrl(), name: 'consumer-test', namespace, log });
  await bus.ensureStreams(['INVITATION']);
});

afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.drain()));
});

afterAll(async () => {
  await bus?.close();
  await database?.close();
  await deleteNamespaceStreams(natsUrl(), namespace);
  await testDb?.drop();
});

function validData() {
  return {
    caseId: randomUUID(),
    requesterOrg: 'SE2321000032-1001',
    trigger: 'discharge' as const,
    initiatedAt: new Date().toISOString(),
    person: { ageBand: 'older' as const },
    invitations: [{ invitationId: randomUUID(), org: 'SE2120000415-2001', kind: 'summoned' as const }],
  };
}

/** Each test publishes on a subject of its own and its consumer filters on it, so tests never see each other's events. */
async function publish(
  durable: string,
  body: unknown,
  opts: { id?: string; msgId?: string; type?: string; subject?: string; traceparent?: string } = {},
) {
  const id = opts.id ?? randomUUID();
  const headers = toHeaders({
    id,
    type: opts.type ?? events.caseInitiated.type,
    source: '/test',
    time: new Date().toISOString(),
    subject: opts.subject ?? 'case',
    ...(opts.traceparent ? { traceparent: opts.traceparent } : {}),
  });
  if (opts.msgId) headers['Nats-Msg-Id'] = opts.msgId;
  const data = typeof body === 'string' ? body : JSON.stringify(body);
  await bus.publishRaw(`sip.case.${durable}`, new TextEncoder().encode(data), headers);
  return id;
}

async function startConsumer(
  durable: string,
  handler: (e: ConsumedEvent<'caseInitiated'>, tx: Tx) => Promise<void>,
  maxDeliver = 3,
  lanes: { concurrency?: number; batchSize?: number; independentEvents?: boolean } = {},
) {
  const consumer = new EventConsumer(bus, {
    ...lanes,
    stream: 'INVITATION',
    durable,
    db: database.db,
    inbox,
    log,
    maxDeliver,
    backoffMs: [50],
    filterSubject: `sip.case.${durable}`,
    handlers: { caseInitiated: handler },
  });
  await consumer.start();
  consumers.push(consumer);
  return consumer;
}

async function applied(caseId: string): Promise<number> {
  const rows = await database.db.execute(
    sql`select count(*)::int as n from bustest.applied where case_id = ${caseId}`,
  );
  return Number((rows as unknown as { n: number }[])[0]?.n ?? 0);
}

async function record(e: ConsumedEvent<'caseInitiated'>, tx: Tx) {
  await tx.execute(
    sql`insert into bustest.applied (event_id, case_id, subject) values (${e.attrs.id}, ${e.data.caseId}, ${e.attrs.subject})`,
  );
}

/** Publishes `n` events at once (before a consumer runs, so they queue up as a backlog would under load). */
async function publishBurst(durable: string, n: number, subjectOf: (i: number) => string = () => 'case') {
  const published: { id: string; caseId: string; subject: string }[] = [];
  for (let i = 0; i < n; i++) {
    const data = validData();
    const subject = subjectOf(i);
    published.push({ id: await publish(durable, data, { subject }), caseId: data.caseId, subject });
  }
  return published;
}

async function appliedRows(caseIds: string[]) {
  return (await database.db.execute(
    sql`select event_id, case_id, subject, tx::text as tx from bustest.applied
        where case_id in (${sql.join(
          caseIds.map((c) => sql`${c}`),
          sql`, `,
        )}) order by n`,
  )) as unknown as { event_id: string; case_id: string; subject: string; tx: string }[];
}

async function deadLetters(durable: string) {
  const stream = bus.naming.stream(DEAD_LETTER_STREAM);
  const subject = bus.naming.deadLetterSubject('INVITATION', durable);
  try {
    const m = await bus.jsm.streams.getMessage(stream, { last_by_subj: subject });
    return {
      reason: m.header.get(DLQ_REASON_HEADER),
      subject: m.header.get(DLQ_SUBJECT_HEADER),
      data: m.data,
    };
  } catch {
    return undefined;
  }
}

describe('a durable consumer', () => {
  it('applies a redelivered or replayed event only once (inbox of processed ids)', async () => {
    await startConsumer('dedupe', record);
    const data = validData();
    const id = await publish('dedupe', data);
    // The same event again under another message id, as a replay after the duplicate window would be.
    await publish('dedupe', data, { id, msgId: `${id}-replay` });
    await eventually(async () => ((await applied(data.caseId)) > 0 ? true : undefined), 5000, 'first apply');
    await new Promise((r) => setTimeout(r, 500));
    expect(await applied(data.caseId)).toBe(1);
  });

  it('dead-letters a message that fails schema validation, with the reason, and never applies it', async () => {
    await startConsumer('schema', record);
    const bad = { ...validData(), requesterOrg: 'not-an-hsa-id' };
    await publish('schema', bad);
    const dl = await eventually(() => deadLetters('schema'), 5000, 'dead letter');
    expect(dl.reason).toMatch(/requesterOrg/);
    expect(dl.reason).toMatch(/HSA-id/);
    expect(dl.subject).toBe('sip.case.schema');
    expect(JSON.parse(new TextDecoder().decode(dl.data)).requesterOrg).toBe('not-an-hsa-id');
    expect(await applied(bad.caseId)).toBe(0);
  });

  it('dead-letters a body that is not JSON', async () => {
    await startConsumer('notjson', record);
    await publish('notjson', '{not json');
    const dl = await eventually(() => deadLetters('notjson'), 5000, 'dead letter');
    expect(dl.reason).toMatch(/not JSON/);
  });

  it('dead-letters an event version it does not know instead of acking it away', async () => {
    await startConsumer('version', record);
    await publish('version', validData(), { type: 'se.samsyn.case.initiated.v9' });
    const dl = await eventually(() => deadLetters('version'), 5000, 'dead letter');
    expect(dl.reason).toMatch(/unsupported event version se\.samsyn\.case\.initiated\.v9/);
  });

  it('retries a failing handler and applies the event once it succeeds', async () => {
    let calls = 0;
    await startConsumer(
      'flaky',
      async (e, tx) => {
        calls += 1;
        if (calls < 3) throw new Error('database hiccup');
        await record(e, tx);
      },
      5,
    );
    const data = validData();
    await publish('flaky', data);
    await eventually(
      async () => ((await applied(data.caseId)) > 0 ? true : undefined),
      10_000,
      'apply after retries',
    );
    expect(calls).toBe(3);
    expect(await applied(data.caseId)).toBe(1);
    expect(await deadLetters('flaky')).toBeUndefined();
  });

  it('gives up after the maximum deliveries and dead-letters with the last error', async () => {
    let calls = 0;
    await startConsumer(
      'broken',
      async () => {
        calls += 1;
        throw new Error('downstream always fails');
      },
      3,
    );
    await publish('broken', validData());
    const dl = await eventually(() => deadLetters('broken'), 10_000, 'dead letter');
    expect(dl.reason).toMatch(/gave up after 3 deliveries: downstream always fails/);
    expect(calls).toBe(3);
  });

  it('acknowledges events it has no handler for without dead-lettering them', async () => {
    const consumer = new EventConsumer(bus, {
      stream: 'INVITATION',
      durable: 'nohandler',
      db: database.db,
      inbox,
      log,
      filterSubject: 'sip.case.nohandler',
      handlers: {},
    });
    await consumer.start();
    consumers.push(consumer);
    await publish('nohandler', validData());
    await eventually(
      async () => {
        const info = await bus.jsm.consumers.info(bus.naming.stream('INVITATION'), 'nohandler');
        return info.num_ack_pending === 0 && info.num_pending === 0 && info.delivered.consumer_seq > 0
          ? true
          : undefined;
      },
      5000,
      'ack',
    );
    expect(await deadLetters('nohandler')).toBeUndefined();
  });

  it('applies a backlog in shared transactions, every event exactly once', async () => {
    const published = await publishBurst('burst', 300);
    await startConsumer('burst', record, 3, { concurrency: 4, batchSize: 64 });
    const caseIds = published.map((p) => p.caseId);
    const rows = await eventually(
      async () => {
        const r = await appliedRows(caseIds);
        return r.length >= 300 ? r : undefined;
      },
      15_000,
      'all applied',
    );
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(300);
    expect(rows).toHaveLength(300);
    // 300 events in at most 4 lanes × ceil(300 / 4 / 64) batches each (plus a first batch of one per lane).
    expect(new Set(rows.map((r) => r.tx)).size).toBeLessThanOrEqual(20);
  });

  it('applies the rest of a batch when one event in it fails, and dead-letters only that one', async () => {
    const published = await publishBurst('poison', 100);
    const poison = published[37]?.caseId;
    let poisonCalls = 0;
    await startConsumer(
      'poison',
      async (e, tx) => {
        if (e.data.caseId === poison) {
          poisonCalls += 1;
          throw new Error('this one cannot be applied');
        }
        await record(e, tx);
      },
      2,
      { concurrency: 2, batchSize: 64 },
    );
    const dl = await eventually(() => deadLetters('poison'), 15_000, 'dead letter');
    expect(dl.reason).toMatch(/gave up after 2 deliveries: this one cannot be applied/);
    const others = published.filter((p) => p.caseId !== poison).map((p) => p.caseId);
    const rows = await eventually(
      async () => {
        const r = await appliedRows(others);
        return r.length >= 99 ? r : undefined;
      },
      10_000,
      'the others applied',
    );
    expect(rows).toHaveLength(99);
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(99);
    expect(await applied(poison ?? '')).toBe(0);
    // Tried in the shared batch, then alone, then once more alone on redelivery.
    expect(poisonCalls).toBeGreaterThanOrEqual(2);
  });

  it("applies one subject's events in stream order while different subjects run in parallel lanes", async () => {
    const published = await publishBurst('order', 210, (i) => `case-${i % 7}`);
    await startConsumer(
      'order',
      async (e, tx) => {
        await new Promise((r) => setTimeout(r, Math.random() * 3));
        await record(e, tx);
      },
      3,
      { concurrency: 4, batchSize: 8 },
    );
    const rows = await eventually(
      async () => {
        const r = await appliedRows(published.map((p) => p.caseId));
        return r.length >= 210 ? r : undefined;
      },
      20_000,
      'all applied',
    );
    for (let k = 0; k < 7; k++) {
      const subject = `case-${k}`;
      expect(rows.filter((r) => r.subject === subject).map((r) => r.event_id)).toEqual(
        published.filter((p) => p.subject === subject).map((p) => p.id),
      );
    }
  });

  it('applies independent events of a batch together, each once, and still isolates one that fails', async () => {
    const published = await publishBurst('independent', 200);
    const poison = published[120]?.caseId;
    await startConsumer(
      'independent',
      async (e, tx) => {
        if (e.data.caseId === poison) throw new Error('this one cannot be applied');
        await record(e, tx);
      },
      1,
      { concurrency: 2, batchSize: 64, independentEvents: true },
    );
    const dl = await eventually(() => deadLetters('independent'), 15_000, 'dead letter');
    expect(dl.reason).toMatch(/this one cannot be applied/);
    const others = published.filter((p) => p.caseId !== poison).map((p) => p.caseId);
    const rows = await eventually(
      async () => {
        const r = await appliedRows(others);
        return r.length >= 199 ? r : undefined;
      },
      10_000,
      'the others applied',
    );
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(199);
    expect(rows).toHaveLength(199);
  });

  it('gives an event a handler enqueues the trace of the event it handled, as a new span', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const incoming = `00-${traceId}-00f067aa0ba902b7-01`;
    const caused = new Map<string, string>();
    await startConsumer('trace', async (e, tx) => {
      const id = await enqueue(
        tx,
        outbox,
        events.caseInitiated,
        { ...e.data, caseId: randomUUID() },
        {
          aggregate: e.data.caseId,
          source: '/test',
        },
      );
      caused.set(e.data.caseId, id);
    });
    const traced = validData();
    const untraced = validData();
    await publish('trace', traced, { traceparent: incoming });
    await publish('trace', untraced);
    const headersOf = async (caseId: string) =>
      eventually(
        async () => {
          const id = caused.get(caseId);
          if (!id) return undefined;
          const rows = (await database.db.execute(
            sql`select headers from bustest.outbox where id = ${id}`,
          )) as unknown as { headers: Record<string, string> }[];
          return rows[0]?.headers;
        },
        5000,
        'the caused event',
      );
    const child = (await headersOf(traced.caseId)).traceparent;
    expect(child).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(child).not.toBe(incoming);
    expect((await headersOf(untraced.caseId)).traceparent).toBeUndefined();
  });
});
