// Use case: the initiating unit books, moves or cancels the SIP meeting; participants answer for themselves.
import { randomUUID } from 'node:crypto';
import { enqueue } from '@samsyn/bus';
import { events } from '@samsyn/contracts';
import type { Db, Tx } from '@samsyn/db';
import {
  type Appointment,
  BusinessRuleViolation,
  Forbidden,
  InvalidRequest,
  NotFound,
  StateConflict,
} from '@samsyn/fhir';
import { and, eq, sql } from 'drizzle-orm';
import { canSeeCase, meetingParticipants } from '../appointment/access.ts';
import { differences, movesMeeting } from '../appointment/compare.ts';
import { type LockedMeeting, lockMeeting } from '../appointment/load.ts';
import { appointmentResource, type MeetingInput } from '../appointment/meeting.ts';
import { lockCase, SOURCE, transitionCase } from '../case/transition.ts';
import type { InvitationConfig } from '../config.ts';
import {
  type AppointmentParticipant,
  type AppointmentRow,
  appointments,
  type CaseRow,
  invitations,
  outbox,
} from '../db/schema.ts';
import { cancelMeetingTimers, cancelSummonsTimer, scheduleMeetingTimers } from '../deadlines/schedule.ts';
import { applyAttendance } from '../record-attendance/record-attendance.ts';
import { answerParticipation } from './answer-participation.ts';

export interface MeetingContext {
  callerOrg: string;
  traceparent?: string;
  config: InvitationConfig;
  /** The clock (tests move it). */
  now?: Date;
  /** More writes for the change's own transaction (the access-log entry). */
  onCommit?: (tx: Tx, row: CaseRow, meeting: AppointmentRow) => Promise<void>;
}

export interface ChangeContext extends MeetingContext {
  ifMatch?: string;
  requireIfMatch?: boolean;
}

export interface MeetingResult {
  meeting: AppointmentRow;
  row: CaseRow;
  /** False when the request changed nothing (nothing was written or published). */
  changed: boolean;
}

/** States a meeting can be booked in: invited, a rebooking while scheduled, a further meeting once held. */
const BOOKABLE = new Set(['invited', 'scheduled', 'held']);

export async function bookMeeting(db: Db, input: MeetingInput, ctx: MeetingContext): Promise<MeetingResult> {
  const now = ctx.now ?? new Date();
  if (input.status !== 'booked') {
    throw new InvalidRequest(
      'invalid-status',
      `Appointment.status: a new meeting is booked (status booked), not '${input.status}'`,
    );
  }
  assertBookable(input, now);
  return db.transaction(async (tx) => {
    const row = await lockCase(tx, input.caseId);
    if (!row || !(await canSeeCase(tx, row, ctx.callerOrg))) throw new NotFound('Task', input.caseId);
    if (row.requesterOrg !== ctx.callerOrg) {
      throw new Forbidden(`Only the initiating unit ${row.requesterOrg} books the meeting of this SIP`);
    }
    if (!BOOKABLE.has(row.status)) {
      throw new StateConflict(
        'case-not-bookable',
        `The case is '${row.status}'${row.status === 'awaiting-consent' ? " (waiting for the person's consent)" : ''}; a meeting can be booked once it is invited, scheduled or held`,
      );
    }
    const list = await tx.select().from(invitations).where(eq(invitations.caseId, row.id));
    const orgs = meetingParticipants([], row, list);
    assertOrgsSent(input, orgs, row);
    // A new booking replaces the meeting booked so far: that one is cancelled, and the news is a move.
    const replaced = await tx
      .update(appointments)
      .set({ status: 'cancelled', versionId: sql`${appointments.versionId} + 1`, lastUpdated: now })
      .where(and(eq(appointments.caseId, row.id), eq(appointments.status, 'booked')))
      .returning({ id: appointments.id });
    for (const r of replaced) await cancelMeetingTimers(tx, r.id, now);
    const [meeting] = await tx
      .insert(appointments)
      .values({
        id: randomUUID(),
        caseId: row.id,
        status: 'booked',
        start: input.start,
        end: input.end,
        mode: input.mode,
        location: input.location,
        participants: [...orgs, ...people(input)],
        versionId: 1,
        lastUpdated: now,
        createdAt: now,
        createdBy: ctx.callerOrg,
      })
      .returning();
    if (!meeting) throw new Error('insert returned no appointment');
    await cancelSummonsTimer(tx, row.id, now);
    await scheduleMeetingTimers(tx, meeting, ctx.config, now);
    const caseRow =
      row.status === 'scheduled'
        ? row
        : await transitionCase(tx, row, 'scheduled', { byOrg: ctx.callerOrg, at: now, ...trace(ctx) });
    await enqueueScheduled(tx, meeting, caseRow, replaced.length > 0, now, {
      ...ctx,
      orgNames: input.orgNames,
    });
    await ctx.onCommit?.(tx, caseRow, meeting);
    return { meeting, row: caseRow, changed: true };
  });
}

