// The SIP meeting over FHIR Appointment against real PostgreSQL and NATS: booking, answers, moves,
// cancellation, attendance and the deviations it produces.
import type { Appointment, Bundle, Flag, OperationOutcome, Task } from '@samsyn/fhir';
import { DEFAULT_DEV_SCOPES, type ServiceDeps } from '@samsyn/platform';
import {
  assertValidFhir,
  eventually,
  type Harness,
  ORGS,
  sipInitiative,
  startHarness,
} from '@samsyn/testkit';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ATTENDANCE_EXTENSION,
  MEETING_MODE_SYSTEM,
  MEETING_PARTICIPANT_SYSTEM,
} from '../src/appointment/codes.ts';
import { appointments, cases, timers } from '../src/db/schema.ts';
import { flagRoutes } from '../src/deviation/routes.ts';
import { cancelCaseMeetings } from '../src/schedule-meeting/schedule-meeting.ts';
import { createInvitationService } from '../src/service.ts';

const HSA = 'urn:oid:1.2.752.29.4.19';
const HOUR = 3_600_000;
const FLAG_READER = { scopes: [...DEFAULT_DEV_SCOPES, 'user/Flag.rs'] };

/** The invitation service, with /Flag mounted here until service.ts mounts it itself. */
function invitationWithFlags(deps: ServiceDeps) {
  const service = createInvitationService(deps);
  if (!service.fhir.routes.some((r) => r.path.startsWith('/Flag'))) {
    service.fhir.route('/Flag', flagRoutes({ db: deps.database.db, afterCommit: () => {} }));
  }
  return service;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    label: 'meeting',
    factories: [invitationWithFlags],
    env: { TIMER_POLL_MS: '100' },
  });
});
afterAll(async () => h?.stop());

let identifiers = 0;
async function createCase(options: { status?: 'invited' } = {}): Promise<string> {
  identifiers += 1;
  const res = await h.request('/fhir/Task', {
    method: 'POST',
    org: ORGS.regionWard,
    body: JSON.stringify(sipInitiative({ identifier: `meeting-${identifiers}`, trigger: 'other' })),
  });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as Task;
  if (options.status) {
    // The consent flow that moves a case to invited is not wired yet, so the test sets the state directly.
    await h.database.db
      .update(cases)
      .set({ status: options.status })
      .where(eq(cases.id, id as string));
  }
  return id as string;
}

function meeting(caseId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const start = new Date(Date.now() + 48 * HOUR);
  return {
    resourceType: 'Appointment',
    status: 'booked',
    appointmentType: { coding: [{ system: MEETING_MODE_SYSTEM, code: 'physical' }] },
    supportingInformation: [{ reference: `Task/${caseId}` }],
    start: start.toISOString(),
    end: new Date(start.getTime() + HOUR).toISOString(),
    contained: [
      {
        resourceType: 'Location',
        id: 'place',
        address: { text: 'Vårdcentralen Norr, Storgatan 1, Exempelstad' },
      },
    ],
    participant: [
      { actor: { reference: '#place' }, status: 'accepted' },
      {
        type: [{ coding: [{ system: MEETING_PARTICIPANT_SYSTEM, code: 'person' }] }],
        actor: { display: 'Personen' },
        status: 'accepted',
      },
      {
        type: [{ coding: [{ system: MEETING_PARTICIPANT_SYSTEM, code: 'relative' }] }],
        actor: { display: 'Anna Tolvansson, dotter' },
        status: 'accepted',
      },
    ],
    ...overrides,
  };
}

async function book(caseId: string, overrides: Record<string, unknown> = {}): Promise<Response> {
  return h.request('/fhir/Appointment', {
    method: 'POST',
    org: ORGS.regionWard,
    body: JSON.stringify(meeting(caseId, overrides)),
  });
}

async function booked(caseId: string): Promise<Appointment> {
  const res = await book(caseId);
  expect(res.status).toBe(201);
  return (await res.json()) as Appointment;
}

