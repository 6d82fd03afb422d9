// The SIP case workflow against real PostgreSQL and NATS: initiative search, answers (accept, reject with substitute,
// forward), withdrawal, consent gating and revocation, protected identity, the plan stream, and bad input.
import type { Appointment, Bundle, Flag, OperationOutcome, Task } from '@samsyn/fhir';
import { assertValidFhir, eventually, type Harness, HSA, ORGS, startHarness } from '@samsyn/testkit';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTENDANCE_EXTENSION, MEETING_MODE_SYSTEM } from '../src/appointment/codes.ts';
import { appointments } from '../src/db/schema.ts';
import { createInvitationService } from '../src/service.ts';
import {
  caseStatus,
  diagnostics,
  giveConsent,
  initiate,
  invitationOf,
  json,
  publish,
  published,
  publishedFor,
  statusBecomes,
} from './support.ts';

const HOUR = 3_600_000;
const OUTPUT_SYSTEM = 'https://samsyn.se/fhir/CodeSystem/sip-task-output';
const PNR = 'http://electronichealth.se/identifier/personnummer';
/** A unit of another principal (a private care provider), for forwards and substitutes that must be refused. */
const OTHER_PRINCIPAL = 'SE5565594230-1001';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    label: 'workflow',
    factories: [createInvitationService],
    env: { TIMER_POLL_MS: '100' },
  });
});
afterAll(async () => h?.stop());

async function read(id: string, org: string, status = 200): Promise<Task> {
  const task = await json<Task>(await h.request(`/fhir/Task/${id}`, { org }), status);
  if (status === 200) assertValidFhir(task);
  return task;
}

function patch(id: string, org: string, operations: unknown[], headers: Record<string, string> = {}) {
  return h.request(`/fhir/Task/${id}`, {
    method: 'PATCH',
    org,
    headers: { 'content-type': 'application/json-patch+json', ...headers },
    body: JSON.stringify(operations),
  });
}

async function search(query: string, org: string = ORGS.regionWard): Promise<Task[]> {
  const bundle = await json<Bundle>(await h.request(`/fhir/Task?${query}`, { org }), 200);
  assertValidFhir(bundle);
  return (bundle.entry ?? []).map((e) => e.resource as Task);
}

/** A case every invited unit's consent covers, so it is `invited`. */
async function invitedCase(options: Parameters<typeof initiate>[1] = {}): Promise<Task> {
  const task = await initiate(h, { trigger: 'other', ...options });
  const orgs = (task.input ?? []).map((i) => i.valueReference?.identifier?.value as string);
  await giveConsent(h, task.id as string, [ORGS.regionWard, ...orgs]);
  await statusBecomes(h, task.id as string, 'invited');
  return read(task.id as string, ORGS.regionWard);
}

function meeting(caseId: string, startsIn = 48 * HOUR): Record<string, unknown> {
  const start = new Date(Date.now() + startsIn);
  return {
    resourceType: 'Appointment',
    status: 'booked',
    appointmentType: { coding: [{ system: MEETING_MODE_SYSTEM, code: 'video' }] },
    supportingInformation: [{ reference: `Task/${caseId}` }],
    start: start.toISOString(),
    end: new Date(start.getTime() + HOUR).toISOString(),
    contained: [
      {
        resourceType: 'Location',
        id: 'place',
        telecom: [{ system: 'url', value: 'https://video.region-exempel.se/m/123' }],
      },
    ],
    participant: [
      { actor: { reference: '#place' }, status: 'accepted' },
      {
        actor: { identifier: { system: HSA, value: ORGS.municipalityHomeCare }, display: 'Hemtjänst Norr' },
        status: 'needs-action',
      },
    ],
  };
}

/** Books a meeting, moves it into the past and records attendance: the case is `held`. */
async function hold(caseId: string, absent: string[] = []): Promise<Appointment> {
  const booked = await json<Appointment>(
    await h.request('/fhir/Appointment', {
      method: 'POST',
      org: ORGS.regionWard,
      body: JSON.stringify(meeting(caseId)),
    }),
    201,
  );
  const start = new Date(Date.now() - 26 * HOUR);
  await h.database.db
    .update(appointments)
    .set({ start, end: new Date(start.getTime() + HOUR) })
    .where(eq(appointments.id, booked.id as string));
  const past = await json<Appointment>(
    await h.request(`/fhir/Appointment/${booked.id}`, { org: ORGS.regionWard }),
    200,
  );
  past.status = 'fulfilled';
  for (const p of past.participant) {
    const org = p.actor?.identifier?.value;
    if (org)
      p.extension = [{ url: ATTENDANCE_EXTENSION, valueCode: absent.includes(org) ? 'absent' : 'attended' }];
  }
  const held = await json<Appointment>(
    await h.request(`/fhir/Appointment/${booked.id}`, {
      method: 'PUT',
      org: ORGS.regionWard,
      headers: { 'if-match': `W/"${past.meta?.versionId}"` },
      body: JSON.stringify(past),
    }),
    200,
  );
  assertValidFhir(held);
  return held;
}

