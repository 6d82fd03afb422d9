// When each SIP deadline falls due (SPEC §4), as pure functions of the moment it starts counting.
import { addWorkingDays } from '@samsyn/fhir';
import type { InvitationConfig } from '../config.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const stockholmOffset = new Intl.DateTimeFormat('en-US', {
  timeZone: 'Europe/Stockholm',
  timeZoneName: 'longOffset',
});

/** Minutes Stockholm is ahead of UTC at `instant` (60 in winter, 120 in summer). */
function stockholmOffsetMinutes(instant: Date): number {
  const name = stockholmOffset.formatToParts(instant).find((p) => p.type === 'timeZoneName')?.value ?? '';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/**
 * `days` calendar days after `instant` at the same Stockholm wall-clock time, so a deadline counted across a
 * change to or from summer time still falls at the hour the notice came.
 */
export function addCalendarDays(instant: Date, days: number): Date {
  const naive = new Date(instant.getTime() + days * DAY_MS);
  const shift = stockholmOffsetMinutes(instant) - stockholmOffsetMinutes(naive);
  return new Date(naive.getTime() + shift * 60_000);
}

/**
 * Lag 2017:612: the summons to a SIP meeting is due within DISCHARGE_SUMMONS_DAYS (calendar) days of the
 * ready-for-discharge notice; without a notice time the case's creation counts as the notice.
 */
export function dischargeSummonsDue(
  notice: { dischargeReadyAt: Date | null; createdAt: Date },
  config: Pick<InvitationConfig, 'DISCHARGE_SUMMONS_DAYS'>,
): Date {
  return addCalendarDays(notice.dischargeReadyAt ?? notice.createdAt, config.DISCHARGE_SUMMONS_DAYS);
}

/** An unanswered invitation is reminded after this many Swedish working days from when it was sent. */
export function invitationReminderDue(
  sentAt: Date,
  config: Pick<InvitationConfig, 'INVITATION_REMINDER_WORKING_DAYS'>,
): Date {
  return addWorkingDays(sentAt, config.INVITATION_REMINDER_WORKING_DAYS);
}

/** …and escalated to the initiator after this many. */
export function invitationEscalationDue(
  sentAt: Date,
  config: Pick<InvitationConfig, 'INVITATION_ESCALATION_WORKING_DAYS'>,
): Date {
  return addWorkingDays(sentAt, config.INVITATION_ESCALATION_WORKING_DAYS);
}

/** Participants are reminded MEETING_REMINDER_HOURS before the meeting starts. */
export function meetingReminderDue(
  start: Date,
  config: Pick<InvitationConfig, 'MEETING_REMINDER_HOURS'>,
): Date {
  return new Date(start.getTime() - config.MEETING_REMINDER_HOURS * HOUR_MS);
}