/** PUT with If-Match naming the version read (or `ifMatch`; null sends none). */
function put(resource: Appointment, org: string, ifMatch: string | null = resource.meta?.versionId ?? null) {
  return h.request(`/fhir/Appointment/${resource.id}`, {
    method: 'PUT',
    org,
    headers: ifMatch ? { 'if-match': `W/"${ifMatch}"` } : {},
    body: JSON.stringify(resource),
  });
}

function participantOf(resource: Appointment, org: string) {
  const p = resource.participant.find((x) => x.actor?.identifier?.value === org);
  if (!p) throw new Error(`${org} is not a participant`);
  return p;
}

async function caseStatus(caseId: string): Promise<string | undefined> {
  const res = await h.request(`/fhir/Task/${caseId}`, { org: ORGS.regionWard });
  return ((await res.json()) as Task).businessStatus?.coding?.[0]?.code;
}

/** Every event published on `subject` in this file's namespace, oldest first. */
async function published(subject: string): Promise<Record<string, unknown>[]> {
  const stream = h.bus.naming.stream('INVITATION');
  const filter = h.bus.naming.subject(subject);
  const info = await h.bus.jsm.streams.info(stream, { subjects_filter: filter });
  const count = info.state.subjects?.[filter] ?? 0;
  if (count === 0) return [];
  const consumer = await h.bus.js.consumers.get(stream, { filterSubjects: filter });
  const out: Record<string, unknown>[] = [];
  for await (const m of await consumer.fetch({ max_messages: count, expires: 2000 })) {
    out.push(m.json());
    if (out.length === count) break;
  }
  return out;
}

async function publishedFor(subject: string, match: (e: Record<string, unknown>) => boolean) {
  return eventually(
    async () => {
      const hits = (await published(subject)).filter(match);
      return hits.length > 0 ? hits : undefined;
    },
    5000,
    `${subject} published`,
  );
}

describe('booking a meeting', () => {
  it('refuses to book while the case awaits consent, naming the state', async () => {
    const caseId = await createCase();
    const res = await book(caseId);
    expect(res.status).toBe(409);
    expect(((await res.json()) as OperationOutcome).issue[0]?.diagnostics).toMatch(/'awaiting-consent'/);
  });

  it('refuses a meeting that starts in the past', async () => {
    const caseId = await createCase({ status: 'invited' });
    const start = new Date(Date.now() - 2 * HOUR);
    const res = await book(caseId, {
      start: start.toISOString(),
      end: new Date(start.getTime() + HOUR).toISOString(),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as OperationOutcome).issue[0]?.diagnostics).toMatch(/not in the future/);
  });

  it('schedules the case and publishes sip.meeting.scheduled with every participating unit', async () => {
    const caseId = await createCase({ status: 'invited' });
    const res = await book(caseId);
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toMatch(/\/fhir\/Appointment\/[0-9a-f-]{36}\/_history\/1$/);
    const created = (await res.json()) as Appointment;
    assertValidFhir(created);
    expect(created.status).toBe('booked');
    expect(participantOf(created, ORGS.municipalityHomeCare)).toMatchObject({
      required: 'required',
      status: 'needs-action',
    });
    expect(participantOf(created, ORGS.municipalitySocial)).toMatchObject({
      required: 'optional',
      status: 'needs-action',
    });
    expect(participantOf(created, ORGS.regionWard).status).toBe('accepted');
    expect(await caseStatus(caseId)).toBe('scheduled');
    const [event] = await publishedFor('sip.meeting.scheduled', (e) => e.appointmentId === created.id);
    expect(event).toMatchObject({ caseId, rescheduled: false, mode: 'physical' });
    expect(event?.orgs).toEqual([ORGS.regionWard, ORGS.municipalityHomeCare, ORGS.municipalitySocial]);
    // The meeting place travels for the kallelse letter; the relatives' names never do.
    expect(event?.location).toEqual({ place: 'Vårdcentralen Norr, Storgatan 1, Exempelstad' });
    expect(JSON.stringify(event)).not.toMatch(/Anna|Tolvan/);
  });

  it('lets only the initiating unit book', async () => {
    const caseId = await createCase({ status: 'invited' });
    const res = await h.request('/fhir/Appointment', {
      method: 'POST',
      org: ORGS.municipalityHomeCare,
      body: JSON.stringify(meeting(caseId)),
    });
    expect(res.status).toBe(403);
  });
});