/**
 * A PUT or PATCH of a meeting, decided on the locked current state: the initiating unit moves, cancels or
 * records attendance (status fulfilled); every other participant changes only its own participant.status.
 */
export async function changeMeeting(
  db: Db,
  appointmentId: string,
  change: MeetingInput | ((current: Appointment) => MeetingInput),
  ctx: ChangeContext,
): Promise<MeetingResult> {
  const now = ctx.now ?? new Date();
  return db.transaction(async (tx) => {
    const locked = await lockMeeting(tx, appointmentId, {
      callerOrg: ctx.callerOrg,
      now,
      ...(ctx.ifMatch !== undefined ? { ifMatch: ctx.ifMatch } : {}),
      ...(ctx.requireIfMatch ? { requireIfMatch: true } : {}),
    });
    // A patch applies to the meeting as it is now, under the lock, never to an earlier read.
    const incoming =
      typeof change === 'function'
        ? change(appointmentResource(locked.meeting, locked.showRelatives))
        : change;
    if (incoming.caseId !== locked.meeting.caseId) {
      throw new BusinessRuleViolation(
        'case-cannot-change',
        `Appointment.supportingInformation: the meeting belongs to Task/${locked.meeting.caseId} and cannot move to another case; book a new meeting there`,
      );
    }
    let result: MeetingResult;
    if (locked.row.requesterOrg !== ctx.callerOrg) {
      result = await answerParticipation(tx, locked, incoming, { ...ctx, now });
    } else if (incoming.status === 'fulfilled') {
      result = await applyAttendance(tx, locked, incoming, { ...ctx, now });
    } else if (incoming.status === 'cancelled') {
      result = await cancel(tx, locked, incoming, { ...ctx, now });
    } else {
      result = await update(tx, locked, incoming, { ...ctx, now });
    }
    if (result.changed) await ctx.onCommit?.(tx, result.row, result.meeting);
    return result;
  });
}

type Ctx = MeetingContext & { now: Date };

/** The initiating unit changes time, place, its own answer, the person's answer or the relatives. */
async function update(
  tx: Tx,
  locked: LockedMeeting,
  incoming: MeetingInput,
  ctx: Ctx,
): Promise<MeetingResult> {
  const { meeting, row, view } = locked;
  assertStillBooked(meeting);
  const requester = row.requesterOrg;
  const others = differences(view, incoming, {
    exceptAnswerOf: requester,
    people: false,
    status: false,
    whenAndWhere: false,
  });
  assertNoAttendance(incoming);
  if (others.length > 0) {
    throw new Forbidden(
      `Only each organisation answers for itself; the change touches ${others.join(', ')}. Send the other participants as you read them`,
    );
  }
  const moved = movesMeeting(view, incoming);
  if (moved) assertBookable(incoming, ctx.now);
  const ownAnswer = incoming.orgs.find((o) => o.org === requester)?.answer;
  const participants: AppointmentParticipant[] = [
    ...meeting.participants
      .filter((p) => p.type === 'org')
      .map((p) => {
        if (p.org === requester) return { ...p, answer: ownAnswer ?? p.answer };
        // A moved meeting is a new question: every unit answers again for the new time or place.
        return moved ? { ...p, answer: 'needs-action' as const } : p;
      }),
    ...people(incoming, meeting.participants),
  ];
  if (differences(view, incoming).length === 0) return { meeting, row, changed: false };
  const [updated] = await tx
    .update(appointments)
    .set({
      start: incoming.start,
      end: incoming.end,
      mode: incoming.mode,
      location: incoming.location,
      participants,
      versionId: sql`${appointments.versionId} + 1`,
      lastUpdated: ctx.now,
    })
    .where(eq(appointments.id, meeting.id))
    .returning();
  if (!updated) throw new NotFound('Appointment', meeting.id);
  if (moved) {
    await cancelMeetingTimers(tx, meeting.id, ctx.now);
    await scheduleMeetingTimers(tx, updated, ctx.config, ctx.now);
    await enqueueScheduled(tx, updated, row, true, ctx.now, { ...ctx, orgNames: incoming.orgNames });
  }
  return { meeting: updated, row, changed: true };
}