describe('searching initiatives', () => {
  it('finds an initiative by identifier, requester, business-status, the person and _lastUpdated', async () => {
    const personnummer = '199001011239';
    const task = await initiate(h, { personnummer });
    const identifier = task.identifier?.[0];
    const ids = (list: Task[]) => list.map((t) => t.id);
    expect(ids(await search(`identifier=${identifier?.system}|${identifier?.value}`))).toEqual([task.id]);
    expect(ids(await search(`requester:identifier=${HSA}|${ORGS.regionWard}`))).toContain(task.id);
    expect(ids(await search(`requester=${ORGS.regionWard}&business-status=awaiting-consent`))).toContain(
      task.id,
    );
    expect(ids(await search('business-status=invited'))).not.toContain(task.id);
    expect(ids(await search(`patient:identifier=${PNR}|${personnummer}`))).toEqual([task.id]);
    expect(ids(await search(`patient=Patient?identifier=${PNR}|${personnummer}`))).toEqual([task.id]);
    const at = task.meta?.lastUpdated as string;
    expect(ids(await search(`_lastUpdated=ge${encodeURIComponent(at)}`))).toContain(task.id);
    expect(ids(await search(`_lastUpdated=gt${encodeURIComponent(at)}`))).not.toContain(task.id);
    expect(ids(await search(`_lastUpdated=lt${encodeURIComponent(at)}`))).not.toContain(task.id);
  });

  it('does not let an invited unit find cases by the person', async () => {
    const personnummer = '199001011239';
    const found = await search(`patient=${PNR}|${personnummer}`, ORGS.municipalityHomeCare);
    expect(found).toEqual([]);
  });

  it('answers an unknown parameter, a bad date and mixed initiative and invitation parameters with 400', async () => {
    const unknown = await json<OperationOutcome>(
      await h.request('/fhir/Task?subject=x', { org: ORGS.regionWard }),
      400,
    );
    expect(diagnostics(unknown)).toMatch(/subject/);
    const badDate = await json<OperationOutcome>(
      await h.request('/fhir/Task?_lastUpdated=ge2026-13-01', { org: ORGS.regionWard }),
      400,
    );
    expect(diagnostics(badDate)).toMatch(/not a real date/);
    const mixed = await json<OperationOutcome>(
      await h.request('/fhir/Task?owner=SE2120000415-2001&business-status=invited', { org: ORGS.regionWard }),
      400,
    );
    expect(diagnostics(mixed)).toMatch(/do not mix/);
  });
});

