import { describe, expect, it } from 'vitest';
import { invitationConfigSchema } from '../config.ts';
import {
  addCalendarDays,
  dischargeSummonsDue,
  invitationEscalationDue,
  invitationReminderDue,
  meetingReminderDue,
} from './due.ts';

const config = invitationConfigSchema.parse({});

describe('deadline due times', () => {
  it('reminds an invitation sent on Friday 18 December 2026 on Tuesday 22 December at the same hour', () => {
    // 10:15 in Stockholm (winter time, UTC+1).
    const sent = new Date('2026-12-18T09:15:00Z');
    expect(invitationReminderDue(sent, config).toISOString()).toBe('2026-12-22T09:15:00.000Z');
  });

  it('escalates that invitation on Monday 28 December, skipping julafton, juldagen and the weekend', () => {
    const sent = new Date('2026-12-18T09:15:00Z');
    // Mon 21, Tue 22, Wed 23 are working days; 24–27 are not; Mon 28 is the fourth.
    expect(invitationEscalationDue(sent, config).toISOString()).toBe('2026-12-28T09:15:00.000Z');
  });

  it('counts an invitation sent on a Saturday from the Monday after', () => {
    const saturday = new Date('2026-11-21T12:00:00Z');
    expect(invitationReminderDue(saturday, config).toISOString()).toBe('2026-11-25T12:00:00.000Z');
  });

  it('skips Easter when counting working days', () => {
    // Thursday 2 April 2026; Långfredagen 3 April and Annandag påsk 6 April are holidays.
    const thursday = new Date('2026-04-02T08:00:00Z');
    expect(invitationReminderDue(thursday, config).toISOString()).toBe('2026-04-08T08:00:00.000Z');
  });

  it('honours configured working days', () => {
    const sent = new Date('2026-12-18T09:15:00Z');
    expect(invitationReminderDue(sent, { INVITATION_REMINDER_WORKING_DAYS: 1 }).toISOString()).toBe(
      '2026-12-21T09:15:00.000Z',
    );
  });

  it('puts the discharge summons deadline three calendar days after the ready-for-discharge notice', () => {
    const notice = new Date('2026-11-20T14:00:00Z');
    const due = dischargeSummonsDue(
      { dischargeReadyAt: notice, createdAt: new Date('2026-11-21T08:00:00Z') },
      config,
    );
    expect(due.toISOString()).toBe('2026-11-23T14:00:00.000Z');
  });

  it('counts the discharge deadline from the case creation when no notice time was sent', () => {
    const created = new Date('2026-11-21T08:00:00Z');
    expect(dischargeSummonsDue({ dischargeReadyAt: null, createdAt: created }, config).toISOString()).toBe(
      '2026-11-24T08:00:00.000Z',
    );
  });

  it('keeps the Stockholm hour of a calendar-day deadline across the change to summer time', () => {
    // Friday 27 March 2026 15:00 CET; clocks go forward on Sunday 29 March.
    const notice = new Date('2026-03-27T14:00:00Z');
    expect(addCalendarDays(notice, 3).toISOString()).toBe('2026-03-30T13:00:00.000Z');
  });

  it('reminds participants 24 hours before the meeting', () => {
    expect(meetingReminderDue(new Date('2026-12-01T09:00:00Z'), config).toISOString()).toBe(
      '2026-11-30T09:00:00.000Z',
    );
  });
});