describe('who sees a meeting', () => {
  it('answers like a missing meeting to an organisation outside the case', async () => {
    const caseId = await createCase({ status: 'invited' });
    const created = await booked(caseId);
    const read = await h.request(`/fhir/Appointment/${created.id}`, { org: ORGS.outsider });
    expect(read.status).toBe(404);
    const search = await h.request(`/fhir/Appointment?supporting-info=Task/${caseId}`, {
      org: ORGS.outsider,
    });
    expect(((await search.json()) as Bundle).total).toBe(0);
    const booking = await h.request('/fhir/Appointment', {
      method: 'POST',
      org: ORGS.outsider,
      body: JSON.stringify(meeting(caseId)),
    });
    expect(booking.status).toBe(404);
    const invitee = await h.request(`/fhir/Appointment/${created.id}`, { org: ORGS.municipalityHomeCare });
    expect(invitee.status).toBe(200);
    assertValidFhir(await invitee.json());
  });

  it('finds meetings by case, participating unit, date and status', async () => {
    const caseId = await createCase({ status: 'invited' });
    const created = await booked(caseId);
    const day = created.start?.slice(0, 10);
    const query = `supporting-info=Task/${caseId}&actor:identifier=${HSA}|${ORGS.municipalitySocial}&date=${day}&status=booked`;
    const res = await h.request(`/fhir/Appointment?${query}`, { org: ORGS.municipalitySocial });
    const bundle = (await res.json()) as Bundle<Appointment>;
    assertValidFhir(bundle);
    expect(bundle.entry?.map((e) => e.resource?.id)).toEqual([created.id]);
    const elsewhere = await h.request(`/fhir/Appointment?supporting-info=Task/${caseId}&date=lt2000-01-01`, {
      org: ORGS.regionWard,
    });
    expect(((await elsewhere.json()) as Bundle).total).toBe(0);
    const unknown = await h.request('/fhir/Appointment?patient=191212121212', { org: ORGS.regionWard });
    expect(unknown.status).toBe(400);
  });
});