describe('answering an invitation', () => {
  it('lets the invited unit accept once; a second answer is a 409 naming the status', async () => {
    const task = await initiate(h);
    const id = invitationOf(task, ORGS.municipalitySocial);
    const accepted = await json<Task>(
      await patch(id, ORGS.municipalitySocial, [{ op: 'replace', path: '/status', value: 'accepted' }]),
      200,
    );
    assertValidFhir(accepted);
    expect(accepted.status).toBe('accepted');
    expect(accepted.meta?.versionId).toBe('2');
    await publishedFor(h, 'sip.invitation.accepted', (e) => e.invitationId === id);
    const again = await json<OperationOutcome>(
      await patch(id, ORGS.municipalitySocial, [{ op: 'replace', path: '/status', value: 'rejected' }]),
      409,
    );
    expect(diagnostics(again)).toMatch(/already 'accepted'/);
  });

  it('refuses a rejection without a reason, and a summoned principal rejecting without a substitute', async () => {
    const task = await initiate(h);
    const id = invitationOf(task, ORGS.municipalityHomeCare);
    const noReason = await json<OperationOutcome>(
      await patch(id, ORGS.municipalityHomeCare, [{ op: 'replace', path: '/status', value: 'rejected' }]),
      400,
    );
    expect(diagnostics(noReason)).toMatch(/statusReason.text/);
    const noSubstitute = await json<OperationOutcome>(
      await patch(id, ORGS.municipalityHomeCare, [
        { op: 'replace', path: '/status', value: 'rejected' },
        { op: 'add', path: '/statusReason', value: { text: 'Fel enhet' } },
      ]),
      422,
    );
    expect(diagnostics(noSubstitute)).toMatch(/cannot reject without naming the unit that will come/);
    expect((await read(id, ORGS.municipalityHomeCare)).status).toBe('requested');
  });

  it('gives the substitute a summoned principal names an invitation of its own', async () => {
    const task = await initiate(h);
    const id = invitationOf(task, ORGS.municipalityHomeCare);
    const rejected = await json<Task>(
      await patch(id, ORGS.municipalityHomeCare, [
        { op: 'replace', path: '/status', value: 'rejected' },
        { op: 'add', path: '/statusReason', value: { text: 'Hemtjänst Syd har personen' } },
        {
          op: 'add',
          path: '/output',
          value: [
            {
              type: { coding: [{ system: OUTPUT_SYSTEM, code: 'substitute' }] },
              valueReference: { identifier: { system: HSA, value: ORGS.municipalityOtherUnit } },
            },
          ],
        },
      ]),
      200,
    );
    assertValidFhir(rejected);
    expect(rejected.status).toBe('rejected');
    const initiative = await read(task.id as string, ORGS.regionWard);
    const substituteId = invitationOf(initiative, ORGS.municipalityOtherUnit);
    const substitute = await read(substituteId, ORGS.municipalityOtherUnit);
    expect(substitute).toMatchObject({
      status: 'requested',
      owner: { identifier: { value: ORGS.municipalityOtherUnit } },
      partOf: [{ reference: `Task/${task.id}` }],
      groupIdentifier: initiative.groupIdentifier,
    });
    expect(substitute.input?.[0]?.type?.coding?.[0]?.code).toBe('summoned');
    const [created] = await publishedFor(h, 'sip.invitation.created', (e) => e.invitationId === substituteId);
    expect(created).toMatchObject({ cause: 'substitute', replaces: id, org: ORGS.municipalityOtherUnit });
  });

  it('refuses a substitute of another principal, or one already in the case', async () => {
    const task = await initiate(h);
    const id = invitationOf(task, ORGS.municipalityHomeCare);
    const reject = (org: string) =>
      patch(id, ORGS.municipalityHomeCare, [
        { op: 'replace', path: '/status', value: 'rejected' },
        { op: 'add', path: '/statusReason', value: { text: 'Fel enhet' } },
        {
          op: 'add',
          path: '/output',
          value: [
            {
              type: { coding: [{ system: OUTPUT_SYSTEM, code: 'substitute' }] },
              valueReference: { identifier: { system: HSA, value: org } },
            },
          ],
        },
      ]);
    expect(diagnostics(await json<OperationOutcome>(await reject(OTHER_PRINCIPAL), 422))).toMatch(
      /same principal/,
    );
    expect(diagnostics(await json<OperationOutcome>(await reject(ORGS.municipalitySocial), 409))).toMatch(
      /already invited/,
    );
    expect(diagnostics(await json<OperationOutcome>(await reject('SE123'), 400))).toMatch(/HSA/);
  });

  it('forwards within the same principal: the sender gets the changed Task, then the new owner answers', async () => {
    const task = await initiate(h);
    const id = invitationOf(task, ORGS.municipalityHomeCare);
    const forwarded = await json<Task>(
      await patch(id, ORGS.municipalityHomeCare, [
        {
          op: 'replace',
          path: '/owner',
          value: { identifier: { system: HSA, value: ORGS.municipalityOtherUnit } },
        },
      ]),
      200,
    );
    assertValidFhir(forwarded);
    expect(forwarded.status).toBe('requested');
    expect(forwarded.owner?.identifier?.value).toBe(ORGS.municipalityOtherUnit);
    // The sender no longer takes part through it.
    await read(id, ORGS.municipalityHomeCare, 404);
    const [event] = await publishedFor(h, 'sip.invitation.forwarded', (e) => e.invitationId === id);
    expect(event).toMatchObject({ org: ORGS.municipalityHomeCare, toOrg: ORGS.municipalityOtherUnit });
    const accepted = await json<Task>(
      await patch(id, ORGS.municipalityOtherUnit, [{ op: 'replace', path: '/status', value: 'accepted' }]),
      200,
    );
    expect(accepted.status).toBe('accepted');
  });

  it('refuses a forward to another principal, and a forward that also answers', async () => {
    const task = await initiate(h);
    const id = invitationOf(task, ORGS.municipalityHomeCare);
    const other = await json<OperationOutcome>(
      await patch(id, ORGS.municipalityHomeCare, [
        { op: 'replace', path: '/owner', value: { identifier: { system: HSA, value: OTHER_PRINCIPAL } } },
      ]),
      422,
    );
    expect(diagnostics(other)).toMatch(/only within the same principal/);
    const both = await json<OperationOutcome>(
      await patch(id, ORGS.municipalityHomeCare, [
        {
          op: 'replace',
          path: '/owner',
          value: { identifier: { system: HSA, value: ORGS.municipalityOtherUnit } },
        },
        { op: 'replace', path: '/status', value: 'accepted' },
      ]),
      400,
    );
    expect(diagnostics(both)).toMatch(/separate requests/);
  });

  it('lets only the owner answer: the initiator gets 403, another unit 404', async () => {
    const task = await initiate(h);
    const id = invitationOf(task, ORGS.municipalityHomeCare);
    const accept = [{ op: 'replace', path: '/status', value: 'accepted' }];
    expect(diagnostics(await json<OperationOutcome>(await patch(id, ORGS.regionWard, accept), 403))).toMatch(
      /Only the invited unit/,
    );
    await json<OperationOutcome>(await patch(id, ORGS.municipalitySocial, accept), 404);
    await json<OperationOutcome>(await patch(id, ORGS.outsider, accept), 404);
  });

  it('refuses changes to anything else, a bad patch and an unknown status with a 4xx that says what to send', async () => {
    const task = await initiate(h);
    const id = invitationOf(task, ORGS.municipalityHomeCare);
    const other = await json<OperationOutcome>(
      await patch(id, ORGS.municipalityHomeCare, [{ op: 'add', path: '/description', value: 'x' }]),
      422,
    );
    expect(diagnostics(other)).toMatch(/Task.description/);
    const bad = await json<OperationOutcome>(
      await patch(id, ORGS.municipalityHomeCare, [{ op: 'replace', path: '/nope/x', value: 1 }]),
      400,
    );
    expect(diagnostics(bad)).toMatch(/cannot be applied/);
    const status = await json<OperationOutcome>(
      await patch(id, ORGS.municipalityHomeCare, [{ op: 'replace', path: '/status', value: 'completed' }]),
      400,
    );
    expect(diagnostics(status)).toMatch(/'accepted' or 'rejected'/);
    const stale = await json<OperationOutcome>(
      await patch(id, ORGS.municipalityHomeCare, [{ op: 'replace', path: '/status', value: 'accepted' }], {
        'if-match': 'W/"9"',
      }),
      412,
    );
    expect(stale.resourceType).toBe('OperationOutcome');
  });
});

