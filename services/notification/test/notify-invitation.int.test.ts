// The notification service consuming sip.case.initiated from real NATS into real PostgreSQL.
import { randomUUID } from 'node:crypto';
import { events, toHeaders } from '@samsyn/contracts';
import type { Bundle, Communication } from '@samsyn/fhir';
import { eventually, type Harness, ORGS, startHarness } from '@samsyn/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotificationService } from '../src/service.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ label: 'notification', factories: [createNotificationService] });
});
afterAll(async () => h?.stop());

async function publishInitiated(data: unknown, id: string, msgId = id) {
  const headers = toHeaders({
    id,
    type: events.caseInitiated.type,
    source: '/samsyn/invitation',
    time: '2026-11-20T08:00:00.000Z',
    subject: 'case',
  });
  headers['Nats-Msg-Id'] = msgId;
  await h.bus.publishRaw('sip.case.initiated', new TextEncoder().encode(JSON.stringify(data)), headers);
}

async function inbox(org: string): Promise<Communication[]> {
  const res = await h.request('/fhir/Communication', { org });
  expect(res.status).toBe(200);
  return ((await res.json()) as Bundle).entry?.map((e) => e.resource as Communication) ?? [];
}

describe('sip.case.initiated', () => {
  const caseId = randomUUID();
  const invitationId = randomUUID();
  const data = {
    caseId,
    requesterOrg: ORGS.regionWard,
    trigger: 'other',
    initiatedAt: '2026-11-20T08:00:00.000Z',
    person: { ageBand: 'child' },
    invitations: [
      { invitationId, org: ORGS.municipalityHomeCare, kind: 'invited' },
      { invitationId: randomUUID(), org: ORGS.municipalitySocial, kind: 'summoned' },
    ],
  };

  it('creates one notification per invited unit, with the invitation kind in the Swedish text', async () => {
    await publishInitiated(data, randomUUID());
    const [n] = await eventually(
      async () => {
        const list = await inbox(ORGS.municipalityHomeCare);
        return list.length > 0 ? list : undefined;
      },
      5000,
      'notification',
    );
    expect(n?.payload?.[0]?.contentString).toMatch(/^Er enhet är inbjuden/);
    expect(n?.about?.[0]?.reference).toBe(`Task/${invitationId}`);
    expect(n?.sent).toBe('2026-11-20T08:00:00.000Z');
    expect(n?.priority).toBe('routine');
    const [summoned] = await inbox(ORGS.municipalitySocial);
    expect(summoned?.payload?.[0]?.contentString).toMatch(/^Er enhet är kallad/);
  });

  it('delivered twice (same event id, new message id) creates no second notification', async () => {
    const eventId = randomUUID();
    const second = {
      ...data,
      caseId: randomUUID(),
      invitations: [{ invitationId: randomUUID(), org: ORGS.outsider, kind: 'invited' }],
    };
    await publishInitiated(second, eventId);
    await eventually(async () => ((await inbox(ORGS.outsider)).length > 0 ? true : undefined), 5000, 'first');
    await publishInitiated(second, eventId, `${eventId}-again`);
    // The second delivery is consumed (and skipped) before this waits out.
    await eventually(
      async () => {
        const info = await h.bus.jsm.consumers.info(h.bus.naming.stream('INVITATION'), 'notification');
        return info.num_pending === 0 && info.num_ack_pending === 0 ? true : undefined;
      },
      5000,
      'second delivery consumed',
    );
    expect(await inbox(ORGS.outsider)).toHaveLength(1);
  });
});
