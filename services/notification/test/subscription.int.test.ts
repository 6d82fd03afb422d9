// FHIR Subscriptions (R4 Backport IG) delivered to a real HTTP endpoint acting as a record system's rest-hook:
// handshake, heartbeat, the three payload contents, filters, error after repeated failures and healing, resume
// after a restart.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { borrowed } from '@samsyn/db';
import type { Bundle, OperationOutcome, Parameters, Subscription, Task } from '@samsyn/fhir';
import { processMetrics, type ServiceInstance } from '@samsyn/platform';
import { assertValidFhir, eventually, type Harness, ORGS, startHarness } from '@samsyn/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotificationService } from '../src/service.ts';
import { TOPICS } from '../src/subscription/topics.ts';
import { initiated, publish } from './support.ts';

interface Hit {
  path: string;
  headers: IncomingHttpHeaders;
  bundle: Bundle;
}
const hits: Hit[] = [];
/** Status the endpoint answers per path (default 200). */
const answer = new Map<string, number>();
const endpoint = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const path = req.url ?? '/';
    const status = answer.get(path) ?? 200;
    if (status === 200) {
      hits.push({
        path,
        headers: req.headers,
        bundle: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Bundle,
      });
    }
    res.writeHead(status).end();
  });
});
let base = '';

let h: Harness;
beforeAll(async () => {
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
  h = await startHarness({
    label: 'notifysubs',
    factories: [createNotificationService],
    env: {
      NOTIFICATION_WORKER_POLL_MS: '50',
      NOTIFICATION_HOOK_BACKOFF_MS: '100,200',
      NOTIFICATION_HOOK_ERROR_AFTER: '3',
      NOTIFICATION_PUBLIC_URL: 'https://samsyn.example.se',
    },
  });
});
afterAll(async () => {
  await h?.stop();
  await new Promise<void>((resolve) => endpoint.close(() => resolve()));
});

interface SubOptions {
  topic?: string;
  path: string;
  content?: 'empty' | 'id-only' | 'full-resource';
  filters?: string[];
  heartbeat?: number;
  headers?: string[];
}

function subscription(o: SubOptions): Record<string, unknown> {
  return {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'Journalsystemet vill veta när SIP-ärenden ändras',
    criteria: o.topic ?? TOPICS.invitation,
    _criteria: {
      extension: (o.filters ?? []).map((valueString) => ({
        url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria',
        valueString,
      })),
    },
    channel: {
      type: 'rest-hook',
      endpoint: `${base}${o.path}`,
      payload: 'application/fhir+json',
      _payload: {
        extension: [
          {
            url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content',
            valueCode: o.content ?? 'id-only',
          },
        ],
      },
      header: o.headers ?? [],
      ...(o.heartbeat
        ? {
            extension: [
              {
                url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-heartbeat-period',
                valueUnsignedInt: o.heartbeat,
              },
            ],
          }
        : {}),
    },
  };
}