describe('ending a case', () => {
  it('lets the requester withdraw: the case and its open invitations are cancelled', async () => {
    const task = await initiate(h);
    const withdrawn = await json<Task>(
      await patch(task.id as string, ORGS.regionWard, [
        { op: 'replace', path: '/status', value: 'cancelled' },
        { op: 'add', path: '/statusReason', value: { text: 'Personen flyttar' } },
      ]),
      200,
    );
    assertValidFhir(withdrawn);
    expect(withdrawn.status).toBe('cancelled');
    expect(withdrawn.businessStatus?.coding?.[0]?.code).toBe('cancelled');
    expect(withdrawn.statusReason?.coding?.[0]?.code).toBe('withdrawn');
    expect(withdrawn.statusReason?.text).toBe('Personen flyttar');
    expect(withdrawn.resourceType).toBe(Object.keys(withdrawn)[0] === 'resourceType' ? 'Task' : 'first');
    const inv = await read(invitationOf(task, ORGS.municipalityHomeCare), ORGS.municipalityHomeCare);
    expect(inv.status).toBe('cancelled');
    const [event] = await publishedFor(
      h,
      'sip.case.transitioned',
      (e) => e.caseId === task.id && e.to === 'cancelled',
    );
    expect(event).toMatchObject({ from: 'awaiting-consent', reason: 'withdrawn', byOrg: ORGS.regionWard });
  });

  it('records that the person ended the SIP, and refuses any other reason code', async () => {
    const task = await initiate(h);
    const reason = (code: string) => [
      { op: 'replace', path: '/status', value: 'cancelled' },
      {
        op: 'add',
        path: '/statusReason',
        value: { coding: [{ system: 'https://samsyn.se/fhir/CodeSystem/sip-case-status-reason', code }] },
      },
    ];
    const bad = await json<OperationOutcome>(
      await patch(task.id as string, ORGS.regionWard, reason('bored')),
      400,
    );
    expect(diagnostics(bad)).toMatch(/withdrawn or person-declined/);
    const ended = await json<Task>(
      await patch(task.id as string, ORGS.regionWard, reason('person-declined')),
      200,
    );
    assertValidFhir(ended);
    expect(ended.statusReason?.coding?.[0]?.code).toBe('person-declined');
    const [event] = await publishedFor(
      h,
      'sip.case.transitioned',
      (e) => e.caseId === task.id && e.to === 'cancelled',
    );
    expect(event?.reason).toBe('person-declined');
  });

  it('answers an illegal transition with 409 naming the current state', async () => {
    const task = await initiate(h);
    const cancel = [{ op: 'replace', path: '/status', value: 'cancelled' }];
    await json<Task>(await patch(task.id as string, ORGS.regionWard, cancel), 200);
    const again = await json<OperationOutcome>(await patch(task.id as string, ORGS.regionWard, cancel), 409);
    expect(diagnostics(again)).toMatch(/The case is 'cancelled'/);
    const answer = await json<OperationOutcome>(
      await patch(invitationOf(task, ORGS.municipalitySocial), ORGS.municipalitySocial, [
        { op: 'replace', path: '/status', value: 'accepted' },
      ]),
      409,
    );
    expect(diagnostics(answer)).toMatch(/'cancelled'/);
  });

  it('lets only the requester withdraw, and only withdraw', async () => {
    const task = await initiate(h);
    const cancel = [{ op: 'replace', path: '/status', value: 'cancelled' }];
    expect(
      diagnostics(
        await json<OperationOutcome>(await patch(task.id as string, ORGS.municipalityHomeCare, cancel), 403),
      ),
    ).toMatch(/Only the initiating unit/);
    const other = await json<OperationOutcome>(
      await patch(task.id as string, ORGS.regionWard, [
        { op: 'replace', path: '/status', value: 'completed' },
      ]),
      422,
    );
    expect(diagnostics(other)).toMatch(/may only withdraw/);
    expect(await caseStatus(h, task.id as string)).toBe('awaiting-consent');
  });
});

