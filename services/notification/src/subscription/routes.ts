// The Subscription routes: create (then handshake), read, search, delete, $status and $events (Backport IG).
import { randomUUID } from 'node:crypto';
import type { Db } from '@samsyn/db';
import {
  fhirBase,
  InvalidRequest,
  MethodNotAllowed,
  NotFound,
  parseSearch,
  type ResourceCapability,
  readResource,
  searchBundle,
  sendBundle,
  sendResource,
} from '@samsyn/fhir';
import { type AppEnv, requireScope } from '@samsyn/platform';
import { and, asc, desc, eq, gte, inArray, lte, type SQL, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { type SubscriptionRow, subscriptionEvents, subscriptions } from '../db/schema.ts';
import {
  notificationBundle,
  type PayloadContent,
  readSubscription,
  statusBundle,
  toSubscription,
} from './resource.ts';
import { TOPICS } from './topics.ts';

export const subscriptionCapability: ResourceCapability = {
  type: 'Subscription',
  interactions: ['create', 'read', 'delete', 'search-type'],
  searchParams: [{ name: 'status', type: 'token' }],
  documentation:
    `R4 Subscriptions Backport IG, rest-hook only; topics ${Object.values(TOPICS).join(', ')}. ` +
    'Payloads empty, id-only or full-resource; $status and $events on each Subscription.',
};

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function ownSubscription(db: Db, id: string | undefined, org: string): Promise<SubscriptionRow> {
  if (!id || !UUID_RE.test(id)) throw new NotFound('Subscription', id ?? '');
  const [row] = await db
    .select()
    .from(subscriptions)
    .where(and(eq(subscriptions.id, id), eq(subscriptions.ownerOrg, org)))
    .limit(1);
  if (!row) throw new NotFound('Subscription', id);
  return row;
}

function eventNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new InvalidRequest('invalid-parameters', `${name} must be a whole event number`);
  return Number(value);
}

export function subscriptionRoutes(deps: { db: Db; onCreated: () => void }): Hono<AppEnv> {
  const { db } = deps;
  const app = new Hono<AppEnv>();

  app.post('/', async (c) => {
    requireScope(c.var.auth, 'Subscription', 'c');
    const input = readSubscription(await readResource(c, 'Subscription'));
    const [row] = await db
      .insert(subscriptions)
      .values({
        id: randomUUID(),
        ownerOrg: c.var.auth.org,
        status: 'requested',
        topic: input.topic,
        filters: input.filters,
        endpoint: input.endpoint,
        headers: input.headers,
        content: input.content,
        heartbeatSeconds: input.heartbeatSeconds,
        timeoutSeconds: input.timeoutSeconds,
        resource: input.resource,
      })
      .returning();
    if (!row) throw new Error('subscription insert returned nothing');
    deps.onCreated();
    return sendResource(c, toSubscription(row), { status: 201, location: fhirBase(c) });
  });

  app.get('/', async (c) => {
    requireScope(c.var.auth, 'Subscription', 's');
    const search = parseSearch(new URL(c.req.url).searchParams, { status: { kind: 'token' } });
    const conditions: SQL[] = [eq(subscriptions.ownerOrg, c.var.auth.org)];
    for (const p of search.params)
      if (p.name === 'status') conditions.push(inArray(subscriptions.status, p.values));
    const where = and(...conditions);
    const [count] = await db.select({ n: sql<number>`count(*)::int` }).from(subscriptions).where(where);
    const rows = await db
      .select()
      .from(subscriptions)
      .where(where)
      .orderBy(desc(subscriptions.createdAt))
      .limit(search.count)
      .offset(search.offset);
    return sendBundle(
      c,
      searchBundle({
        resources: rows.map(toSubscription),
        total: count?.n ?? 0,
        requestUrl: c.req.url,
        count: search.count,
        offset: search.offset,
      }),
    );
  });

  app.get('/$status', async (c) => {
    requireScope(c.var.auth, 'Subscription', 'r');
    const ids = new URL(c.req.url).searchParams.getAll('id').flatMap((v) => v.split(','));
    if (ids.length === 0)
      throw new InvalidRequest('invalid-parameters', '$status at type level needs id=<Subscription id>');
    const rows = await Promise.all(
      ids.map((id) => ownSubscription(db, id.replace(/^Subscription\//, ''), c.var.auth.org)),
    );
    const bundles = rows.map((r) => statusBundle(r, fhirBase(c)));
    return sendBundle(c, {
      ...bundles[0],
      total: rows.length,
      entry: bundles.flatMap((b) => b.entry ?? []),
    } as never);
  });

  app.get('/:id/$status', async (c) => {
    requireScope(c.var.auth, 'Subscription', 'r');
    return sendBundle(
      c,
      statusBundle(await ownSubscription(db, c.req.param('id'), c.var.auth.org), fhirBase(c)),
    );
  });

  app.get('/:id/$events', async (c) => {
    requireScope(c.var.auth, 'Subscription', 'r');
    const row = await ownSubscription(db, c.req.param('id'), c.var.auth.org);
    const q = new URL(c.req.url).searchParams;
    for (const key of q.keys()) {
      if (!['eventsSinceNumber', 'eventsUntilNumber', 'content'].includes(key)) {
        throw new InvalidRequest(
          'invalid-parameters',
          `Unknown $events parameter '${key}'; supported: eventsSinceNumber, eventsUntilNumber, content`,
        );
      }
    }
    const since = eventNumber('eventsSinceNumber', q.get('eventsSinceNumber') ?? undefined);
    const until = eventNumber('eventsUntilNumber', q.get('eventsUntilNumber') ?? undefined);
    const content = (q.get('content') ?? row.content) as PayloadContent;
    if (!['empty', 'id-only', 'full-resource'].includes(content)) {
      throw new InvalidRequest('invalid-parameters', 'content must be empty, id-only or full-resource');
    }
    const conditions: SQL[] = [eq(subscriptionEvents.subscriptionId, row.id)];
    if (since !== undefined) conditions.push(gte(subscriptionEvents.eventNumber, since));
    if (until !== undefined) conditions.push(lte(subscriptionEvents.eventNumber, until));
    const events = await db
      .select()
      .from(subscriptionEvents)
      .where(and(...conditions))
      .orderBy(asc(subscriptionEvents.eventNumber))
      .limit(1000);
    return sendBundle(
      c,
      notificationBundle({ row, kind: 'query-event', events, fhirBase: fhirBase(c), content }),
    );
  });

  app.get('/:id', async (c) => {
    requireScope(c.var.auth, 'Subscription', 'r');
    return sendResource(c, toSubscription(await ownSubscription(db, c.req.param('id'), c.var.auth.org)));
  });

  app.delete('/:id', async (c) => {
    requireScope(c.var.auth, 'Subscription', 'd');
    const row = await ownSubscription(db, c.req.param('id'), c.var.auth.org);
    await db.transaction(async (tx) => {
      await tx.delete(subscriptionEvents).where(eq(subscriptionEvents.subscriptionId, row.id));
      await tx.delete(subscriptions).where(eq(subscriptions.id, row.id));
    });
    return c.body(null, 204);
  });

  for (const method of ['put', 'patch'] as const) {
    app[method]('/:id', () => {
      throw new MethodNotAllowed('A Subscription cannot be changed; delete it and create a new one');
    });
  }
  return app;
}
