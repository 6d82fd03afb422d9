// Use case: change a plan (FHIR update with If-Match). A draft changes at once, as a new version. A change to an
// active plan is only a proposal until the person's approval is recorded (SPEC §3: the plan is not changed
// without the person's approval); $approve-revision makes it the next version.
import {
  BusinessRuleViolation,
  InvalidRequest,
  PreconditionFailed,
  requireIfMatch,
  StateConflict,
} from '@samsyn/fhir';
import { and, eq, isNull } from 'drizzle-orm';
import { announceEstablished } from '../create-plan/create-plan.ts';
import { type CarePlanRow, carePlans } from '../db/schema.ts';
import { requireLawfulActivePlan, swedishToday } from '../plan/law.ts';
import { readCarePlan } from '../plan/profile.ts';
import {
  accessed,
  logAccess,
  nowOf,
  type PlanContext,
  type PlanDeps,
  visiblePlan,
  writeNextVersion,
} from '../plan/store.ts';

export const CLOSED_STATUSES = new Set(['completed', 'revoked', 'entered-in-error']);

export type UpdateResult = { kind: 'applied'; row: CarePlanRow } | { kind: 'proposed'; row: CarePlanRow };

export async function updatePlan(
  deps: PlanDeps,
  id: string,
  body: Record<string, unknown>,
  ifMatch: string | undefined,
  ctx: PlanContext,
): Promise<UpdateResult> {
  const row = await visiblePlan(deps, id, ctx, 'update');
  requireIfMatch(ifMatch, row.versionId);
  if (body.id !== id) {
    throw new InvalidRequest(
      'invalid-resource',
      `CarePlan.id '${String(body.id ?? '(none)')}' must be the id in the URL, ${id} (FHIR R4 http.html#update)`,
    );
  }
  if (CLOSED_STATUSES.has(row.status)) {
    throw new StateConflict(
      'plan-closed',
      `CarePlan/${id} is '${row.status}' (closed); a closed plan is not changed`,
    );
  }
  const read = readCarePlan(body);
  const fixed: string[] = [];
  if (read.facts.caseId !== row.caseId)
    fixed.push(`supportingInfo: the plan belongs to case Task/${row.caseId}`);
  if (read.facts.patient.system !== row.patientSystem || read.facts.patient.value !== row.patientValue)
    fixed.push('subject: the plan is about the person it was written for');
  if (fixed.length > 0) {
    throw new BusinessRuleViolation(
      'plan-identity-fixed',
      fixed.map((f) => ({ diagnostics: `CarePlan.${f}; it cannot be changed` })),
    );
  }
  const now = nowOf(ctx);
  if (read.status === 'active') requireLawfulActivePlan(read.plan, { today: swedishToday(now) });

  if (row.status === 'draft') {
    return deps.db.transaction(async (tx) => {
      const updated = await writeNextVersion(
        tx,
        row,
        { status: read.status, resource: read.resource, facts: read.facts },
        'update',
        ctx,
      );
      await logAccess(tx, deps, ctx, 'update', accessed(updated));
      if (updated.status === 'active') await announceEstablished(tx, deps, updated, ctx);
      return { kind: 'applied' as const, row: updated };
    });
  }

  if (read.status !== 'active') {
    throw new BusinessRuleViolation(
      'use-close',
      `CarePlan.status: an active plan stays active until it is closed with $close (which records why); it cannot become '${read.status}'`,
    );
  }
  return deps.db.transaction(async (tx) => {
    const [proposed] = await tx
      .update(carePlans)
      .set({
        proposal: read.resource,
        proposalBase: row.versionId,
        proposedByOrg: ctx.auth.org,
        proposedBy: ctx.auth.subject,
        proposedAt: now,
      })
      .where(and(eq(carePlans.id, id), eq(carePlans.versionId, row.versionId), isNull(carePlans.proposal)))
      .returning();
    if (!proposed) {
      const [again] = await tx.select().from(carePlans).where(eq(carePlans.id, id));
      if (again && again.versionId !== row.versionId) {
        throw new PreconditionFailed(
          `CarePlan/${id} changed while this update ran (it is no longer version ${row.versionId}); read it again and reapply your change`,
        );
      }
      throw new StateConflict(
        'revision-pending',
        `CarePlan/${id} already has a proposed revision waiting for the person's approval (by ${again?.proposedByOrg ?? 'another unit'}); record the approval with $approve-revision or withdraw it with $reject-revision first`,
      );
    }
    await logAccess(tx, deps, ctx, 'update', accessed(proposed));
    return { kind: 'proposed' as const, row: proposed };
  });
}
