// Use case: after the meeting the initiating unit records who attended; absent summoned organisations get a
// deviation (SPEC §4), all in the transaction that marks the meeting held.
import { enqueue } from '@samsyn/bus';
import { events } from '@samsyn/contracts';
import type { Db, Tx } from '@samsyn/db';
import { BusinessRuleViolation, Forbidden, InvalidRequest, NotFound, StateConflict } from '@samsyn/fhir';
import { eq, sql } from 'drizzle-orm';
import { ATTENDANCE_EXTENSION, type Attendance } from '../appointment/codes.ts';
import { differences } from '../appointment/compare.ts';
import { type LockedMeeting, lockMeeting } from '../appointment/load.ts';
import type { MeetingInput } from '../appointment/meeting.ts';
import { SOURCE, transitionCase } from '../case/transition.ts';
import { type AppointmentParticipant, appointments, outbox } from '../db/schema.ts';
import { cancelMeetingTimers } from '../deadlines/schedule.ts';
import { reportDeviation } from '../deviation/report.ts';
import type { MeetingContext, MeetingResult } from '../schedule-meeting/schedule-meeting.ts';

export interface AttendanceRecord {
  /** Attendance of every participating organisation, by HSA-id. */
  orgs: Record<string, Attendance>;
  person?: Attendance;
  /** Attendance of the relatives, in the order they were booked. */
  relatives?: Attendance[];
}

/** Records attendance without HTTP (e.g. from the staff inbox): the meeting as it stands, plus who came. */
export async function recordAttendance(
  db: Db,
  appointmentId: string,
  record: AttendanceRecord,
  ctx: MeetingContext,
): Promise<MeetingResult> {
  const now = ctx.now ?? new Date();
  return db.transaction(async (tx) => {
    const locked = await lockMeeting(tx, appointmentId, { callerOrg: ctx.callerOrg, now });
    const { view } = locked;
    const incoming: MeetingInput = {
      ...view,
      status: 'fulfilled',
      orgs: view.orgs.map((o) => {
        const attendance = record.orgs[o.org];
        return attendance ? { ...o, attendance } : o;
      }),
      ...(view.person
        ? { person: record.person ? { ...view.person, attendance: record.person } : view.person }
        : {}),
      relatives: view.relatives.map((r, i) => {
        const attendance = record.relatives?.[i];
        return attendance ? { ...r, attendance } : r;
      }),
    };
    const result = await applyAttendance(tx, locked, incoming, { ...ctx, now });
    if (result.changed) await ctx.onCommit?.(tx, result.row, result.meeting);
    return result;
  });
}

/** Applies an update to status fulfilled from the initiating unit, inside the caller's transaction. */
export async function applyAttendance(
  tx: Tx,
  locked: LockedMeeting,
  incoming: MeetingInput,
  ctx: MeetingContext & { now: Date },
): Promise<MeetingResult> {
  const { meeting, row, view } = locked;
  if (row.requesterOrg !== ctx.callerOrg) {
    throw new Forbidden(`Only the initiating unit ${row.requesterOrg} records attendance`);
  }
  if (meeting.status === 'fulfilled' && differences(view, incoming).length === 0) {
    return { meeting, row, changed: false };
  }
  if (meeting.status !== 'booked') {
    throw new StateConflict(
      'meeting-not-booked',
      `The meeting is '${meeting.status}'; attendance is recorded once, for a booked meeting`,
    );
  }
  if (meeting.end.getTime() > ctx.now.getTime()) {
    throw new BusinessRuleViolation(
      'meeting-not-ended',
      `The meeting ends at ${meeting.end.toISOString()}; record attendance after it has ended`,
    );
  }
  const changedElsewhere = differences(view, incoming, { status: false }).filter(
    (d) =>
      !d.endsWith('.extension[attendance]') && d !== 'participant[person]' && d !== 'participant[relative]',
  );
  if (changedElsewhere.length > 0) {
    throw new BusinessRuleViolation(
      'attendance-with-changes',
      `Record attendance on the meeting as booked; this request also changes ${changedElsewhere.join(', ')}`,
    );
  }
  const attended = new Map(incoming.orgs.map((o) => [o.org, o.attendance]));
  const missing = view.orgs.filter((o) => !attended.get(o.org)).map((o) => o.org);
  if (missing.length > 0) {
    throw new InvalidRequest(
      'attendance-required',
      missing.map((org) => ({
        diagnostics: `Appointment.participant[${org}]: record attended or absent in the extension ${ATTENDANCE_EXTENSION} for every organisation`,
        expression: ['Appointment.participant.extension'],
        code: 'required' as const,
      })),
    );
  }
  const relatives = meeting.participants.filter((p) => p.type === 'relative');
  if (
    incoming.relatives.length !== relatives.length ||
    incoming.relatives.some((r, i) => r.display !== view.relatives[i]?.display)
  ) {
    throw new BusinessRuleViolation(
      'attendance-with-changes',
      'Record attendance for the relatives as booked; relatives are not added or removed with status fulfilled',
    );
  }
  let relativeIndex = 0;
  const participants: AppointmentParticipant[] = meeting.participants.map((p) => {
    if (p.type === 'org') return { ...p, attendance: attended.get(p.org as string) as Attendance };
    if (p.type === 'person') {
      return incoming.person?.attendance ? { ...p, attendance: incoming.person.attendance } : p;
    }
    const sent = incoming.relatives[relativeIndex++];
    return sent?.attendance ? { ...p, attendance: sent.attendance } : p;
  });
  const [updated] = await tx
    .update(appointments)
    .set({
      status: 'fulfilled',
      participants,
      versionId: sql`${appointments.versionId} + 1`,
      lastUpdated: ctx.now,
    })
    .where(eq(appointments.id, meeting.id))
    .returning();
  if (!updated) throw new NotFound('Appointment', meeting.id);
  await cancelMeetingTimers(tx, meeting.id, ctx.now);
  const trace = ctx.traceparent ? { traceparent: ctx.traceparent } : {};
  const caseRow = await transitionCase(tx, row, 'held', { byOrg: ctx.callerOrg, at: ctx.now, ...trace });
  const orgs = participants.filter((p) => p.type === 'org');
  const person = participants.find((p) => p.type === 'person');
  await enqueue(
    tx,
    outbox,
    events.meetingHeld,
    {
      caseId: row.id,
      appointmentId: meeting.id,
      at: ctx.now.toISOString(),
      attendance: orgs.map((p) => ({
        org: p.org as string,
        ...(p.kind ? { kind: p.kind } : {}),
        attended: p.attendance === 'attended',
      })),
      ...(person?.attendance ? { personAttended: person.attendance === 'attended' } : {}),
    },
    { aggregate: row.id, source: SOURCE, time: ctx.now, ...trace },
  );
  // SPEC §4: a summoned organisation that stays away produces a deviation, addressed to it.
  for (const p of orgs) {
    if (p.kind === 'summoned' && p.attendance === 'absent') {
      await reportDeviation(tx, {
        caseId: row.id,
        org: p.org as string,
        requesterOrg: row.requesterOrg,
        cause: 'absent-from-meeting',
        appointmentId: meeting.id,
        at: ctx.now,
        ...trace,
      });
    }
  }
  return { meeting: updated, row: caseRow, changed: true };
}