describe('consent gates the case', () => {
  it('keeps the case awaiting consent until an active consent covers every invited unit', async () => {
    const task = await initiate(h);
    const caseId = task.id as string;
    await giveConsent(h, caseId, [ORGS.regionWard, ORGS.municipalityHomeCare]);
    // sip.consent.given for part of the units: applied, but the case keeps waiting.
    await eventually(async () => {
      const view = await read(caseId, ORGS.municipalityHomeCare);
      return view.contained ? true : undefined;
    });
    expect(await caseStatus(h, caseId)).toBe('awaiting-consent');
    await giveConsent(h, caseId, [ORGS.municipalitySocial]);
    await statusBecomes(h, caseId, 'invited');
    const [event] = await publishedFor(h, 'sip.case.transitioned', (e) => e.caseId === caseId);
    expect(event).toMatchObject({ from: 'awaiting-consent', to: 'invited' });
  });

  it('shows an uncovered unit neither the name nor the identifier of the person', async () => {
    const task = await initiate(h);
    const caseId = task.id as string;
    await giveConsent(h, caseId, [ORGS.regionWard, ORGS.municipalityHomeCare]);
    await eventually(async () =>
      (await read(caseId, ORGS.municipalityHomeCare)).contained ? true : undefined,
    );
    const covered = await read(caseId, ORGS.municipalityHomeCare);
    expect(JSON.stringify(covered)).toContain('Tolvansson');
    const uncovered = await read(caseId, ORGS.municipalitySocial);
    const found = await search(`_id=${caseId}`, ORGS.municipalitySocial);
    for (const view of [uncovered, found[0]]) {
      expect(view?.id).toBe(caseId);
      const text = JSON.stringify(view);
      expect(text).not.toMatch(/Tolvan|191212121212|1912-12-12/);
      expect(view?.for).toBeUndefined();
      expect(view?.contained).toBeUndefined();
    }
  });

  it('cancels the case on revocation and refuses the person to every unit within 1 s', async () => {
    const task = await invitedCase();
    const caseId = task.id as string;
    expect(JSON.stringify(await read(caseId, ORGS.municipalityHomeCare))).toContain('Tolvansson');
    const consentId = (await published(h, 'sip.consent.given', 'CONSENT'))
      .map((e) => e.body)
      .find((b) => b.caseId === caseId)?.consentId as string;
    const revokedAt = Date.now();
    await publish(h, 'consentRevoked', {
      consentId,
      caseId,
      at: new Date(revokedAt).toISOString(),
      byOrg: ORGS.regionWard,
    });
    await eventually(
      async () => {
        const view = await read(caseId, ORGS.municipalityHomeCare);
        return view.contained === undefined ? view : undefined;
      },
      1000,
      'person hidden from home care',
    );
    const elapsed = Date.now() - revokedAt;
    expect(elapsed).toBeLessThan(1000);
    const view = await read(caseId, ORGS.regionWard);
    expect(view.businessStatus?.coding?.[0]?.code).toBe('cancelled');
    expect(view.statusReason?.coding?.[0]?.code).toBe('consent-withdrawn');
    expect((await read(invitationOf(task, ORGS.municipalitySocial), ORGS.municipalitySocial)).status).toBe(
      'cancelled',
    );
  });

  it('cancels a case whose consent is refused', async () => {
    const task = await initiate(h);
    await publish(h, 'consentRefused', {
      consentId: crypto.randomUUID(),
      caseId: task.id as string,
      at: new Date().toISOString(),
      byOrg: ORGS.municipalityHomeCare,
    });
    await statusBecomes(h, task.id as string, 'cancelled');
  });
});

describe('a person with protected identity', () => {
  function protect(body: Record<string, unknown>) {
    const patient = (body.contained as Record<string, unknown>[])[0] as Record<string, unknown>;
    patient.meta = {
      security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }],
    };
    patient.address = [{ line: ['Hemliga vägen 1'], city: 'Exempelstad' }];
    patient.telecom = [{ system: 'phone', value: '070-1234567' }];
  }

  it('never shows address or contact data outside the initiating unit, and labels the Task restricted', async () => {
    const task = await initiate(h, { body: protect });
    assertValidFhir(task);
    expect(task.meta?.security).toContainEqual(expect.objectContaining({ code: 'R' }));
    expect(JSON.stringify(task)).toContain('Hemliga vägen');
    await giveConsent(h, task.id as string, [ORGS.regionWard, ORGS.municipalityHomeCare]);
    const covered = await eventually(async () => {
      const view = await read(task.id as string, ORGS.municipalityHomeCare);
      return view.contained ? view : undefined;
    });
    expect(JSON.stringify(covered)).toContain('Tolvansson');
    expect(JSON.stringify(covered)).not.toMatch(/Hemliga|070-1234567|Exempelstad/);
    expect(covered.meta?.security).toContainEqual(expect.objectContaining({ code: 'R' }));
    const [found] = await search(`_id=${task.id}`, ORGS.municipalityHomeCare);
    expect(JSON.stringify(found)).not.toMatch(/Hemliga|070-1234567/);
  });

  it('tells the notification service to send the kallelse through the organisation', async () => {
    const task = await invitedCase({ body: protect });
    const booked = await json<Appointment>(
      await h.request('/fhir/Appointment', {
        method: 'POST',
        org: ORGS.regionWard,
        body: JSON.stringify(meeting(task.id as string)),
      }),
      201,
    );
    const [event] = await publishedFor(h, 'sip.meeting.scheduled', (e) => e.appointmentId === booked.id);
    expect(event).toMatchObject({ personProtected: true, language: 'ar' });
    expect(JSON.stringify(event)).not.toMatch(/Hemliga|Tolvan|191212121212/);
  });
});

describe('sip.meeting.scheduled carries what the kallelse needs', () => {
  it('names the link, the language and the units as booked', async () => {
    const task = await invitedCase();
    const booked = await json<Appointment>(
      await h.request('/fhir/Appointment', {
        method: 'POST',
        org: ORGS.regionWard,
        body: JSON.stringify(meeting(task.id as string)),
      }),
      201,
    );
    assertValidFhir(booked);
    const [event] = await publishedFor(h, 'sip.meeting.scheduled', (e) => e.appointmentId === booked.id);
    expect(event).toMatchObject({
      location: { url: 'https://video.region-exempel.se/m/123' },
      language: 'ar',
      orgNames: { [ORGS.municipalityHomeCare]: 'Hemtjänst Norr' },
      personProtected: false,
      rescheduled: false,
    });
  });
});

