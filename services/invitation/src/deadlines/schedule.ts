// Stored deadlines (SPEC §4): which timers a case, an invitation and a meeting get, and when they stop mattering.
import { randomUUID } from 'node:crypto';
import type { DbOrTx } from '@samsyn/db';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { InvitationConfig } from '../config.ts';
import type { AppointmentParticipant, CaseRow, InvitationRow, TimerRow } from '../db/schema.ts';
import { timers } from '../db/schema.ts';
import {
  dischargeSummonsDue,
  invitationEscalationDue,
  invitationReminderDue,
  meetingReminderDue,
} from './due.ts';

export type TimerKind =
  | 'discharge-summons'
  | 'invitation-reminder'
  | 'invitation-escalation'
  | 'meeting-reminder';

type NewTimer = Pick<TimerRow, 'caseId' | 'kind' | 'dueAt' | 'org'> &
  Partial<Pick<TimerRow, 'invitationId' | 'appointmentId'>>;

async function insertTimers(tx: DbOrTx, list: NewTimer[]): Promise<void> {
  if (list.length === 0) return;
  await tx.insert(timers).values(
    list.map((t) => ({
      id: randomUUID(),
      caseId: t.caseId,
      kind: t.kind,
      dueAt: t.dueAt,
      org: t.org,
      invitationId: t.invitationId ?? null,
      appointmentId: t.appointmentId ?? null,
    })),
  );
}

/** Timers that have neither fired nor been cancelled. */
const pending = and(isNull(timers.firedAt), isNull(timers.cancelledAt));

/** Timers a new case needs (discharge summons deadline) and those of its first invitations, in one insert. */
export async function scheduleCaseTimers(
  tx: DbOrTx,
  row: CaseRow,
  invitations: InvitationRow[],
  config: InvitationConfig,
  now: Date,
): Promise<void> {
  const list: NewTimer[] = [];
  if (row.trigger === 'discharge') {
    // Lag 2017:612: the designated care contact (the initiator) must have summoned to a meeting by then.
    list.push({
      caseId: row.id,
      kind: 'discharge-summons',
      dueAt: dischargeSummonsDue(row, config),
      org: row.requesterOrg,
    });
  }
  for (const invitation of invitations) list.push(...invitationTimers(row, invitation, config, now));
  await insertTimers(tx, list);
}

/** Reminder and escalation of one unanswered invitation (also for substitutes and forwards). */
export async function scheduleInvitationTimers(
  tx: DbOrTx,
  row: CaseRow,
  invitation: InvitationRow,
  config: InvitationConfig,
  now: Date,
): Promise<void> {
  await insertTimers(tx, invitationTimers(row, invitation, config, now));
}

function invitationTimers(
  row: CaseRow,
  invitation: InvitationRow,
  config: InvitationConfig,
  now: Date,
): NewTimer[] {
  if (invitation.status !== 'requested') return [];
  return [
    {
      caseId: row.id,
      kind: 'invitation-reminder',
      dueAt: invitationReminderDue(now, config),
      org: invitation.org,
      invitationId: invitation.id,
    },
    {
      caseId: row.id,
      kind: 'invitation-escalation',
      dueAt: invitationEscalationDue(now, config),
      org: row.requesterOrg,
      invitationId: invitation.id,
    },
  ];
}

/** An answered (or forwarded) invitation needs no more reminders. */
export async function cancelInvitationTimers(tx: DbOrTx, invitationId: string, now: Date): Promise<void> {
  await tx
    .update(timers)
    .set({ cancelledAt: now })
    .where(
      and(
        eq(timers.invitationId, invitationId),
        inArray(timers.kind, ['invitation-reminder', 'invitation-escalation']),
        pending,
      ),
    );
}

/**
 * One reminder per participating organisation, MEETING_REMINDER_HOURS before the start. A meeting booked
 * closer to its start than that gets no reminder: the booking itself is the news.
 */
export async function scheduleMeetingTimers(
  tx: DbOrTx,
  meeting: { id: string; caseId: string; start: Date; participants: AppointmentParticipant[] },
  config: InvitationConfig,
  now: Date,
): Promise<void> {
  const dueAt = meetingReminderDue(meeting.start, config);
  if (dueAt.getTime() <= now.getTime()) return;
  const orgs = [...new Set(meeting.participants.flatMap((p) => (p.type === 'org' && p.org ? [p.org] : [])))];
  await insertTimers(
    tx,
    orgs.map((org) => ({
      caseId: meeting.caseId,
      kind: 'meeting-reminder',
      dueAt,
      org,
      appointmentId: meeting.id,
    })),
  );
}

/** A meeting moved, cancelled or held: its pending reminders no longer apply. */
export async function cancelMeetingTimers(tx: DbOrTx, appointmentId: string, now: Date): Promise<void> {
  await tx
    .update(timers)
    .set({ cancelledAt: now })
    .where(and(eq(timers.appointmentId, appointmentId), eq(timers.kind, 'meeting-reminder'), pending));
}

/** Booking a meeting is the summons the discharge deadline waits for. */
export async function cancelSummonsTimer(tx: DbOrTx, caseId: string, now: Date): Promise<void> {
  await tx
    .update(timers)
    .set({ cancelledAt: now })
    .where(and(eq(timers.caseId, caseId), eq(timers.kind, 'discharge-summons'), pending));
}

/** A case that ended (cancelled or closed) needs no more deadlines of any kind. */
export async function cancelCaseTimers(tx: DbOrTx, caseId: string, now: Date): Promise<void> {
  await tx
    .update(timers)
    .set({ cancelledAt: now })
    .where(and(eq(timers.caseId, caseId), pending));
}