describe('answering and changing a meeting', () => {
  it('lets an invited unit answer its own participation, and nothing else', async () => {
    const caseId = await createCase({ status: 'invited' });
    const created = await booked(caseId);
    const index = created.participant.findIndex(
      (p) => p.actor?.identifier?.value === ORGS.municipalityHomeCare,
    );
    const patch = await h.request(`/fhir/Appointment/${created.id}`, {
      method: 'PATCH',
      org: ORGS.municipalityHomeCare,
      headers: { 'content-type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'replace', path: `/participant/${index}/status`, value: 'accepted' }]),
    });
    expect(patch.status).toBe(200);
    const answered = (await patch.json()) as Appointment;
    expect(participantOf(answered, ORGS.municipalityHomeCare).status).toBe('accepted');
    expect(answered.meta?.versionId).toBe('2');

    // The other invitee may not move the meeting, nor answer for someone else.
    const moved = structuredClone(answered);
    moved.start = new Date(Date.parse(answered.start as string) + HOUR).toISOString();
    moved.end = new Date(Date.parse(answered.end as string) + HOUR).toISOString();
    const refused = await put(moved, ORGS.municipalitySocial);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as OperationOutcome).issue[0]?.diagnostics).toMatch(
      /only your own participant.status/,
    );
    const forOther = structuredClone(answered);
    participantOf(forOther, ORGS.municipalityHomeCare).status = 'declined';
    expect((await put(forOther, ORGS.municipalitySocial)).status).toBe(403);
  });

  it('refuses a PUT without If-Match with 412', async () => {
    const caseId = await createCase({ status: 'invited' });
    const created = await booked(caseId);
    const res = await put(created, ORGS.regionWard, null);
    expect(res.status).toBe(412);
  });

  it('moves the meeting: sip.meeting.scheduled says rescheduled and everyone is asked again', async () => {
    const caseId = await createCase({ status: 'invited' });
    const created = await booked(caseId);
    const index = created.participant.findIndex(
      (p) => p.actor?.identifier?.value === ORGS.municipalityHomeCare,
    );
    await h.request(`/fhir/Appointment/${created.id}`, {
      method: 'PATCH',
      org: ORGS.municipalityHomeCare,
      headers: { 'content-type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'replace', path: `/participant/${index}/status`, value: 'accepted' }]),
    });
    const current = (await (
      await h.request(`/fhir/Appointment/${created.id}`, { org: ORGS.regionWard })
    ).json()) as Appointment;
    const later = structuredClone(current);
    later.start = new Date(Date.parse(current.start as string) + 24 * HOUR).toISOString();
    later.end = new Date(Date.parse(current.end as string) + 24 * HOUR).toISOString();
    const stale = await put(later, ORGS.regionWard, created.meta?.versionId ?? null);
    expect(stale.status).toBe(412);
    const res = await put(later, ORGS.regionWard);
    expect(res.status).toBe(200);
    const moved = (await res.json()) as Appointment;
    assertValidFhir(moved);
    expect(moved.start).toBe(later.start);
    expect(participantOf(moved, ORGS.municipalityHomeCare).status).toBe('needs-action');
    const events = await publishedFor(
      'sip.meeting.scheduled',
      (e) => e.appointmentId === created.id && e.rescheduled === true,
    );
    expect(events[0]?.start).toBe(later.start);
    expect(await caseStatus(caseId)).toBe('scheduled');
  });

  it('cancels the meeting: the case is invited again and sip.meeting.cancelled is published', async () => {
    const caseId = await createCase({ status: 'invited' });
    const created = await booked(caseId);
    const res = await put({ ...created, status: 'cancelled' }, ORGS.regionWard);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Appointment).status).toBe('cancelled');
    expect(await caseStatus(caseId)).toBe('invited');
    await publishedFor('sip.meeting.cancelled', (e) => e.appointmentId === created.id);
    const again = await put({ ...created, status: 'booked', meta: { versionId: '2' } }, ORGS.regionWard);
    expect(again.status).toBe(409);
  });
});

describe('a case that ends', () => {
  it('takes its booked meeting and the meeting reminders with it', async () => {
    const caseId = await createCase({ status: 'invited' });
    const created = await booked(caseId);
    const ids = await h.database.db.transaction((tx) => cancelCaseMeetings(tx, caseId, new Date()));
    expect(ids).toEqual([created.id]);
    const read = (await (
      await h.request(`/fhir/Appointment/${created.id}`, { org: ORGS.regionWard })
    ).json()) as Appointment;
    expect(read.status).toBe('cancelled');
    const reminders = await h.database.db
      .select()
      .from(timers)
      .where(eq(timers.appointmentId, created.id as string));
    expect(reminders.length).toBeGreaterThan(0);
    expect(reminders.every((t) => t.cancelledAt !== null)).toBe(true);
    await publishedFor('sip.meeting.cancelled', (e) => e.appointmentId === created.id);
  });
});