describe('the plan moves the case', () => {
  const planParties = (caseId: string) => ({
    planId: crypto.randomUUID(),
    caseId,
    leadOrg: ORGS.municipalityHomeCare,
    participantOrgs: [ORGS.regionWard, ORGS.municipalityHomeCare],
  });

  it('goes held → planned → followed-up → followed-up → closed as plan-store reports', async () => {
    const task = await invitedCase();
    const caseId = task.id as string;
    await hold(caseId);
    expect(await caseStatus(h, caseId)).toBe('held');
    const { planId, leadOrg, participantOrgs } = planParties(caseId);
    const at = () => new Date().toISOString();
    await publish(h, 'planEstablished', {
      planId,
      caseId,
      at: at(),
      version: 1,
      leadOrg,
      participantOrgs,
      followUpDue: '2027-03-01',
    });
    await statusBecomes(h, caseId, 'planned');
    const followUp = {
      planId,
      caseId,
      followUpDue: '2027-03-01',
      onTime: true,
      byOrg: leadOrg,
      participantOrgs,
    };
    await publish(h, 'planFollowedUp', { ...followUp, at: at(), nextFollowUpDue: '2027-09-01' });
    await statusBecomes(h, caseId, 'followed-up');
    await publish(h, 'planFollowedUp', { ...followUp, at: at(), followUpDue: '2027-09-01' });
    await publishedFor(
      h,
      'sip.case.transitioned',
      (e) => e.caseId === caseId && e.from === 'followed-up' && e.to === 'followed-up',
    );
    await publish(h, 'planClosed', {
      planId,
      caseId,
      at: at(),
      reason: 'goals-met',
      byOrg: leadOrg,
      participantOrgs,
    });
    await statusBecomes(h, caseId, 'closed');
    const closed = await read(caseId, ORGS.regionWard);
    expect(closed.status).toBe('completed');
    expect(closed.statusReason?.coding?.[0]?.code).toBe('goals-met');
  });

  it('retries a plan that arrives before the meeting is recorded as held, and applies it after', async () => {
    const task = await invitedCase();
    const caseId = task.id as string;
    const { planId, leadOrg, participantOrgs } = planParties(caseId);
    await publish(h, 'planEstablished', {
      planId,
      caseId,
      at: new Date().toISOString(),
      version: 1,
      leadOrg,
      participantOrgs,
      followUpDue: '2027-03-01',
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await caseStatus(h, caseId)).toBe('invited');
    await hold(caseId);
    await statusBecomes(h, caseId, 'planned', 10_000);
  });

  it('dead-letters a plan for a cancelled case, with the reason, and leaves the case cancelled', async () => {
    const task = await initiate(h);
    const caseId = task.id as string;
    await json(
      await patch(caseId, ORGS.regionWard, [{ op: 'replace', path: '/status', value: 'cancelled' }]),
      200,
    );
    const { planId, leadOrg, participantOrgs } = planParties(caseId);
    await publish(h, 'planEstablished', {
      planId,
      caseId,
      at: new Date().toISOString(),
      version: 1,
      leadOrg,
      participantOrgs,
      followUpDue: '2027-03-01',
    });
    const subject = h.bus.naming.unprefix(h.bus.naming.deadLetterSubject('PLAN', 'invitation'));
    const letter = await eventually(async () =>
      (await published(h, subject, 'DEADLETTER')).find((m) => m.body.caseId === caseId),
    );
    expect(letter.headers['samsyn-dlq-reason']).toMatch(/is cancelled/);
    expect(await caseStatus(h, caseId)).toBe('cancelled');
  });
});

describe('an absent summoned unit', () => {
  it('gets a deviation, visible to it and the initiator and to nobody else', async () => {
    const task = await invitedCase();
    const caseId = task.id as string;
    await hold(caseId, [ORGS.municipalityHomeCare]);
    const query = `/fhir/Flag?subject:identifier=${HSA}|${ORGS.municipalityHomeCare}`;
    const bundle = await eventually(async () => {
      const b = await json<Bundle>(await h.request(query, { org: ORGS.municipalityHomeCare }), 200);
      return (b.entry ?? []).some((e) => JSON.stringify(e.resource).includes(caseId)) ? b : undefined;
    });
    assertValidFhir(bundle);
    const flag = bundle.entry?.find((e) => JSON.stringify(e.resource).includes(caseId))?.resource as Flag;
    expect(flag.code.coding?.[0]?.code).toBe('absent-from-meeting');
    assertValidFhir(
      await json<Flag>(await h.request(`/fhir/Flag/${flag.id}`, { org: ORGS.regionWard }), 200),
    );
    await json(await h.request(`/fhir/Flag/${flag.id}`, { org: ORGS.municipalitySocial }), 404);
    await json(await h.request(`/fhir/Flag/${flag.id}`, { org: ORGS.outsider }), 404);
  });
});

describe('access control', () => {
  it("answers a foreign organisation's token on every Task, Appointment and Flag interaction with 404", async () => {
    const task = await invitedCase();
    const caseId = task.id as string;
    const held = await hold(caseId, [ORGS.municipalityHomeCare]);
    const invitation = invitationOf(task, ORGS.municipalityHomeCare);
    const flags = await eventually(async () => {
      const b = await json<Bundle>(
        await h.request(`/fhir/Flag?code=absent-from-meeting`, { org: ORGS.regionWard }),
        200,
      );
      const ids = (b.entry ?? [])
        .filter((e) => JSON.stringify(e.resource).includes(caseId))
        .map((e) => e.resource?.id as string);
      return ids.length > 0 ? ids : undefined;
    });
    const probes: [string, string, string?][] = [
      ['GET', `/fhir/Task/${caseId}`],
      ['GET', `/fhir/Task/${invitation}`],
      ['PATCH', `/fhir/Task/${caseId}`, '[{"op":"replace","path":"/status","value":"cancelled"}]'],
      ['PATCH', `/fhir/Task/${invitation}`, '[{"op":"replace","path":"/status","value":"accepted"}]'],
      ['PUT', `/fhir/Task/${caseId}`, JSON.stringify({ resourceType: 'Task', id: caseId })],
      ['GET', `/fhir/Appointment/${held.id}`],
      ['PUT', `/fhir/Appointment/${held.id}`, JSON.stringify({ resourceType: 'Appointment', id: held.id })],
      ['PATCH', `/fhir/Appointment/${held.id}`, '[]'],
      ['GET', `/fhir/Flag/${flags[0]}`],
    ];
    for (const [method, path, body] of probes) {
      const res = await h.request(path, {
        method,
        org: ORGS.outsider,
        ...(body ? { body } : {}),
        ...(method === 'PATCH' ? { headers: { 'content-type': 'application/json-patch+json' } } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(((await res.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
    }
    for (const query of [
      `/fhir/Task?_id=${caseId}`,
      `/fhir/Task?part-of=Task/${caseId}`,
      `/fhir/Appointment?supporting-info=Task/${caseId}`,
      `/fhir/Flag?_id=${flags[0]}`,
    ]) {
      const bundle = await json<Bundle>(await h.request(query, { org: ORGS.outsider }), 200);
      expect(bundle.entry ?? [], query).toEqual([]);
    }
  });

  it('enforces scopes per interaction', async () => {
    const task = await initiate(h);
    const readOnly = { scopes: ['user/Task.rs'] };
    await json(await h.request(`/fhir/Task/${task.id}`, { org: ORGS.regionWard, claims: readOnly }), 200);
    const res = await h.request(`/fhir/Task/${task.id}`, {
      method: 'PATCH',
      org: ORGS.regionWard,
      claims: readOnly,
      headers: { 'content-type': 'application/json-patch+json' },
      body: '[{"op":"replace","path":"/status","value":"cancelled"}]',
    });
    expect(res.status).toBe(403);
    await json(await h.request('/fhir/Flag', { org: ORGS.regionWard, claims: readOnly }), 403);
    await json(await h.request('/fhir/Appointment', { org: ORGS.regionWard, claims: readOnly }), 403);
  });
});

describe('bad initiatives', () => {
  async function refused(mutate: (body: Record<string, unknown>) => void, status = 400): Promise<string> {
    const body = (await import('@samsyn/testkit')).sipInitiative({ identifier: crypto.randomUUID() });
    mutate(body);
    return diagnostics(
      await json<OperationOutcome>(
        await h.request('/fhir/Task', { method: 'POST', org: ORGS.regionWard, body: JSON.stringify(body) }),
        status,
      ),
    );
  }
  const patient = (b: Record<string, unknown>) =>
    (b.contained as Record<string, unknown>[])[0] as Record<string, unknown>;
  const inputs = (b: Record<string, unknown>) =>
    b.input as Record<string, Record<string, Record<string, unknown>>>[];

  it('names what to fix for a bad personnummer, a bad HSA-id, no invitees, a duplicate invitee and an unknown code', async () => {
    expect(
      await refused((b) => {
        patient(b).identifier = [{ system: PNR, value: '191212121213' }];
      }),
    ).toMatch(/check digit/);
    expect(
      await refused((b) => {
        (
          inputs(b)[0] as { valueReference: { identifier: { value: string } } }
        ).valueReference.identifier.value = 'SE-not-hsa';
      }),
    ).toMatch(/Task.input\[0\].valueReference.identifier.value/);
    expect(
      await refused((b) => {
        b.input = [];
      }),
    ).toMatch(/at least one organisation/);
    expect(
      await refused((b) => {
        b.input = [...(b.input as unknown[]), (b.input as unknown[])[0]];
      }),
    ).toMatch(/named twice/);
    expect(
      await refused((b) => {
        b.reasonCode = {
          coding: [{ system: 'https://samsyn.se/fhir/CodeSystem/sip-trigger', code: 'whim' }],
        };
      }),
    ).toMatch(/discharge or other/);
    expect(
      await refused((b) => {
        b.requester = { identifier: { system: HSA, value: ORGS.outsider } };
      }, 403),
    ).toMatch(/in its own name/);
  });

  it('refuses a ready-for-discharge time in the future', async () => {
    expect(
      await refused((b) => {
        b.extension = [
          {
            url: 'https://samsyn.se/fhir/StructureDefinition/discharge-ready-at',
            valueDateTime: new Date(Date.now() + 48 * HOUR).toISOString(),
          },
        ];
      }),
    ).toMatch(/lies in the future/);
  });
});

describe('code systems', () => {
  it('serves the invitation service’s own code systems beside the shared ones, as valid CodeSystems', async () => {
    for (const id of [
      'sip-meeting-mode',
      'sip-deviation',
      'sip-task-output',
      'sip-case-status-reason',
      'sip-task',
    ]) {
      const cs = await json<{ resourceType: string; url: string }>(
        await h.request(`/fhir/CodeSystem/${id}`, { org: ORGS.outsider }),
        200,
      );
      assertValidFhir(cs);
      expect(cs.url).toBe(`https://samsyn.se/fhir/CodeSystem/${id}`);
    }
    const bundle = await json<Bundle>(
      await h.request('/fhir/CodeSystem?url=https://samsyn.se/fhir/CodeSystem/sip-attendance', {
        org: ORGS.outsider,
      }),
      200,
    );
    expect(bundle.total).toBe(1);
  });
});

describe('the access log', () => {
  it('logs a search once per person it shows, and every change of a case, with the patient pseudonym only', async () => {
    const a = await initiate(h, { personnummer: '199001011239' });
    const b = await initiate(h, { personnummer: '191212121212' });
    const query = `_id=${a.id},${b.id}`;
    expect(await search(query)).toHaveLength(2);
    const logged = await eventually(async () => {
      const entries = (await published(h, 'sip.audit.recorded', 'AUDIT'))
        .map((e) => e.body)
        .filter((e) => e.interaction === 'search-type' && String(e.query).includes(String(a.id)));
      return entries.length >= 2 ? entries : undefined;
    });
    expect(logged.map((e) => e.caseId).sort()).toEqual([a.id, b.id].sort());
    expect(new Set(logged.map((e) => e.patientKey)).size).toBe(2);
    expect(JSON.stringify(logged)).not.toMatch(/199001011239|191212121212|Tolvan/);

    await json(
      await patch(a.id as string, ORGS.regionWard, [{ op: 'replace', path: '/status', value: 'cancelled' }]),
      200,
    );
    const change = await eventually(async () =>
      (await published(h, 'sip.audit.recorded', 'AUDIT'))
        .map((e) => e.body)
        .find((e) => e.interaction === 'patch' && e.caseId === a.id),
    );
    expect(change).toMatchObject({ orgUnit: ORGS.regionWard, action: 'U', outcome: '0' });
  });
});

describe('bad meetings', () => {
  async function refused(
    caseId: string,
    change: (m: Record<string, unknown>) => void,
    status = 400,
  ): Promise<string> {
    const body = meeting(caseId);
    change(body);
    return diagnostics(
      await json<OperationOutcome>(
        await h.request('/fhir/Appointment', {
          method: 'POST',
          org: ORGS.regionWard,
          body: JSON.stringify(body),
        }),
        status,
      ),
    );
  }

  it('names what to fix: an end before the start, a meeting in the past, no mode, no place, an http link, an unknown element', async () => {
    const task = await invitedCase();
    const caseId = task.id as string;
    expect(
      await refused(caseId, (m) => {
        m.end = new Date(Date.parse(m.start as string) - HOUR).toISOString();
      }),
    ).toMatch(/Appointment.end: must be after Appointment.start/);
    expect(
      await refused(caseId, (m) => {
        m.start = new Date(Date.now() - 3 * HOUR).toISOString();
        m.end = new Date(Date.now() - 2 * HOUR).toISOString();
      }),
    ).toMatch(/not in the future/);
    expect(
      await refused(caseId, (m) => {
        m.appointmentType = { coding: [{ system: MEETING_MODE_SYSTEM, code: 'carrier-pigeon' }] };
      }),
    ).toMatch(/physical, video or phone/);
    expect(
      await refused(caseId, (m) => {
        m.contained = [];
      }),
    ).toMatch(/exactly one Location/);
    expect(
      await refused(caseId, (m) => {
        m.contained = [
          { resourceType: 'Location', id: 'place', telecom: [{ system: 'url', value: 'http://x.se/m' }] },
        ];
      }),
    ).toMatch(/not an https link/);
    expect(
      await refused(caseId, (m) => {
        m.comment = 'Ta med journalen';
      }),
    ).toMatch(/comment/);
    expect(
      await refused(caseId, (m) => {
        m.supportingInformation = [{ reference: 'Task/not-a-case' }];
      }),
    ).toMatch(/not a Samsyn case id/);
  });

  it('refuses a unit that is not invited to the case, and a bad HSA-id', async () => {
    const task = await invitedCase();
    const caseId = task.id as string;
    const participant = (value: string) => (m: Record<string, unknown>) => {
      (m.participant as unknown[]).push({
        actor: { identifier: { system: HSA, value } },
        status: 'needs-action',
      });
    };
    expect(await refused(caseId, participant(OTHER_PRINCIPAL), 422)).toMatch(new RegExp(OTHER_PRINCIPAL));
    expect(await refused(caseId, participant('SE-nope'))).toMatch(/actor.identifier.value/);
  });

  it('answers a booking for a case outside the caller’s like an unknown case (404)', async () => {
    const task = await invitedCase();
    const res = await h.request('/fhir/Appointment', {
      method: 'POST',
      org: ORGS.outsider,
      body: JSON.stringify(meeting(task.id as string)),
    });
    expect(res.status).toBe(404);
  });
});
