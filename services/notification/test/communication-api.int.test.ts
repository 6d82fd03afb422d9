// The Communication API a staff client or record system uses: search, read, mark read/done, live stream.
import { randomUUID } from 'node:crypto';
import type { Communication, OperationOutcome } from '@samsyn/fhir';
import { assertValidFhir, type Harness, ORGS, startHarness } from '@samsyn/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotificationService } from '../src/service.ts';
import { inbox, initiated, publish, state, type, waitFor } from './support.ts';

let h: Harness;
const c = initiated();
let received: Communication;
beforeAll(async () => {
  h = await startHarness({ label: 'notifyapi', factories: [createNotificationService] });
  await publish(h, 'caseInitiated', c);
  received = await waitFor(h, ORGS.municipalitySocial, 'invitation-received', c.caseId);
  await publish(h, 'meetingScheduled', {
    caseId: c.caseId,
    appointmentId: randomUUID(),
    at: '2026-11-21T09:00:00.000Z',
    start: '2026-11-24T13:00:00.000Z',
    end: '2026-11-24T14:00:00.000Z',
    mode: 'video',
    orgs: [ORGS.municipalitySocial],
    rescheduled: false,
  });
  await waitFor(h, ORGS.municipalitySocial, 'meeting-booked', c.caseId);
});
afterAll(async () => h?.stop());

async function outcome(res: Response): Promise<string> {
  const body = (await res.json()) as OperationOutcome;
  expect(body.resourceType).toBe('OperationOutcome');
  return body.issue.map((i) => i.diagnostics).join('; ');
}

function mark(id: string, value: string, init: { org?: string; ifMatch?: string } = {}) {
  return h.request(`/fhir/Communication/${id}/$mark`, {
    method: 'POST',
    org: init.org ?? ORGS.municipalitySocial,
    headers: init.ifMatch ? { 'if-match': init.ifMatch } : {},
    body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'state', valueCode: value }] }),
  });
}

describe('searching the inbox', () => {
  it('filters by inbox state, type and case, newest first, each a valid Communication', async () => {
    const all = await inbox(h, ORGS.municipalitySocial, `about=Task/${c.caseId}`);
    expect(all.map(type)).toEqual(['meeting-booked', 'invitation-received']);
    expect(all.every((n) => state(n) === 'unread')).toBe(true);
    expect(
      await inbox(h, ORGS.municipalitySocial, `about=Task/${c.caseId}&category=meeting-booked`),
    ).toHaveLength(1);
    expect(await inbox(h, ORGS.municipalitySocial, `about=Task/${c.caseId}&status=done`)).toEqual([]);
    expect(
      await inbox(h, ORGS.municipalitySocial, `about=Task/${received.about?.[0]?.reference?.split('/')[1]}`),
    ).toHaveLength(1);
    expect(await inbox(h, ORGS.municipalitySocial, `about=Task/${c.caseId}&sent=gt2030-01-01`)).toEqual([]);
  });

  it('answers an unknown parameter, an unknown type or state and a malformed reference with a 400 naming it', async () => {
    for (const [query, says] of [
      ['colour=red', /Unknown search parameter 'colour'/],
      ['category=party', /category=party is not a notification type/],
      ['status=archived', /inbox state is one of unread, read, done/],
      ['about=Patient/1', /give a reference such as Task/],
      ['recipient=http://example.org|x', /must be the HSA-id system/],
    ] as const) {
      const res = await h.request(`/fhir/Communication?${query}`, { org: ORGS.municipalitySocial });
      expect(res.status, query).toBe(400);
      expect(await outcome(res)).toMatch(says);
    }
  });

  it('shows another unit nothing, neither by search, recipient nor id', async () => {
    expect(await inbox(h, ORGS.outsider, `recipient=${ORGS.municipalitySocial}`)).toEqual([]);
    const res = await h.request(`/fhir/Communication/${received.id}`, { org: ORGS.outsider });
    expect(res.status).toBe(404);
    expect(await outcome(res)).toMatch(/is not known/);
    expect((await h.request('/fhir/Communication/not-a-uuid', { org: ORGS.outsider })).status).toBe(404);
  });

  it('refuses a call without a token or without the Communication scope', async () => {
    expect((await h.request('/fhir/Communication')).status).toBe(401);
    const res = await h.request('/fhir/Communication', {
      org: ORGS.municipalitySocial,
      claims: { scopes: ['user/Task.rs'] },
    });
    expect(res.status).toBe(403);
  });
});