describe('recording attendance', () => {
  /** A booking must start in the future, so the test moves the booked meeting into the past in the database. */
  async function heldYesterday(appointmentId: string): Promise<Appointment> {
    const start = new Date(Date.now() - 26 * HOUR);
    await h.database.db
      .update(appointments)
      .set({ start, end: new Date(start.getTime() + HOUR) })
      .where(eq(appointments.id, appointmentId));
    const res = await h.request(`/fhir/Appointment/${appointmentId}`, { org: ORGS.regionWard });
    return (await res.json()) as Appointment;
  }

  function withAttendance(
    resource: Appointment,
    attendance: Record<string, 'attended' | 'absent'>,
  ): Appointment {
    const copy = structuredClone(resource);
    copy.status = 'fulfilled';
    for (const p of copy.participant) {
      const code = attendance[p.actor?.identifier?.value ?? ''];
      if (code) p.extension = [{ url: ATTENDANCE_EXTENSION, valueCode: code }];
    }
    return copy;
  }

  it('refuses attendance before the meeting has ended', async () => {
    const caseId = await createCase({ status: 'invited' });
    const created = await booked(caseId);
    const res = await put(
      withAttendance(created, {
        [ORGS.regionWard]: 'attended',
        [ORGS.municipalityHomeCare]: 'attended',
        [ORGS.municipalitySocial]: 'attended',
      }),
      ORGS.regionWard,
    );
    expect(res.status).toBe(422);
    expect(((await res.json()) as OperationOutcome).issue[0]?.diagnostics).toMatch(/after it has ended/);
  });

  it('marks the case held and reports an absent summoned unit, visible to it and the initiator only', async () => {
    const caseId = await createCase({ status: 'invited' });
    const created = await booked(caseId);
    const past = await heldYesterday(created.id as string);
    const incomplete = await put(withAttendance(past, { [ORGS.regionWard]: 'attended' }), ORGS.regionWard);
    expect(incomplete.status).toBe(400);

    const res = await put(
      withAttendance(past, {
        [ORGS.regionWard]: 'attended',
        [ORGS.municipalityHomeCare]: 'absent',
        [ORGS.municipalitySocial]: 'absent',
      }),
      ORGS.regionWard,
    );
    expect(res.status).toBe(200);
    const held = (await res.json()) as Appointment;
    assertValidFhir(held);
    expect(held.status).toBe('fulfilled');
    expect(participantOf(held, ORGS.municipalityHomeCare).extension).toEqual([
      { url: ATTENDANCE_EXTENSION, valueCode: 'absent' },
    ]);
    expect(await caseStatus(caseId)).toBe('held');

    const [heldEvent] = await publishedFor('sip.meeting.held', (e) => e.appointmentId === created.id);
    expect(heldEvent?.attendance).toContainEqual({
      org: ORGS.municipalityHomeCare,
      kind: 'summoned',
      attended: false,
    });
    // Only the summoned unit's absence is a deviation; the invited unit may stay away.
    const deviations = await publishedFor('sip.deviation.reported', (e) => e.caseId === caseId);
    expect(deviations).toHaveLength(1);
    expect(deviations[0]).toMatchObject({
      org: ORGS.municipalityHomeCare,
      requesterOrg: ORGS.regionWard,
      cause: 'absent-from-meeting',
      appointmentId: created.id,
    });

    const flagId = deviations[0]?.deviationId as string;
    for (const org of [ORGS.municipalityHomeCare, ORGS.regionWard]) {
      const read = await h.request(`/fhir/Flag/${flagId}`, { org, claims: FLAG_READER });
      expect(read.status).toBe(200);
      const flag = (await read.json()) as Flag;
      assertValidFhir(flag);
      expect(flag.subject.identifier?.value).toBe(ORGS.municipalityHomeCare);
      expect(flag.code.coding?.[0]?.code).toBe('absent-from-meeting');
      const search = await h.request(`/fhir/Flag?subject:identifier=${HSA}|${ORGS.municipalityHomeCare}`, {
        org,
        claims: FLAG_READER,
      });
      expect(((await search.json()) as Bundle).entry?.map((e) => e.resource?.id)).toContain(flagId);
    }
    // The invited unit takes part in the case, but the deviation is not addressed to it.
    for (const org of [ORGS.municipalitySocial, ORGS.outsider]) {
      expect((await h.request(`/fhir/Flag/${flagId}`, { org, claims: FLAG_READER })).status).toBe(404);
      const search = await h.request('/fhir/Flag', { org, claims: FLAG_READER });
      expect(((await search.json()) as Bundle).entry ?? []).not.toContainEqual(
        expect.objectContaining({ resource: expect.objectContaining({ id: flagId }) }),
      );
    }

    // Recorded once: the same PUT again changes nothing, a different one is refused.
    const again = await put(held, ORGS.regionWard);
    expect(again.status).toBe(200);
    expect(((await again.json()) as Appointment).meta?.versionId).toBe(held.meta?.versionId);
    const rewritten = structuredClone(held);
    participantOf(rewritten, ORGS.municipalityHomeCare).extension = [
      { url: ATTENDANCE_EXTENSION, valueCode: 'attended' },
    ];
    expect((await put(rewritten, ORGS.regionWard)).status).toBe(409);
  });
});