/** Cancelling the meeting sends the case back to invited; a new meeting can then be booked. */
async function cancel(
  tx: Tx,
  locked: LockedMeeting,
  incoming: MeetingInput,
  ctx: Ctx,
): Promise<MeetingResult> {
  const { meeting, row, view } = locked;
  if (meeting.status === 'cancelled' && differences(view, incoming).length === 0) {
    return { meeting, row, changed: false };
  }
  assertStillBooked(meeting);
  const other = differences(view, incoming, { status: false });
  if (other.length > 0) {
    throw new BusinessRuleViolation(
      'cancel-with-changes',
      `Cancel a meeting without changing anything else; this request also changes ${other.join(', ')}`,
    );
  }
  const [updated] = await tx
    .update(appointments)
    .set({
      status: 'cancelled',
      participants: meeting.participants,
      versionId: sql`${appointments.versionId} + 1`,
      lastUpdated: ctx.now,
    })
    .where(eq(appointments.id, meeting.id))
    .returning();
  if (!updated) throw new NotFound('Appointment', meeting.id);
  await cancelMeetingTimers(tx, meeting.id, ctx.now);
  const caseRow =
    row.status === 'scheduled'
      ? await transitionCase(tx, row, 'invited', { byOrg: ctx.callerOrg, at: ctx.now, ...trace(ctx) })
      : row;
  await enqueue(
    tx,
    outbox,
    events.meetingCancelled,
    { caseId: row.id, appointmentId: meeting.id, at: ctx.now.toISOString() },
    { aggregate: row.id, source: SOURCE, time: ctx.now, ...trace(ctx) },
  );
  return { meeting: updated, row: caseRow, changed: true };
}

/**
 * For a case that ends (withdrawn, consent refused or revoked, closed): its booked meeting is cancelled with
 * its reminders, inside the transaction that ends the case. The caller moves the case itself.
 */
export async function cancelCaseMeetings(
  tx: Tx,
  caseId: string,
  now: Date,
  options: { traceparent?: string } = {},
): Promise<string[]> {
  const cancelled = await tx
    .update(appointments)
    .set({ status: 'cancelled', versionId: sql`${appointments.versionId} + 1`, lastUpdated: now })
    .where(and(eq(appointments.caseId, caseId), eq(appointments.status, 'booked')))
    .returning({ id: appointments.id });
  for (const { id } of cancelled) {
    await cancelMeetingTimers(tx, id, now);
    await enqueue(
      tx,
      outbox,
      events.meetingCancelled,
      { caseId, appointmentId: id, at: now.toISOString() },
      { aggregate: caseId, source: SOURCE, time: now, ...trace(options) },
    );
  }
  return cancelled.map((c) => c.id);
}

export function assertStillBooked(meeting: AppointmentRow): void {
  if (meeting.status !== 'booked') {
    throw new StateConflict(
      'meeting-not-booked',
      `The meeting is '${meeting.status}'; only a booked meeting can change (book a new one instead)`,
    );
  }
}

function assertBookable(input: MeetingInput, now: Date): void {
  if (input.start.getTime() <= now.getTime()) {
    throw new InvalidRequest('meeting-in-past', [
      {
        diagnostics: `Appointment.start: ${input.start.toISOString()} is not in the future (now ${now.toISOString()}); a meeting is booked ahead`,
        expression: ['Appointment.start'],
        code: 'value',
      },
    ]);
  }
}

