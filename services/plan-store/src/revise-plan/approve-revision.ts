// Use case: the person approved (or did not approve) the proposed change to their active plan. Approval makes
// the proposal the next version, recording who approved, when and how, and announces sip.plan.revised.
import { enqueue } from '@samsyn/bus';
import { events } from '@samsyn/contracts';
import { dt, InvalidRequest, requireIfMatch, StateConflict } from '@samsyn/fhir';
import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { eventOptions } from '../create-plan/create-plan.ts';
import { type CarePlanRow, carePlans, outbox } from '../db/schema.ts';
import { rescheduleTimers } from '../deadlines/timers.ts';
import { scheduleDeliveries } from '../deliver/schedule.ts';
import {
  APPROVAL_EXT,
  APPROVAL_METHOD_SYSTEM,
  APPROVAL_METHODS,
  APPROVER_SYSTEM,
  APPROVERS,
} from '../plan/codes.ts';
import { type Parameters, parameterValue, readParameters } from '../plan/parameters.ts';
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

const approvalSchema = z.object({
  approvedBy: z.enum(APPROVERS, { error: `approvedBy must be one of ${APPROVERS.join(', ')}` }),
  approverName: z.string().min(1).max(200).optional(),
  approvedAt: dt.fhirDateTime.optional(),
  method: z.enum(APPROVAL_METHODS, { error: `method must be one of ${APPROVAL_METHODS.join(', ')}` }),
});

export async function approveRevision(
  deps: PlanDeps,
  id: string,
  body: Parameters,
  ifMatch: string | undefined,
  ctx: PlanContext,
): Promise<CarePlanRow> {
  // Visibility first: a unit that may not see the plan learns nothing, not even that its input was wrong.
  const row = await visiblePlan(deps, id, ctx, 'update');
  const params = readParameters(body, approvalSchema, {
    approvedBy: (p) => parameterValue(p, 'code'),
    approverName: (p) => parameterValue(p, 'string'),
    approvedAt: (p) => parameterValue(p, 'dateTime'),
    method: (p) => parameterValue(p, 'code'),
  });
  if (ifMatch !== undefined) requireIfMatch(ifMatch, row.versionId);
  if (!row.proposal) {
    throw new StateConflict(
      'no-revision-pending',
      `CarePlan/${id} has no proposed revision waiting for approval`,
    );
  }
  if (row.proposalBase !== row.versionId) {
    throw new StateConflict(
      'revision-stale',
      `The proposed revision of CarePlan/${id} was made on version ${row.proposalBase}, but the plan is now version ${row.versionId}; withdraw it with $reject-revision and propose the change again`,
    );
  }
  const now = nowOf(ctx);
  const approvedAt = params.approvedAt ? new Date(params.approvedAt) : now;
  if (approvedAt.getTime() > now.getTime() + 60_000) {
    throw new InvalidRequest(
      'invalid-parameter',
      'approvedAt: an approval cannot be recorded for a time that has not come',
    );
  }
  const approval = {
    url: APPROVAL_EXT,
    extension: [
      { url: 'approvedBy', valueCoding: { system: APPROVER_SYSTEM, code: params.approvedBy } },
      ...(params.approverName ? [{ url: 'approverName', valueString: params.approverName }] : []),
      { url: 'approvedAt', valueDateTime: approvedAt.toISOString() },
      { url: 'method', valueCoding: { system: APPROVAL_METHOD_SYSTEM, code: params.method } },
      {
        url: 'recordedBy',
        valueReference: {
          type: 'Organization',
          identifier: { system: 'urn:oid:1.2.752.29.4.19', value: ctx.auth.org },
        },
      },
    ],
  };
  const proposal = row.proposal;
  const others = ((proposal.extension as { url: string }[] | undefined) ?? []).filter(
    (e) => e.url !== APPROVAL_EXT,
  );
  const resource = { ...proposal, extension: [...others, approval] };
  const read = readCarePlan({ ...resource, id });
  return deps.db.transaction(async (tx) => {
    const updated = await writeNextVersion(
      tx,
      row,
      { status: 'active', resource: read.resource, facts: read.facts },
      'revision',
      ctx,
      {
        proposal: null,
        proposalBase: null,
        proposedByOrg: null,
        proposedBy: null,
        proposedAt: null,
      },
    );
    await logAccess(tx, deps, ctx, 'update', accessed(updated));
    await enqueue(
      tx,
      outbox,
      events.planRevised,
      {
        planId: updated.id,
        caseId: updated.caseId,
        at: now.toISOString(),
        version: updated.versionId,
        leadOrg: updated.leadOrg as string,
        participantOrgs: updated.participantOrgs,
        followUpDue: updated.followUpDue as string,
        approvedAt: approvedAt.toISOString(),
      },
      eventOptions(updated, ctx),
    );
    await scheduleDeliveries(tx, deps, updated, now);
    await rescheduleTimers(tx, updated);
    return updated;
  });
}

/** The person did not approve, or the proposer withdraws it: the proposal is dropped and the plan stays as it is. */
export async function rejectRevision(deps: PlanDeps, id: string, ctx: PlanContext): Promise<CarePlanRow> {
  const row = await visiblePlan(deps, id, ctx, 'update');
  if (!row.proposal) {
    throw new StateConflict('no-revision-pending', `CarePlan/${id} has no proposed revision to withdraw`);
  }
  return deps.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(carePlans)
      .set({ proposal: null, proposalBase: null, proposedByOrg: null, proposedBy: null, proposedAt: null })
      .where(and(eq(carePlans.id, id), eq(carePlans.versionId, row.versionId)))
      .returning();
    if (!updated) throw new StateConflict('plan-changed', `CarePlan/${id} changed meanwhile; read it again`);
    await logAccess(tx, deps, ctx, 'update', accessed(updated));
    return updated;
  });
}
