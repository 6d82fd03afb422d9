// Plan deadlines (SPEC §4): the follow-up is reminded 7 days before and flagged overdue after its date; an activity
// past its end date is flagged to its responsible organisation. Timers are stored with the version that sets them
// and fire as sip.plan.deadline-due through the outbox, exactly once (a claimed timer is marked fired in the same
// transaction as its event).
import { randomUUID } from 'node:crypto';
import { enqueue } from '@samsyn/bus';
import { events } from '@samsyn/contracts';
import type { Db, Tx } from '@samsyn/db';
import { and, asc, eq, isNull, lte } from 'drizzle-orm';
import { type CarePlanRow, outbox, planTimers } from '../db/schema.ts';
import { ACTIVITY_ACTOR_EXT } from '../plan/codes.ts';
import { extensionValue, hsaOf } from '../plan/profile.ts';
import { SOURCE } from '../plan/store.ts';

/** Days before the follow-up date that the lead organisation is reminded (SPEC §4 default). */
export const FOLLOW_UP_REMINDER_DAYS = 7;
const DAY_MS = 86_400_000;
/** Timers fire at 07:00 UTC — 08:00 or 09:00 in Sweden, the start of a working day. */
const morningOf = (date: string, plusDays = 0) =>
  new Date(Date.parse(`${date}T07:00:00Z`) + plusDays * DAY_MS);

type Activity = {
  detail?: {
    status?: string;
    extension?: { url: string }[];
    performer?: { identifier?: { system?: string; value?: string } }[];
    scheduledPeriod?: { end?: string };
  };
};

const DONE = new Set(['completed', 'cancelled', 'stopped', 'entered-in-error']);

/**
 * Replaces the plan's unfired timers with those its version in force calls for; a plan that is no longer active
 * keeps none.
 */
export async function rescheduleTimers(tx: Tx, row: CarePlanRow): Promise<void> {
  await tx.delete(planTimers).where(and(eq(planTimers.planId, row.id), isNull(planTimers.firedAt)));
  if (row.status !== 'active') return;
  const timers: (typeof planTimers.$inferInsert)[] = [];
  const base = { planId: row.id, caseId: row.caseId };
  if (row.followUpDue && row.leadOrg) {
    timers.push(
      {
        ...base,
        id: randomUUID(),
        kind: 'follow-up-reminder',
        org: row.leadOrg,
        dueAt: morningOf(row.followUpDue, -FOLLOW_UP_REMINDER_DAYS),
      },
      {
        ...base,
        id: randomUUID(),
        kind: 'follow-up-overdue',
        org: row.leadOrg,
        dueAt: morningOf(row.followUpDue, 1),
      },
    );
  }
  const activities = Array.isArray(row.resource.activity) ? (row.resource.activity as Activity[]) : [];
  activities.forEach((activity, i) => {
    const detail = activity?.detail;
    const end = detail?.scheduledPeriod?.end?.slice(0, 10);
    const org = hsaOf(detail?.performer?.[0]);
    const actor = extensionValue<{ code?: string }>(detail, ACTIVITY_ACTOR_EXT)?.code;
    if (!detail || !end || !org || actor === 'person' || DONE.has(detail.status ?? '')) return;
    timers.push({
      ...base,
      id: randomUUID(),
      kind: 'activity-overdue',
      org,
      activityId: String(i),
      dueAt: morningOf(end, 1),
    });
  });
  if (timers.length > 0) await tx.insert(planTimers).values(timers);
}

export interface TimerLog {
  error(obj: object, msg: string): void;
}

/** Fires due plan timers. Replicas share the work (FOR UPDATE SKIP LOCKED). */
export class PlanTimerWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly options: { db: Db; pollMs: number; log: TimerLog; afterOutbox: () => void }) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runOnce()
        .catch((err) => this.options.log.error({ err }, 'plan timers failed'))
        .finally(() => {
          this.running = undefined;
        });
    }, this.options.pollMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Fires every timer due at `now`; returns how many fired. */
  async runOnce(now = new Date()): Promise<number> {
    const fired = await this.options.db.transaction(async (tx) => {
      const due = await tx
        .select()
        .from(planTimers)
        .where(and(isNull(planTimers.firedAt), lte(planTimers.dueAt, now)))
        .orderBy(asc(planTimers.dueAt))
        .limit(100)
        .for('update', { skipLocked: true });
      for (const t of due) {
        await tx.update(planTimers).set({ firedAt: now }).where(eq(planTimers.id, t.id));
        await enqueue(
          tx,
          outbox,
          events.planDeadlineDue,
          {
            timerId: t.id,
            planId: t.planId,
            caseId: t.caseId,
            kind: t.kind as 'follow-up-reminder' | 'follow-up-overdue' | 'activity-overdue',
            dueAt: t.dueAt.toISOString(),
            firedAt: now.toISOString(),
            org: t.org,
            ...(t.activityId ? { activityId: t.activityId } : {}),
          },
          { aggregate: t.caseId, source: SOURCE, id: t.id, time: now },
        );
      }
      return due.length;
    });
    if (fired > 0) this.options.afterOutbox();
    return fired;
  }
}
