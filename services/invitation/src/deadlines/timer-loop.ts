// Fires due timers from the database, so deadlines survive restarts.

import type { Bus } from '@samsyn/bus';
import { enqueue, PollLoop } from '@samsyn/bus';
import { events } from '@samsyn/contracts';
import type { Db, Tx } from '@samsyn/db';
import type { Logger } from '@samsyn/platform';
import { and, asc, eq, inArray, isNull, lte } from 'drizzle-orm';
import { SOURCE } from '../case/transition.ts';
import type { InvitationConfig } from '../config.ts';
import {
  appointments,
  type CaseRow,
  cases,
  invitations,
  outbox,
  type TimerRow,
  timers,
} from '../db/schema.ts';
import { reportDeviation } from '../deviation/report.ts';
import type { TimerKind } from './schedule.ts';

export interface TimerLoopOptions {
  db: Db;
  bus: Bus;
  log: Logger;
  config: InvitationConfig;
  /** Called after a commit that wrote to the outbox, so the relay publishes at once. */
  afterCommit: () => void;
  /** The clock (tests move it). */
  now?: () => Date;
  /** Timers handled per transaction. */
  batchSize?: number;
}

const ENDED = new Set(['closed', 'cancelled']);

/**
 * Every TIMER_POLL_MS (and at start) fires the timers that are due: in one transaction it locks them with
 * FOR UPDATE SKIP LOCKED, so replicas share the work and a timer fires once, marks them fired and enqueues
 * sip.deadline.due (plus the deviation a missed deadline means). A timer whose reason went away meanwhile
 * (the case ended, the invitation was answered, the meeting moved) is cancelled instead of fired.
 */
export class TimerLoop {
  private readonly loop: PollLoop;

  constructor(readonly options: TimerLoopOptions) {
    this.loop = new PollLoop({
      work: async () => {
        const fired = await this.fireDue();
        if (fired > 0) options.log.info({ fired }, 'deadlines fired');
        return 0; // fireDue fires everything due; the next round is the next tick
      },
      pollMs: options.config.TIMER_POLL_MS,
      // The timers stay unfired in the database; the next tick tries again.
      onError: (err) => options.log.warn({ err: err.message }, 'firing due timers failed; will retry'),
    });
  }

  start(): void {
    this.loop.start();
  }

  /** Stops polling and waits for a tick in progress to commit or roll back. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Fires everything due now; returns how many timers fired. */
  async fireDue(): Promise<number> {
    let fired = 0;
    const batchSize = this.options.batchSize ?? 100;
    for (;;) {
      const { seen, fired: n } = await this.fireBatch(batchSize);
      fired += n;
      if (seen < batchSize) return fired;
    }
  }

  private async fireBatch(batchSize: number): Promise<{ seen: number; fired: number }> {
    const now = this.options.now?.() ?? new Date();
    const result = await this.options.db.transaction(async (tx) => {
      const due = await tx
        .select()
        .from(timers)
        .where(and(lte(timers.dueAt, now), isNull(timers.firedAt), isNull(timers.cancelledAt)))
        .orderBy(asc(timers.dueAt))
        .limit(batchSize)
        .for('update', { skipLocked: true });
      if (due.length === 0) return { seen: 0, fired: 0 };
      const caseRows = await tx
        .select()
        .from(cases)
        .where(
          inArray(
            cases.id,
            due.map((t) => t.caseId),
          ),
        );
      const byId = new Map(caseRows.map((r) => [r.id, r]));
      const fire: TimerRow[] = [];
      const obsolete: string[] = [];
      for (const timer of due) {
        const row = byId.get(timer.caseId);
        if (row && (await stillMatters(tx, timer, row))) fire.push(timer);
        else obsolete.push(timer.id);
      }
      if (obsolete.length > 0) {
        await tx.update(timers).set({ cancelledAt: now }).where(inArray(timers.id, obsolete));
      }
      for (const timer of fire) {
        await tx.update(timers).set({ firedAt: now }).where(eq(timers.id, timer.id));
        await this.enqueueDue(tx, timer, byId.get(timer.caseId) as CaseRow, now);
      }
      return { seen: due.length, fired: fire.length };
    });
    if (result.fired > 0) this.options.afterCommit();
    return result;
  }

  private async enqueueDue(tx: Tx, timer: TimerRow, row: CaseRow, now: Date): Promise<void> {
    const kind = timer.kind as TimerKind;
    await enqueue(
      tx,
      outbox,
      events.deadlineDue,
      {
        timerId: timer.id,
        caseId: timer.caseId,
        kind,
        dueAt: timer.dueAt.toISOString(),
        firedAt: now.toISOString(),
        org: timer.org,
        ...(timer.invitationId ? { invitationId: timer.invitationId } : {}),
        ...(timer.appointmentId ? { appointmentId: timer.appointmentId } : {}),
      },
      { aggregate: timer.caseId, source: SOURCE, time: now },
    );
    switch (kind) {
      case 'discharge-summons':
        // Lag 2017:612: no summons within the deadline is a deviation of the initiator's own unit.
        await reportDeviation(tx, {
          caseId: row.id,
          org: row.requesterOrg,
          requesterOrg: row.requesterOrg,
          cause: 'summons-deadline-missed',
          at: now,
        });
        return;
      case 'invitation-escalation': {
        const [invitation] = timer.invitationId
          ? await tx
              .select({ org: invitations.org })
              .from(invitations)
              .where(eq(invitations.id, timer.invitationId))
          : [];
        if (invitation) {
          await reportDeviation(tx, {
            caseId: row.id,
            org: invitation.org,
            requesterOrg: row.requesterOrg,
            cause: 'invitation-unanswered',
            at: now,
          });
        }
        return;
      }
      case 'invitation-reminder':
      case 'meeting-reminder':
        return;
    }
  }
}

/** Whether the reason a timer was set still holds when it comes due. */
async function stillMatters(tx: Tx, timer: TimerRow, row: CaseRow): Promise<boolean> {
  if (ENDED.has(row.status)) return false;
  const kind = timer.kind as TimerKind;
  switch (kind) {
    case 'discharge-summons': {
      // Any meeting booked for the case (even one later moved or cancelled) was a summons.
      const [meeting] = await tx
        .select({ id: appointments.id })
        .from(appointments)
        .where(eq(appointments.caseId, row.id))
        .limit(1);
      return meeting === undefined;
    }
    case 'invitation-reminder':
    case 'invitation-escalation': {
      if (!timer.invitationId) return false;
      const [invitation] = await tx
        .select({ status: invitations.status, org: invitations.org })
        .from(invitations)
        .where(eq(invitations.id, timer.invitationId));
      if (invitation?.status !== 'requested') return false;
      // A forwarded invitation gets timers of its own for the new unit.
      return kind === 'invitation-escalation' || invitation.org === timer.org;
    }
    case 'meeting-reminder': {
      if (!timer.appointmentId) return false;
      const [meeting] = await tx
        .select({ status: appointments.status })
        .from(appointments)
        .where(eq(appointments.id, timer.appointmentId));
      return meeting?.status === 'booked';
    }
  }
}
