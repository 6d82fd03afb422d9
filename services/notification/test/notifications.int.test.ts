// Every event that asks someone to act or informs them becomes one Swedish notification to the right unit,
// consumed from real NATS into real PostgreSQL; duplicates never duplicate.
import { randomUUID } from 'node:crypto';
import { borrowed } from '@samsyn/db';
import { processMetrics, type ServiceInstance } from '@samsyn/platform';
import { assertValidFhir, type Harness, ORGS, startHarness } from '@samsyn/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotificationService } from '../src/service.ts';
import { drained, inbox, initiated, publish, text, type, waitFor } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ label: 'notifytypes', factories: [createNotificationService] });
});
afterAll(async () => h?.stop());

const at = '2026-11-21T09:00:00.000Z';

describe('a case from initiative to closure', () => {
  const c = initiated();
  const caseId = c.caseId;
  const [summoned, invited] = c.invitations as [
    (typeof c.invitations)[number],
    (typeof c.invitations)[number],
  ];
  const appointmentId = randomUUID();
  const planId = randomUUID();

  beforeAll(async () => {
    await publish(h, 'caseInitiated', c);
    await waitFor(h, ORGS.municipalityHomeCare, 'invitation-received', caseId);
  });

  it('tells each invited unit it was summoned or invited, urgently when the person is ready for discharge', async () => {
    const home = await waitFor(h, ORGS.municipalityHomeCare, 'invitation-received', caseId);
    assertValidFhir(home);
    expect(text(home)).toMatch(/^Er enhet är kallad till en samordnad individuell plan/);
    expect(text(home)).toMatch(/inom tre dagar/);
    expect(home.priority).toBe('urgent');
    expect(home.about?.map((a) => a.reference)).toEqual([`Task/${summoned.invitationId}`, `Task/${caseId}`]);
    expect(home.payload?.[1]?.contentAttachment?.url).toBe(`http://samsyn.test/inbox/case/${caseId}`);
    const social = await waitFor(h, ORGS.municipalitySocial, 'invitation-received', caseId);
    expect(text(social)).toMatch(/^Er enhet är inbjuden/);
    // The initiator gets nothing for its own initiative.
    expect(await inbox(h, ORGS.regionWard, `about=Task/${caseId}`)).toEqual([]);
  });

  it('tells the initiator when an invitation is accepted, rejected with its reason, or forwarded', async () => {
    await publish(h, 'invitationAccepted', {
      caseId,
      invitationId: invited.invitationId,
      org: invited.org,
      kind: 'invited',
      at,
      requesterOrg: ORGS.regionWard,
    });
    const accepted = await waitFor(h, ORGS.regionWard, 'invitation-accepted', caseId);
    expect(text(accepted)).toBe(
      `${ORGS.municipalitySocial} har accepterat inbjudan till SIP och kommer att delta.`,
    );

    await publish(h, 'invitationForwarded', {
      caseId,
      invitationId: summoned.invitationId,
      org: summoned.org,
      kind: 'summoned',
      at,
      toOrg: ORGS.municipalityOtherUnit,
      requesterOrg: ORGS.regionWard,
    });
    const toNewOwner = await waitFor(h, ORGS.municipalityOtherUnit, 'invitation-forwarded', caseId);
    expect(text(toNewOwner)).toMatch(/har vidarebefordrats till er enhet från SE2120000415-2001/);
    const redirected = await waitFor(h, ORGS.regionWard, 'invitation-redirected', caseId);
    expect(text(redirected)).toMatch(/till SE2120000415-2002, som nu ska svara/);

    await publish(h, 'invitationRejected', {
      caseId,
      invitationId: summoned.invitationId,
      org: ORGS.municipalityOtherUnit,
      kind: 'summoned',
      at,
      requesterOrg: ORGS.regionWard,
      reason: 'Personen bor inte i vårt område',
      substituteOrg: ORGS.municipalityHomeCare,
    });
    const rejected = await waitFor(h, ORGS.regionWard, 'invitation-rejected', caseId);
    expect(text(rejected)).toMatch(
      /Skäl: ”Personen bor inte i vårt område”\. I stället kommer SE2120000415-2001\./,
    );
    expect(rejected.priority).toBe('urgent');
  });

  it('tells every covered unit and the initiator that consent was given, with its end date', async () => {
    await publish(h, 'consentGiven', {
      consentId: randomUUID(),
      caseId,
      at,
      coveredOrgs: [ORGS.municipalityHomeCare, ORGS.municipalitySocial],
      periodStart: at,
      periodEnd: '2027-11-21T00:00:00.000Z',
      grantor: 'person',
    });
    for (const org of [ORGS.municipalityHomeCare, ORGS.municipalitySocial, ORGS.regionWard]) {
      const n = await waitFor(h, org, 'consent-given', caseId);
      expect(text(n)).toMatch(/gäller till och med 21 november 2027/);
    }
  });

  it('tells the participants about a booked meeting in Swedish time, and a moved one, and the initiator about the kallelse', async () => {
    const meeting = {
      caseId,
      appointmentId,
      at,
      start: '2026-11-24T13:00:00.000Z',
      end: '2026-11-24T14:00:00.000Z',
      mode: 'physical' as const,
      orgs: [ORGS.regionWard, ORGS.municipalityHomeCare, ORGS.municipalitySocial],
      rescheduled: false,
      location: { place: 'Vårdcentralen Norr, rum 3' },
      language: 'ar',
    };
    await publish(h, 'meetingScheduled', meeting);
    const booked = await waitFor(h, ORGS.municipalitySocial, 'meeting-booked', caseId);
    expect(text(booked)).toBe(
      'Ett SIP-möte är bokat 24 november 2026 kl. 14:00 på plats, Vårdcentralen Norr, rum 3. Er enhet deltar.',
    );
    const kallelse = await waitFor(h, ORGS.regionWard, 'kallelse-ready', caseId);
    expect(kallelse.payload?.[1]?.contentAttachment?.url).toMatch(/#kallelse$/);

    await publish(h, 'meetingScheduled', {
      ...meeting,
      start: '2026-11-25T08:30:00.000Z',
      rescheduled: true,
    });
    const moved = await waitFor(h, ORGS.municipalityHomeCare, 'meeting-changed', caseId);
    expect(text(moved)).toBe(
      'SIP-mötet har flyttats till 25 november 2026 kl. 09:30 på plats, Vårdcentralen Norr, rum 3.',
    );
  });

  it('tells a protected person’s initiator that the unit, not Samsyn, delivers the kallelse', async () => {
    const other = initiated();
    await publish(h, 'caseInitiated', other);
    await waitFor(h, ORGS.municipalityHomeCare, 'invitation-received', other.caseId);
    await publish(h, 'meetingScheduled', {
      caseId: other.caseId,
      appointmentId: randomUUID(),
      at,
      start: '2026-11-24T13:00:00.000Z',
      end: '2026-11-24T14:00:00.000Z',
      mode: 'video',
      orgs: [ORGS.regionWard],
      rescheduled: false,
      personProtected: true,
    });
    const n = await waitFor(h, ORGS.regionWard, 'kallelse-ready', other.caseId);
    expect(text(n)).toMatch(
      /skyddad identitet: Samsyn skickar ingenting till personen, er enhet lämnar kallelsen/,
    );
    expect(n.priority).toBe('urgent');
  });

  it('turns the stored deadlines into reminders to the unit that must act', async () => {
    const timer = (
      kind: 'invitation-reminder' | 'invitation-escalation' | 'discharge-summons' | 'meeting-reminder',
      org: string,
    ) => ({
      timerId: randomUUID(),
      caseId,
      kind,
      dueAt: '2026-11-23T08:00:00.000Z',
      firedAt: '2026-11-23T08:00:01.000Z',
      org,
      invitationId: invited.invitationId,
    });
    await publish(h, 'deadlineDue', timer('invitation-reminder', ORGS.municipalitySocial));
    await publish(h, 'deadlineDue', timer('invitation-escalation', ORGS.regionWard));
    await publish(h, 'deadlineDue', timer('discharge-summons', ORGS.regionWard));
    await publish(h, 'deadlineDue', {
      ...timer('meeting-reminder', ORGS.municipalityHomeCare),
      invitationId: undefined,
      appointmentId,
    });
    expect(text(await waitFor(h, ORGS.municipalitySocial, 'invitation-reminder', caseId))).toMatch(
      /obesvarad inbjudan/,
    );
    expect((await waitFor(h, ORGS.regionWard, 'invitation-escalated', caseId)).priority).toBe('urgent');
    expect(text(await waitFor(h, ORGS.regionWard, 'summons-deadline', caseId))).toMatch(
      /senast 23 november 2026 kl. 09:00 \(lag 2017:612\)/,
    );
    const reminder = await waitFor(h, ORGS.municipalityHomeCare, 'meeting-reminder', caseId);
    expect(reminder.about?.[0]?.reference).toBe(`Appointment/${appointmentId}`);
  });

  it('tells the absent summoned unit and the initiator about a deviation, and everyone that the meeting was held', async () => {
    await publish(h, 'meetingHeld', {
      caseId,
      appointmentId,
      at,
      attendance: [
        { org: ORGS.municipalityHomeCare, kind: 'summoned', attended: false },
        { org: ORGS.municipalitySocial, kind: 'invited', attended: true },
      ],
    });
    await publish(h, 'deviationReported', {
      deviationId: randomUUID(),
      caseId,
      org: ORGS.municipalityHomeCare,
      requesterOrg: ORGS.regionWard,
      cause: 'absent-from-meeting',
      appointmentId,
      at,
    });
    expect(text(await waitFor(h, ORGS.municipalityHomeCare, 'deviation', caseId))).toBe(
      'Avvikelse: er enhet var kallad men frånvarande vid SIP-mötet.',
    );
    expect(text(await waitFor(h, ORGS.regionWard, 'deviation', caseId))).toBe(
      `Avvikelse: ${ORGS.municipalityHomeCare} var kallad men frånvarande vid SIP-mötet.`,
    );
    expect(text(await waitFor(h, ORGS.municipalityHomeCare, 'meeting-held', caseId))).toMatch(
      /Er enhet var frånvarande/,
    );
    expect(text(await waitFor(h, ORGS.municipalitySocial, 'meeting-held', caseId))).toMatch(
      /Er enhet deltog/,
    );
  });

  it('tells the participants when the plan is established, revised, followed up and due, and the lead that it is responsible', async () => {
    const parties = {
      leadOrg: ORGS.municipalitySocial,
      participantOrgs: [ORGS.regionWard, ORGS.municipalityHomeCare],
    };
    await publish(h, 'planEstablished', {
      planId,
      caseId,
      at,
      version: 1,
      ...parties,
      followUpDue: '2027-02-01',
    });
    expect(text(await waitFor(h, ORGS.municipalitySocial, 'plan-established', caseId))).toMatch(
      /Er enhet har huvudansvaret\. Uppföljning senast 1 februari 2027\./,
    );
    expect(text(await waitFor(h, ORGS.regionWard, 'plan-established', caseId))).toMatch(
      /Huvudansvar: SE2120000415-3001/,
    );
    await publish(h, 'planRevised', {
      planId,
      caseId,
      at,
      version: 2,
      ...parties,
      followUpDue: '2027-03-01',
      approvedAt: at,
    });
    expect(text(await waitFor(h, ORGS.municipalityHomeCare, 'plan-revised', caseId))).toMatch(/version 2/);
    const timer = (kind: 'follow-up-reminder' | 'follow-up-overdue' | 'activity-overdue', org: string) => ({
      timerId: randomUUID(),
      planId,
      caseId,
      kind,
      dueAt: '2027-03-01T00:00:00.000Z',
      firedAt: '2027-02-22T00:00:00.000Z',
      org,
    });
    await publish(h, 'planDeadlineDue', timer('follow-up-reminder', ORGS.municipalitySocial));
    await publish(h, 'planDeadlineDue', timer('follow-up-overdue', ORGS.municipalitySocial));
    await publish(h, 'planDeadlineDue', {
      ...timer('activity-overdue', ORGS.municipalityHomeCare),
      activityId: 'a1',
    });
    expect(text(await waitFor(h, ORGS.municipalitySocial, 'follow-up-due', caseId))).toMatch(
      /senast 1 mars 2027/,
    );
    expect((await waitFor(h, ORGS.municipalitySocial, 'follow-up-overdue', caseId)).priority).toBe('urgent');
    expect(text(await waitFor(h, ORGS.municipalityHomeCare, 'activity-overdue', caseId))).toMatch(
      /passerat sitt slutdatum/,
    );
    await publish(h, 'planFollowedUp', {
      planId,
      caseId,
      at,
      followUpDue: '2027-03-01',
      onTime: true,
      nextFollowUpDue: '2027-06-01',
      byOrg: ORGS.municipalitySocial,
      participantOrgs: [ORGS.regionWard, ORGS.municipalityHomeCare, ORGS.municipalitySocial],
    });
    expect(text(await waitFor(h, ORGS.regionWard, 'plan-followed-up', caseId))).toMatch(
      /Nästa uppföljning senast 1 juni 2027/,
    );
    await publish(h, 'planDeliveryFailed', {
      planId,
      caseId,
      at,
      version: 2,
      org: ORGS.municipalityHomeCare,
      attempts: 5,
      error: 'HTTP 503',
    });
    expect(text(await waitFor(h, ORGS.municipalityHomeCare, 'plan-delivery-failed', caseId))).toMatch(
      /er enhets journalsystem efter 5 försök/,
    );
    expect(text(await waitFor(h, ORGS.municipalitySocial, 'plan-delivery-failed', caseId))).toMatch(
      /till SE2120000415-2001 efter 5 försök/,
    );
  });

  it('tells everyone but the acting unit when consent is revoked, the plan closes and the case closes', async () => {
    await publish(h, 'consentRevoked', { consentId: randomUUID(), caseId, at, byOrg: ORGS.regionWard });
    const revoked = await waitFor(h, ORGS.municipalitySocial, 'consent-revoked', caseId);
    expect(text(revoked)).toMatch(/återkallat sitt samtycke/);
    await publish(h, 'planClosed', {
      planId,
      caseId,
      at,
      reason: 'goals-met',
      byOrg: ORGS.municipalitySocial,
      participantOrgs: [ORGS.regionWard, ORGS.municipalitySocial],
    });
    expect(text(await waitFor(h, ORGS.regionWard, 'plan-closed', caseId))).toBe(
      'Planen är avslutad. Skäl: målen är uppnådda.',
    );
    await publish(h, 'caseTransitioned', {
      caseId,
      from: 'followed-up',
      to: 'closed',
      byOrg: ORGS.municipalitySocial,
      at,
    });
    await waitFor(h, ORGS.municipalityOtherUnit, 'case-closed', caseId);
    await drained(h, 'INVITATION');
    await drained(h, 'CONSENT');
    await drained(h, 'PLAN');
    expect(await inbox(h, ORGS.regionWard, `category=consent-revoked&about=Task/${caseId}`)).toEqual([]);
    expect(await inbox(h, ORGS.municipalitySocial, `category=case-closed&about=Task/${caseId}`)).toEqual([]);
    expect(await inbox(h, ORGS.municipalitySocial, `category=plan-closed&about=Task/${caseId}`)).toEqual([]);
  });

  it('never carries the person’s name or personnummer in any notification', async () => {
    for (const org of Object.values(ORGS)) {
      const all = await inbox(h, org, `about=Task/${caseId}&_count=200`);
      for (const n of all) expect(JSON.stringify(n)).not.toMatch(/191212121212|Tolvan|Tolvansson/);
    }
  });
});

describe('duplicates', () => {
  it('a replayed event under a new event id creates no second notification for the same thing', async () => {
    const c = initiated();
    await publish(h, 'caseInitiated', c);
    await waitFor(h, ORGS.municipalitySocial, 'invitation-received', c.caseId);
    // The invitation service re-publishes after a crash with a fresh event id: the meaning is the same invitation.
    await publish(h, 'caseInitiated', c);
    await publish(h, 'caseInitiated', c, { id: randomUUID(), msgId: randomUUID() });
    await drained(h, 'INVITATION');
    expect(await inbox(h, ORGS.municipalitySocial, `about=Task/${c.caseId}`)).toHaveLength(1);
  });

  it('the same deadline timer firing twice reminds once', async () => {
    const c = initiated();
    await publish(h, 'caseInitiated', c);
    const timer = {
      timerId: randomUUID(),
      caseId: c.caseId,
      kind: 'invitation-reminder' as const,
      dueAt: at,
      firedAt: at,
      org: ORGS.municipalitySocial,
    };
    await publish(h, 'deadlineDue', timer);
    await publish(h, 'deadlineDue', { ...timer, firedAt: '2026-11-21T09:05:00.000Z' });
    await waitFor(h, ORGS.municipalitySocial, 'invitation-reminder', c.caseId);
    await drained(h, 'INVITATION');
    expect(
      await inbox(h, ORGS.municipalitySocial, `category=invitation-reminder&about=Task/${c.caseId}`),
    ).toHaveLength(1);
  });
});

describe('ordering across streams', () => {
  it('a consent revocation that arrives before its case is known waits for the case and is then delivered', async () => {
    const c = initiated();
    await publish(h, 'consentRevoked', {
      consentId: randomUUID(),
      caseId: c.caseId,
      at,
      byOrg: ORGS.regionWard,
    });
    await new Promise((r) => setTimeout(r, 400));
    expect(await inbox(h, ORGS.municipalitySocial, `about=Task/${c.caseId}`)).toEqual([]);
    await publish(h, 'caseInitiated', c);
    const n = await waitFor(h, ORGS.municipalitySocial, 'consent-revoked', c.caseId, 30_000);
    expect(text(n)).toMatch(/återkallat/);
  });
});

describe('reminders across a restart', () => {
  it('a deadline that fires while the service is down becomes a notification when it is back', async () => {
    const c = initiated();
    await publish(h, 'caseInitiated', c);
    await waitFor(h, ORGS.municipalitySocial, 'invitation-received', c.caseId);
    const [service] = h.services as [ServiceInstance];
    await service.stop();
    await publish(h, 'deadlineDue', {
      timerId: randomUUID(),
      caseId: c.caseId,
      kind: 'invitation-reminder',
      dueAt: at,
      firedAt: at,
      org: ORGS.municipalitySocial,
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(
      await inbox(h, ORGS.municipalitySocial, `category=invitation-reminder&about=Task/${c.caseId}`),
    ).toEqual([]);
    const restarted = await createNotificationService({
      database: borrowed(h.database),
      bus: h.bus,
      log: pino({ level: 'silent' }),
      metrics: processMetrics(),
      env: {},
    });
    await restarted.migrate();
    await restarted.start();
    try {
      const n = await waitFor(h, ORGS.municipalitySocial, 'invitation-reminder', c.caseId);
      expect(type(n)).toBe('invitation-reminder');
    } finally {
      await restarted.stop();
      await service.start();
    }
  });
});