describe('marking read and done', () => {
  it('moves unread → read → done with $mark, bumping the version, and unread again', async () => {
    const id = received.id as string;
    let res = await mark(id, 'read');
    expect(res.status).toBe(200);
    let n = (await res.json()) as Communication;
    assertValidFhir(n);
    expect(state(n)).toBe('read');
    expect(n.meta?.versionId).toBe('2');
    expect(res.headers.get('etag')).toBe('W/"2"');
    res = await mark(id, 'done', { ifMatch: 'W/"2"' });
    n = (await res.json()) as Communication;
    expect(state(n)).toBe('done');
    // Marking with the same state changes nothing.
    n = (await (await mark(id, 'done')).json()) as Communication;
    expect(n.meta?.versionId).toBe('3');
    expect(await inbox(h, ORGS.municipalitySocial, `about=Task/${c.caseId}&status=done`)).toHaveLength(1);
    n = (await (await mark(id, 'unread')).json()) as Communication;
    expect(state(n)).toBe('unread');
  });

  it('answers a stale If-Match with 412 and leaves the state', async () => {
    const res = await mark(received.id as string, 'read', { ifMatch: 'W/"1"' });
    expect(res.status).toBe(412);
    const [n] = await inbox(h, ORGS.municipalitySocial, `_id=${received.id}`);
    expect(state(n)).toBe('unread');
  });

  it('accepts a JSON Patch of the inbox-state extension and nothing else', async () => {
    const id = received.id as string;
    const patch = (ops: unknown, contentType = 'application/json-patch+json') =>
      h.request(`/fhir/Communication/${id}`, {
        method: 'PATCH',
        org: ORGS.municipalitySocial,
        headers: { 'content-type': contentType },
        body: JSON.stringify(ops),
      });
    let res = await patch([{ op: 'replace', path: '/extension/0/valueCode', value: 'read' }]);
    expect(res.status).toBe(200);
    expect(state((await res.json()) as Communication)).toBe('read');
    res = await patch([{ op: 'replace', path: '/payload/0/contentString', value: 'hej' }]);
    expect(res.status).toBe(400);
    expect(await outcome(res)).toMatch(/Only the inbox state/);
    res = await patch([{ op: 'replace', path: '/extension/0/valueCode', value: 'archived' }]);
    expect(res.status).toBe(400);
    expect(await outcome(res)).toMatch(/must be one of unread, read, done/);
    res = await patch([{ op: 'replace', path: '/nope/0', value: 1 }]);
    expect(res.status).toBe(400);
    res = await patch({ op: 'replace' });
    expect(res.status).toBe(400);
    res = await patch([], 'application/fhir+json');
    expect(res.status).toBe(400);
    expect(await outcome(res)).toMatch(/JSON Patch/);
  });

  it('does not let another unit mark a notification, answering as if it did not exist', async () => {
    const res = await mark(received.id as string, 'done', { org: ORGS.outsider });
    expect(res.status).toBe(404);
  });

  it('refuses a bad $mark state, creating, replacing and deleting notifications', async () => {
    const res = await mark(received.id as string, 'archived');
    expect(res.status).toBe(400);
    expect(await outcome(res)).toMatch(/state = unread \| read \| done/);
    const shapeless = await h.request(`/fhir/Communication/${received.id}/$mark`, {
      method: 'POST',
      org: ORGS.municipalitySocial,
      body: JSON.stringify({ resourceType: 'Parameters', parameter: { name: 'state' } }),
    });
    expect(shapeless.status).toBe(400);
    expect(
      (await h.request('/fhir/Communication', { method: 'POST', org: ORGS.municipalitySocial, body: '{}' }))
        .status,
    ).toBe(405);
    expect(
      (
        await h.request(`/fhir/Communication/${received.id}`, {
          method: 'DELETE',
          org: ORGS.municipalitySocial,
        })
      ).status,
    ).toBe(405);
  });
});

describe('live updates', () => {
  it('streams a new notification and a state change to the unit as Server-Sent Events', async () => {
    const abort = new AbortController();
    const res = await h.request('/fhir/Communication/$stream', {
      org: ORGS.municipalityHomeCare,
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const nextEvent = async (name: string): Promise<string> => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const m = new RegExp(`event: ${name}\\ndata: (.*)\\n`).exec(buffer);
        if (m) {
          buffer = buffer.slice((m.index ?? 0) + m[0].length);
          return m[1] as string;
        }
        if (Date.now() > deadline) throw new Error(`no ${name} event; got ${buffer}`);
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += decoder.decode(value, { stream: true });
      }
    };
    try {
      await nextEvent('ready');
      const other = initiated();
      await publish(h, 'caseInitiated', other);
      const created = JSON.parse(await nextEvent('communication')) as Communication;
      assertValidFhir(created);
      expect(type(created)).toBe('invitation-received');
      expect(created.about?.map((a) => a.reference)).toContain(`Task/${other.caseId}`);
      await mark(created.id as string, 'read', { org: ORGS.municipalityHomeCare });
      const updated = JSON.parse(await nextEvent('communication')) as Communication;
      expect(updated.id).toBe(created.id);
      expect(state(updated)).toBe('read');
    } finally {
      abort.abort();
      await reader.cancel().catch(() => undefined);
    }
  });
});
