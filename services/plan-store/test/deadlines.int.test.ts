// Plan deadlines: the follow-up is reminded 7 days before and flagged overdue after, an activity past its end is
// flagged to its responsible unit — each once, as sip.plan.deadline-due; a new follow-up date or closure moves them.
import type { CarePlan } from '@samsyn/fhir';
import { eventually, type Harness, ORGS, startHarness } from '@samsyn/testkit';
import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planTimers } from '../src/db/schema.ts';
import { PlanTimerWorker } from '../src/deadlines/timers.ts';
import { createPlanStoreService } from '../src/service.ts';
import { consentedCase, createPlan, daysFromNow, fhir, published, sipPlan } from './support.ts';

/** A logger that drops everything, for workers a test drives itself. */
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

let h: Harness;
let worker: PlanTimerWorker;
beforeAll(async () => {
  h = await startHarness({ label: 'plan_deadlines', factories: [createPlanStoreService] });
  worker = new PlanTimerWorker({
    db: h.database.db,
    pollMs: 60_000,
    log: quiet,
    afterOutbox: () => {},
  });
});
afterAll(async () => h?.stop());

const at = (date: string, time = '08:00:00Z') => new Date(`${date}T${time}`);

/** The plan's published deadlines, once at least `count` are out (the relay publishes on its own poll). */
async function deadlineEvents(planId: string, count: number) {
  return eventually(
    async () => {
      const found = (await published(h, 'PLAN', 'sip.plan.deadline-due')).filter(
        (e) => e.body.planId === planId,
      );
      return found.length >= count ? found : undefined;
    },
    10_000,
    `${count} sip.plan.deadline-due for ${planId}`,
  );
}

async function unfired(planId: string) {
  return h.database.db
    .select()
    .from(planTimers)
    .where(and(eq(planTimers.planId, planId), isNull(planTimers.firedAt)));
}

describe('plan deadlines', () => {
  it('reminds the lead 7 days before the follow-up, flags it overdue after, and flags a late activity to its unit — once each', async () => {
    const c = await consentedCase(h);
    const plan = await createPlan(h, sipPlan(c.caseId));
    const due = daysFromNow(90);
    const timers = await unfired(plan.id as string);
    expect(timers.map((t) => t.kind).sort()).toEqual([
      'activity-overdue',
      'activity-overdue',
      'follow-up-overdue',
      'follow-up-reminder',
    ]);

    expect(await worker.runOnce(new Date())).toBe(0);
    // Seven days before the follow-up: the reminder, nothing else.
    const reminderDay = new Date(Date.parse(`${due}T00:00:00Z`) - 7 * 86_400_000).toISOString().slice(0, 10);
    expect(await worker.runOnce(at(reminderDay))).toBe(1);
    expect(await worker.runOnce(at(reminderDay))).toBe(0);
    let fired = await deadlineEvents(plan.id as string, 1);
    expect(fired.map((e) => e.body)).toEqual([
      expect.objectContaining({ kind: 'follow-up-reminder', org: ORGS.regionWard, caseId: c.caseId }),
    ]);

    // After the follow-up date and every activity's end: overdue follow-up to the lead, late activities to their units.
    expect(await worker.runOnce(at(daysFromNow(200)))).toBe(3);
    fired = await deadlineEvents(plan.id as string, 4);
    const late = fired
      .filter((e) => e.body.kind === 'activity-overdue')
      .map((e) => [e.body.org, e.body.activityId]);
    expect(late.sort()).toEqual([
      [ORGS.municipalityHomeCare, '0'],
      [ORGS.regionWard, '1'],
    ]);
    expect(fired.filter((e) => e.body.kind === 'follow-up-overdue')).toHaveLength(1);
  });

  it('moves the follow-up timers with a new follow-up date, and drops them all when the plan closes', async () => {
    const c = await consentedCase(h);
    const plan = await createPlan(h, sipPlan(c.caseId));
    const next = daysFromNow(150);
    await fhir<CarePlan>(
      await h.request(`/fhir/CarePlan/${plan.id}/$follow-up`, {
        method: 'POST',
        org: ORGS.regionWard,
        body: JSON.stringify({
          resourceType: 'Parameters',
          parameter: [{ name: 'nextFollowUp', valueDate: next }],
        }),
      }),
      200,
    );
    const overdue = (await unfired(plan.id as string)).find((t) => t.kind === 'follow-up-overdue');
    expect(overdue?.dueAt.toISOString().slice(0, 10)).toBe(
      new Date(Date.parse(`${next}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10),
    );
    await fhir<CarePlan>(
      await h.request(`/fhir/CarePlan/${plan.id}/$close`, {
        method: 'POST',
        org: ORGS.regionWard,
        body: JSON.stringify({
          resourceType: 'Parameters',
          parameter: [{ name: 'reason', valueCode: 'moved' }],
        }),
      }),
      200,
    );
    expect(await unfired(plan.id as string)).toEqual([]);
  });
});
