// Use case: a participant writes the case's plan (SPEC §3, §5). A draft may be incomplete; an active plan must
// state everything the law requires. The plan, its first version, the access log, sip.plan.established and the
// pushes to the participants commit together.
import { randomUUID } from 'node:crypto';
import { enqueue } from '@samsyn/bus';
import { events } from '@samsyn/contracts';
import { BusinessRuleViolation, StateConflict } from '@samsyn/fhir';
import { patientKey } from '@samsyn/platform';
import { eq } from 'drizzle-orm';
import { caseAccess } from '../case-access/access.ts';
import { type CarePlanRow, carePlans, outbox } from '../db/schema.ts';
import { rescheduleTimers } from '../deadlines/timers.ts';
import { scheduleDeliveries } from '../deliver/schedule.ts';
import { requireLawfulActivePlan, swedishToday } from '../plan/law.ts';
import { readCarePlan } from '../plan/profile.ts';
import {
  accessed,
  factColumns,
  insertVersion,
  logAccess,
  nowOf,
  type PlanContext,
  type PlanDeps,
  SOURCE,
} from '../plan/store.ts';

export async function createPlan(
  deps: PlanDeps,
  body: Record<string, unknown>,
  ctx: PlanContext,
): Promise<CarePlanRow> {
  const read = readCarePlan(body);
  const now = nowOf(ctx);
  const { facts } = read;
  await requireWritableCase(deps, facts.caseId, ctx);
  if (read.status === 'active') requireLawfulActivePlan(read.plan, { today: swedishToday(now) });

  const [existing] = await deps.db
    .select({ id: carePlans.id })
    .from(carePlans)
    .where(eq(carePlans.caseId, facts.caseId))
    .limit(1);
  if (existing) throw planExists(facts.caseId, existing.id);

  try {
    return await deps.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(carePlans)
        .values({
          id: randomUUID(),
          caseId: facts.caseId,
          status: read.status,
          patientSystem: facts.patient.system,
          patientValue: facts.patient.value,
          patientKey: patientKey(deps.patientKeySecret, facts.patient.system, facts.patient.value),
          ...factColumns(facts),
          versionId: 1,
          createdAt: now,
          lastUpdated: now,
          resource: read.resource,
        })
        .returning();
      if (!row) throw new Error('insert returned no row');
      await insertVersion(tx, row, 'create', ctx.auth.org);
      await logAccess(tx, deps, ctx, 'create', accessed(row));
      if (row.status === 'active') await announceEstablished(tx, deps, row, ctx);
      return row;
    });
  } catch (err) {
    // Two creates for one case at once: the unique index lets one through; the other learns which plan won.
    if ((err as { code?: string }).code === '23505') {
      const [winner] = await deps.db
        .select({ id: carePlans.id })
        .from(carePlans)
        .where(eq(carePlans.caseId, facts.caseId));
      throw planExists(facts.caseId, winner?.id ?? 'unknown');
    }
    throw err;
  }
}

function planExists(caseId: string, id: string) {
  return new StateConflict(
    'plan-exists',
    `The case Task/${caseId} already has its plan, CarePlan/${id}; update that plan instead of creating another`,
  );
}

/** A plan is written only by a unit that takes part in the case and that the person's active consent covers. */
export async function requireWritableCase(deps: PlanDeps, caseId: string, ctx: PlanContext): Promise<void> {
  const access = await caseAccess(deps.db, caseId, ctx.auth.org, nowOf(ctx));
  if (!access.takesPart) {
    // Unknown and not-yours read the same, so case ids cannot be probed.
    throw new BusinessRuleViolation('unknown-case', [
      {
        diagnostics: `CarePlan.supportingInfo: Task/${caseId} is not a SIP case your unit (${ctx.auth.org}) takes part in`,
        expression: ['CarePlan.supportingInfo'],
      },
    ]);
  }
  if (!access.covered) {
    throw new BusinessRuleViolation(
      'consent-does-not-cover',
      `The person's active consent does not cover your unit (${ctx.auth.org}) in case Task/${caseId}; nothing about the person may be written until it does (SPEC §3)`,
    );
  }
}

/** sip.plan.established and the pushes, in the transaction that made the plan active. */
export async function announceEstablished(
  tx: Parameters<typeof scheduleDeliveries>[0],
  deps: PlanDeps,
  row: CarePlanRow,
  ctx: PlanContext,
): Promise<void> {
  const now = nowOf(ctx);
  await enqueue(
    tx,
    outbox,
    events.planEstablished,
    {
      planId: row.id,
      caseId: row.caseId,
      at: now.toISOString(),
      version: row.versionId,
      leadOrg: row.leadOrg as string,
      participantOrgs: row.participantOrgs,
      followUpDue: row.followUpDue as string,
    },
    eventOptions(row, ctx),
  );
  await scheduleDeliveries(tx, deps, row, now);
  await rescheduleTimers(tx, row);
}

export function eventOptions(row: CarePlanRow, ctx: PlanContext) {
  return {
    aggregate: row.caseId,
    source: SOURCE,
    time: nowOf(ctx),
    ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
  };
}