function assertNoAttendance(input: MeetingInput): void {
  const recorded =
    input.orgs.some((o) => o.attendance) ||
    input.person?.attendance ||
    input.relatives.some((r) => r.attendance);
  if (recorded) {
    throw new InvalidRequest(
      'attendance-needs-fulfilled',
      'Attendance is recorded after the meeting, together with status fulfilled',
    );
  }
}

/** The organisations come from the case; a booking may list them, but only as they are. */
function assertOrgsSent(input: MeetingInput, orgs: AppointmentParticipant[], row: CaseRow): void {
  assertNoAttendance(input);
  const known = new Set(orgs.map((o) => o.org));
  const strangers = input.orgs.filter((o) => !known.has(o.org)).map((o) => o.org);
  if (strangers.length > 0) {
    throw new BusinessRuleViolation(
      'not-in-case',
      `${strangers.join(', ')} ${strangers.length === 1 ? 'is' : 'are'} not invited to this SIP; invite through the initiative before the meeting`,
    );
  }
  const answered = input.orgs.filter((o) => o.org !== row.requesterOrg && o.answer !== 'needs-action');
  if (answered.length > 0) {
    throw new Forbidden(
      `Each organisation answers for itself; send ${answered.map((o) => o.org).join(', ')} with status needs-action`,
    );
  }
}

/** The person (always, answering needs-action until told otherwise) and the relatives as sent. */
function people(input: MeetingInput, previous: AppointmentParticipant[] = []): AppointmentParticipant[] {
  const person = previous.find((p) => p.type === 'person');
  return [
    { type: 'person', answer: input.person?.answer ?? person?.answer ?? 'needs-action' },
    ...input.relatives.map((r) => ({ type: 'relative' as const, display: r.display, answer: r.answer })),
  ];
}

function trace(ctx: { traceparent?: string }) {
  return ctx.traceparent ? { traceparent: ctx.traceparent } : {};
}

/** sip.meeting.scheduled, with what the kallelse letter needs: where, in which language, to whom, how to send it. */
async function enqueueScheduled(
  tx: Tx,
  meeting: AppointmentRow,
  row: CaseRow,
  rescheduled: boolean,
  now: Date,
  ctx: { traceparent?: string; orgNames?: Record<string, string> | undefined },
): Promise<void> {
  const mode = meeting.mode as 'physical' | 'video' | 'phone';
  const orgs = meeting.participants.flatMap((p) => (p.type === 'org' && p.org ? [p.org] : []));
  const orgNames = Object.fromEntries(
    Object.entries(ctx.orgNames ?? {}).filter(([org]) => orgs.includes(org)),
  );
  const language = preferredLanguage(row);
  await enqueue(
    tx,
    outbox,
    events.meetingScheduled,
    {
      caseId: meeting.caseId,
      appointmentId: meeting.id,
      at: now.toISOString(),
      start: meeting.start.toISOString(),
      end: meeting.end.toISOString(),
      mode,
      orgs,
      rescheduled,
      location:
        mode === 'physical'
          ? { place: meeting.location.slice(0, 300) }
          : mode === 'video'
            ? { url: meeting.location }
            : { phone: meeting.location.slice(0, 40) },
      ...(language ? { language } : {}),
      ...(Object.keys(orgNames).length > 0 ? { orgNames } : {}),
      personProtected: row.protectedIdentity,
    },
    { aggregate: meeting.caseId, source: SOURCE, time: now, ...trace(ctx) },
  );
}

/** The BCP 47 code of the person's preferred language (Patient.communication, preferred first), if sent. */
function preferredLanguage(row: CaseRow): string | undefined {
  const sent = row.resource as {
    contained?: {
      resourceType?: string;
      communication?: { preferred?: boolean; language?: { coding?: { system?: string; code?: string }[] } }[];
    }[];
  };
  const patient = sent.contained?.find((r) => r.resourceType === 'Patient');
  const list = [...(patient?.communication ?? [])].sort(
    (a, b) => Number(b.preferred ?? false) - Number(a.preferred ?? false),
  );
  for (const c of list) {
    const code = c.language?.coding?.find(
      (x) => x.system === 'urn:ietf:bcp:47' || x.system === undefined,
    )?.code;
    if (code && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(code) && code.length <= 16) return code;
  }
  return undefined;
}