async function create(o: SubOptions, org: string = ORGS.municipalitySocial): Promise<Subscription> {
  const res = await h.request('/fhir/Subscription', {
    method: 'POST',
    org,
    body: JSON.stringify(subscription(o)),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  expect(res.headers.get('location')).toMatch(/\/fhir\/Subscription\/[0-9a-f-]{36}\/_history\/1$/);
  const sub = (await res.json()) as Subscription;
  assertValidFhir(sub);
  return sub;
}

function statusOf(bundle: Bundle): Record<string, unknown> {
  const params = bundle.entry?.[0]?.resource as Parameters;
  expect(params.resourceType).toBe('Parameters');
  const out: Record<string, unknown> = {};
  for (const p of params.parameter ?? []) {
    const value =
      p.valueCode ??
      p.valueString ??
      p.valueCanonical ??
      p.valueReference?.reference ??
      p.valueCodeableConcept?.text;
    if (p.name === 'notification-event') {
      const events = (out.events as unknown[] | undefined) ?? [];
      events.push(
        Object.fromEntries(
          (p.part ?? []).map((q) => [q.name, q.valueString ?? q.valueInstant ?? q.valueReference?.reference]),
        ),
      );
      out.events = events;
    } else out[p.name] = value;
  }
  return out;
}

const hitsTo = (path: string, type?: string) =>
  hits.filter((x) => x.path === path && (type === undefined || statusOf(x.bundle).type === type));

async function readSub(id: string, org: string = ORGS.municipalitySocial): Promise<Subscription> {
  const res = await h.request(`/fhir/Subscription/${id}`, { org });
  expect(res.status).toBe(200);
  return (await res.json()) as Subscription;
}

describe('creating a subscription', () => {
  it('handshakes with the endpoint, sending its headers, and becomes active', async () => {
    const sub = await create({
      path: '/handshake',
      headers: ['Authorization: Bearer journal-secret', 'X-Journal: 7'],
    });
    expect(sub.status).toBe('requested');
    const [hit] = await eventually(
      async () => {
        const list = hitsTo('/handshake');
        return list.length > 0 ? list : undefined;
      },
      20_000,
      'handshake',
    );
    expect(hit?.headers.authorization).toBe('Bearer journal-secret');
    expect(hit?.headers['x-journal']).toBe('7');
    expect(hit?.headers['content-type']).toBe('application/fhir+json');
    assertValidFhir(hit?.bundle);
    expect(hit?.bundle.type).toBe('history');
    expect(statusOf(hit?.bundle as Bundle)).toMatchObject({
      type: 'handshake',
      topic: TOPICS.invitation,
      'events-since-subscription-start': '0',
      subscription: `https://samsyn.example.se/fhir/Subscription/${sub.id}`,
    });
    await eventually(
      async () => ((await readSub(sub.id as string)).status === 'active' ? true : undefined),
      20_000,
      'active',
    );
  });

  it('refuses an unknown topic, another channel, a bad endpoint, header or filter with a 400 listing each', async () => {
    const bad = subscription({
      path: '/x',
      filters: ['Task?colour=red', 'CarePlan?status=active'],
      headers: ['no colon here'],
    });
    bad.criteria = 'https://example.org/SubscriptionTopic/everything';
    (bad.channel as Record<string, unknown>).type = 'websocket';
    (bad.channel as Record<string, unknown>).endpoint = 'ftp://journal';
    const res = await h.request('/fhir/Subscription', {
      method: 'POST',
      org: ORGS.municipalitySocial,
      body: JSON.stringify(bad),
    });
    expect(res.status).toBe(400);
    const text = ((await res.json()) as OperationOutcome).issue.map((i) => i.diagnostics).join('\n');
    expect(text).toMatch(/criteria must be one of the topics/);
    expect(text).toMatch(/Only the rest-hook channel/);
    expect(text).toMatch(/endpoint must be an http\(s\) URL/);
    expect(text).toMatch(/'no colon here' is not an HTTP header line/);
    const filterRes = await h.request('/fhir/Subscription', {
      method: 'POST',
      org: ORGS.municipalitySocial,
      body: JSON.stringify(subscription({ path: '/x', filters: ['Task?colour=red'] })),
    });
    expect(((await filterRes.json()) as OperationOutcome).issue[0]?.diagnostics).toMatch(
      /Filter parameter 'colour' is not supported by this topic; supported: _id, part-of, owner, status/,
    );
  });

  it('answers malformed shapes with a 400 naming the element, never a 500', async () => {
    for (const [mutate, says] of [
      [
        (b: Record<string, unknown>) => Object.assign(b.channel as object, { header: 'Authorization: x' }),
        /channel.header must be an array of strings/,
      ],
      [(b: Record<string, unknown>) => Object.assign(b, { _criteria: { extension: [null] } }), /./],
      [
        (b: Record<string, unknown>) => Object.assign(b, { channel: [] }),
        /Subscription.channel must be an object/,
      ],
      [
        (b: Record<string, unknown>) => Object.assign(b, { criteria: 42 }),
        /Subscription.criteria must be a string/,
      ],
      [(b: Record<string, unknown>) => Object.assign(b.channel as object, { extension: [null, 7] }), /./],
    ] as const) {
      const body = subscription({ path: '/shape' });
      mutate(body);
      const res = await h.request('/fhir/Subscription', {
        method: 'POST',
        org: ORGS.outsider,
        body: JSON.stringify(body),
      });
      const text = await res.text();
      expect(res.status, text).toBeLessThan(500);
      if (res.status !== 201) expect(text).toMatch(says);
    }
  });

  it('is visible only to the unit that created it, and gone after delete', async () => {
    const sub = await create({ path: '/private' });
    expect((await h.request(`/fhir/Subscription/${sub.id}`, { org: ORGS.outsider })).status).toBe(404);
    expect(
      (await h.request(`/fhir/Subscription/${sub.id}`, { method: 'DELETE', org: ORGS.outsider })).status,
    ).toBe(404);
    expect(
      (await h.request(`/fhir/Subscription/${sub.id}`, { method: 'DELETE', org: ORGS.municipalitySocial }))
        .status,
    ).toBe(204);
    expect((await h.request(`/fhir/Subscription/${sub.id}`, { org: ORGS.municipalitySocial })).status).toBe(
      404,
    );
  });
});

describe('notifications', () => {
  it('id-only: a history Bundle with the SubscriptionStatus first, counting events, and the focus by reference only', async () => {
    const sub = await create({ path: '/id-only', filters: [`Task?owner=${ORGS.municipalitySocial}`] });
    await eventually(
      async () => (hitsTo('/id-only', 'handshake').length > 0 ? true : undefined),
      20_000,
      'handshake',
    );
    const c = initiated();
    await publish(h, 'caseInitiated', c);
    const social = c.invitations.find((i) => i.org === ORGS.municipalitySocial);
    const [hit] = await eventually(
      async () => {
        const list = hitsTo('/id-only', 'event-notification');
        return list.length > 0 ? list : undefined;
      },
      20_000,
      'event notification',
    );
    const bundle = hit?.bundle as Bundle;
    assertValidFhir(bundle);
    expect(bundle.type).toBe('history');
    const status = statusOf(bundle);
    expect(status).toMatchObject({ status: 'active', 'events-since-subscription-start': '1' });
    // The filter on owner leaves out home care's invitation.
    expect(status.events).toEqual([
      expect.objectContaining({
        'event-number': '1',
        focus: `https://samsyn.example.se/fhir/Task/${social?.invitationId}`,
      }),
    ]);
    expect(bundle.entry).toHaveLength(2);
    expect(bundle.entry?.[1]?.fullUrl).toBe(`https://samsyn.example.se/fhir/Task/${social?.invitationId}`);
    expect(bundle.entry?.[1]?.resource).toBeUndefined();

    await publish(h, 'invitationAccepted', {
      caseId: c.caseId,
      invitationId: social?.invitationId as string,
      org: ORGS.municipalitySocial,
      kind: 'invited',
      at: '2026-11-21T09:00:00.000Z',
      requesterOrg: ORGS.regionWard,
    });
    const second = await eventually(
      async () => hitsTo('/id-only', 'event-notification')[1],
      20_000,
      'second',
    );
    expect(statusOf(second.bundle)).toMatchObject({ 'events-since-subscription-start': '2' });

    const res = await h.request(`/fhir/Subscription/${sub.id}/$status`, { org: ORGS.municipalitySocial });
    const statusBundle = (await res.json()) as Bundle;
    assertValidFhir(statusBundle);
    expect(statusOf(statusBundle)).toMatchObject({
      type: 'query-status',
      status: 'active',
      'events-since-subscription-start': '2',
    });

    const events = (await (
      await h.request(`/fhir/Subscription/${sub.id}/$events?eventsSinceNumber=2&content=full-resource`, {
        org: ORGS.municipalitySocial,
      })
    ).json()) as Bundle;
    assertValidFhir(events);
    expect(statusOf(events).events).toEqual([expect.objectContaining({ 'event-number': '2' })]);
    expect((events.entry?.[1]?.resource as Task | undefined)?.status).toBe('accepted');
    const bad = await h.request(`/fhir/Subscription/${sub.id}/$events?eventsSinceNumber=two`, {
      org: ORGS.municipalitySocial,
    });
    expect(bad.status).toBe(400);
  });

  it('full-resource: the case Task as Samsyn knows it from the event, with its business status', async () => {
    await create({ path: '/full', topic: TOPICS.case, content: 'full-resource' }, ORGS.regionWard);
    await eventually(
      async () => (hitsTo('/full', 'handshake').length > 0 ? true : undefined),
      20_000,
      'handshake',
    );
    const c = initiated();
    await publish(h, 'caseInitiated', c);
    await publish(h, 'caseTransitioned', {
      caseId: c.caseId,
      from: 'awaiting-consent',
      to: 'invited',
      at: '2026-11-21T09:00:00.000Z',
    });
    const tasks = await eventually(
      async () => {
        const all = hitsTo('/full', 'event-notification').flatMap((x) => (x.bundle.entry ?? []).slice(1));
        const mine = all.map((e) => e.resource as Task).filter((t) => t?.id === c.caseId);
        return mine.some((t) => t.businessStatus?.coding?.[0]?.code === 'invited') ? mine : undefined;
      },
      20_000,
      'case notifications',
    );
    for (const t of tasks) assertValidFhir(t);
    expect(tasks.at(-1)?.status).toBe('in-progress');
    expect(JSON.stringify(tasks)).not.toMatch(/191212121212|Tolvan/);
  });

  it('empty: only the SubscriptionStatus, no focus at all', async () => {
    await create({ path: '/empty', content: 'empty' }, ORGS.municipalityHomeCare);
    await eventually(
      async () => (hitsTo('/empty', 'handshake').length > 0 ? true : undefined),
      20_000,
      'handshake',
    );
    const c = initiated();
    await publish(h, 'caseInitiated', c);
    const hit = await eventually(
      async () => hitsTo('/empty', 'event-notification')[0],
      20_000,
      'empty notification',
    );
    expect(hit.bundle.entry).toHaveLength(1);
    expect(JSON.stringify(hit.bundle)).not.toContain(c.invitations[0]?.invitationId);
    // Both invitations of the case, numbered, with no focus named.
    expect(statusOf(hit.bundle).events).toEqual([
      { 'event-number': '1', timestamp: expect.any(String) },
      { 'event-number': '2', timestamp: expect.any(String) },
    ]);
  });

  it('tells a unit nothing about a case it does not take part in', async () => {
    await create({ path: '/outsider', topic: TOPICS.case }, ORGS.outsider);
    await eventually(
      async () => (hitsTo('/outsider', 'handshake').length > 0 ? true : undefined),
      20_000,
      'handshake',
    );
    await publish(h, 'caseInitiated', initiated());
    await new Promise((r) => setTimeout(r, 600));
    expect(hitsTo('/outsider', 'event-notification')).toEqual([]);
  });

  it('sends heartbeats while there is nothing to tell', async () => {
    await create({ path: '/heartbeat', heartbeat: 1 }, ORGS.outsider);
    await eventually(
      async () => (hitsTo('/heartbeat', 'heartbeat').length >= 2 ? true : undefined),
      20_000,
      'heartbeats',
    );
    const [beat] = hitsTo('/heartbeat', 'heartbeat');
    assertValidFhir(beat?.bundle);
    expect(beat?.bundle.entry).toHaveLength(1);
  });
});

describe('a failing endpoint', () => {
  it('turns the subscription to error after repeated failures, keeps the events, and heals when the endpoint is back', async () => {
    const sub = await create({ path: '/flaky' }, ORGS.municipalityHomeCare);
    await eventually(
      async () => (hitsTo('/flaky', 'handshake').length > 0 ? true : undefined),
      20_000,
      'handshake',
    );
    answer.set('/flaky', 503);
    const c = initiated();
    await publish(h, 'caseInitiated', c);
    const failed = await eventually(
      async () => {
        const s = await readSub(sub.id as string, ORGS.municipalityHomeCare);
        return s.status === 'error' ? s : undefined;
      },
      20_000,
      'error status',
    );
    expect(failed.error).toBe('endpoint answered HTTP 503');
    const res = await h.request(`/fhir/Subscription/${sub.id}/$status`, { org: ORGS.municipalityHomeCare });
    expect(statusOf((await res.json()) as Bundle)).toMatchObject({
      status: 'error',
      error: 'endpoint answered HTTP 503',
    });
    // More happens while it is down.
    await publish(h, 'invitationAccepted', {
      caseId: c.caseId,
      invitationId: c.invitations[0]?.invitationId as string,
      org: ORGS.municipalityHomeCare,
      kind: 'summoned',
      at: '2026-11-21T09:00:00.000Z',
      requesterOrg: ORGS.regionWard,
    });
    answer.delete('/flaky');
    await eventually(
      async () =>
        (await readSub(sub.id as string, ORGS.municipalityHomeCare)).status === 'active' ? true : undefined,
      20_000,
      'healed',
    );
    const delivered = await eventually(
      async () => {
        const numbers = hitsTo('/flaky', 'event-notification').flatMap((x) =>
          ((statusOf(x.bundle).events as { 'event-number': string }[] | undefined) ?? []).map(
            (e) => e['event-number'],
          ),
        );
        return numbers.length >= 3 ? numbers : undefined;
      },
      20_000,
      'all three events',
    );
    // Both invitations of the new case, then the acceptance: none lost, in order.
    expect(delivered).toEqual(['1', '2', '3']);
  });

  it('a handshake that fails leaves the subscription in error', async () => {
    answer.set('/down', 500);
    const sub = await create({ path: '/down' }, ORGS.outsider);
    const s = await eventually(
      async () => {
        const now = await readSub(sub.id as string, ORGS.outsider);
        return now.status === 'error' ? now : undefined;
      },
      20_000,
      'error',
    );
    expect(s.error).toMatch(/HTTP 500/);
  });
});

describe('a restart', () => {
  it('resumes delivery of what happened while the service was down, in order, without gaps', async () => {
    const sub = await create({ path: '/restart' }, ORGS.regionWard);
    await eventually(
      async () => (hitsTo('/restart', 'handshake').length > 0 ? true : undefined),
      20_000,
      'handshake',
    );
    const [service] = h.services as [ServiceInstance];
    await service.stop();
    const c = initiated();
    await publish(h, 'caseInitiated', c);
    for (const inv of c.invitations) {
      await publish(h, 'invitationAccepted', {
        caseId: c.caseId,
        invitationId: inv.invitationId,
        org: inv.org,
        kind: inv.kind,
        at: '2026-11-21T09:00:00.000Z',
        requesterOrg: ORGS.regionWard,
      });
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(hitsTo('/restart', 'event-notification')).toEqual([]);
    const restarted = await createNotificationService({
      database: borrowed(h.database),
      bus: h.bus,
      log: pino({ level: 'silent' }),
      metrics: processMetrics(),
      env: { NOTIFICATION_WORKER_POLL_MS: '50', NOTIFICATION_PUBLIC_URL: 'https://samsyn.example.se' },
    });
    await restarted.start();
    try {
      const numbers = await eventually(
        async () => {
          const n = hitsTo('/restart', 'event-notification').flatMap((x) =>
            ((statusOf(x.bundle).events as { 'event-number': string }[] | undefined) ?? []).map(
              (e) => e['event-number'],
            ),
          );
          return n.length >= 4 ? n : undefined;
        },
        20_000,
        'resumed',
      );
      expect(numbers).toEqual(['1', '2', '3', '4']);
      const status = await h.request(`/fhir/Subscription/${sub.id}/$status`, { org: ORGS.regionWard });
      expect(statusOf((await status.json()) as Bundle)['events-since-subscription-start']).toBe('4');
    } finally {
      await restarted.stop();
      await service.start();
    }
  });
});

it('is declared in the CapabilityStatement with its topics', async () => {
  const res = await h.request('/fhir/metadata');
  expect(await res.text()).toContain('"type":"Subscription"');
});
