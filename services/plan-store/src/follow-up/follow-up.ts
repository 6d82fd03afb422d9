// Use cases: a follow-up is recorded against the plan and either sets the next follow-up date or closes it
// (SPEC §4); a plan is closed with its reason (goals met, person declined, moved, deceased, other).
import { randomUUID } from 'node:crypto';
import { enqueue } from '@samsyn/bus';
import { events, type PlanClosureReason } from '@samsyn/contracts';
import type { Tx } from '@samsyn/db';
import { dt, HSA_SYSTEM, InvalidRequest, requireIfMatch, StateConflict } from '@samsyn/fhir';
import { z } from 'zod';
import { eventOptions } from '../create-plan/create-plan.ts';
import { type CarePlanRow, outbox, planFollowUps } from '../db/schema.ts';
import { rescheduleTimers } from '../deadlines/timers.ts';
import { scheduleDeliveries } from '../deliver/schedule.ts';
import { CLOSURE_EXT, CLOSURE_REASONS, CLOSURE_SYSTEM, FOLLOW_UP_EXT } from '../plan/codes.ts';
import { swedishToday } from '../plan/law.ts';
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

const date = dt.fhirDate.refine((v) => v.length === 10, 'must be a full date, YYYY-MM-DD');
const closureReason = z.enum(CLOSURE_REASONS, { error: `must be one of ${CLOSURE_REASONS.join(', ')}` });

const followUpSchema = z
  .object({
    heldOn: date.optional(),
    nextFollowUp: date.optional(),
    closeReason: closureReason.optional(),
    note: z.string().max(2000).optional(),
  })
  .refine((p) => (p.nextFollowUp === undefined) !== (p.closeReason === undefined), {
    message:
      'give exactly one of nextFollowUp (the next follow-up date) or closeReason (the follow-up closes the plan)',
  });

const closeSchema = z.object({ reason: closureReason, note: z.string().max(2000).optional() });

type Note = {
  time: string;
  authorReference: { type: 'Organization'; identifier: { system: string; value: string } };
  text: string;
};

function note(ctx: PlanContext, text: string): Note {
  return {
    time: nowOf(ctx).toISOString(),
    authorReference: { type: 'Organization', identifier: { system: HSA_SYSTEM, value: ctx.auth.org } },
    text,
  };
}

function withExtension(
  resource: Record<string, unknown>,
  url: string,
  ext: Record<string, unknown> | undefined,
) {
  const others = ((resource.extension as { url: string }[] | undefined) ?? []).filter((e) => e.url !== url);
  const list = ext ? [...others, { url, ...ext }] : others;
  const { extension: _e, ...rest } = resource;
  return list.length > 0 ? { ...rest, extension: list } : rest;
}

function closedResource(resource: Record<string, unknown>, reason: PlanClosureReason, now: Date) {
  const period = (resource.period as { start?: string; end?: string } | undefined) ?? {};
  return {
    ...withExtension(resource, CLOSURE_EXT, { valueCoding: { system: CLOSURE_SYSTEM, code: reason } }),
    // FHIR: completed means the goals were reached; revoked means ended before that.
    status: reason === 'goals-met' ? 'completed' : 'revoked',
    period: {
      ...period,
      end: period.end && Date.parse(period.end) < now.getTime() ? period.end : now.toISOString(),
    },
  };
}

function requireActive(row: CarePlanRow) {
  if (row.status !== 'active') {
    throw new StateConflict(
      'plan-not-active',
      `CarePlan/${row.id} is '${row.status}'; only an active plan is followed up or closed`,
    );
  }
}

export async function recordFollowUp(
  deps: PlanDeps,
  id: string,
  body: Parameters | undefined,
  ifMatch: string | undefined,
  ctx: PlanContext,
): Promise<CarePlanRow> {
  const row = await visiblePlan(deps, id, ctx, 'update');
  const params = readParameters(body, followUpSchema, {
    heldOn: (p) => parameterValue(p, 'date'),
    nextFollowUp: (p) => parameterValue(p, 'date'),
    closeReason: (p) => parameterValue(p, 'code'),
    note: (p) => parameterValue(p, 'string'),
  });
  if (ifMatch !== undefined) requireIfMatch(ifMatch, row.versionId);
  requireActive(row);
  const now = nowOf(ctx);
  const today = swedishToday(now);
  const heldOn = params.heldOn ?? today;
  if (heldOn > today)
    throw new InvalidRequest(
      'invalid-parameter',
      `heldOn ${heldOn}: a follow-up cannot be recorded before it is held`,
    );
  if (params.nextFollowUp && params.nextFollowUp <= heldOn) {
    throw new InvalidRequest(
      'invalid-parameter',
      `nextFollowUp ${params.nextFollowUp} must come after the follow-up held on ${heldOn}`,
    );
  }
  const due = row.followUpDue ?? heldOn;
  const text = `Uppföljning hölls ${heldOn} (planerad ${due}).${params.nextFollowUp ? ` Nästa uppföljning ${params.nextFollowUp}.` : ' Planen avslutas.'}${params.note ? ` ${params.note}` : ''}`;
  const notes = [...((row.resource.note as Note[] | undefined) ?? []), note(ctx, text)];
  let resource: Record<string, unknown> = { ...row.resource, note: notes };
  if (params.nextFollowUp)
    resource = withExtension(resource, FOLLOW_UP_EXT, { valueDate: params.nextFollowUp });
  if (params.closeReason) resource = closedResource(resource, params.closeReason, now);

  return deps.db.transaction(async (tx) => {
    const updated = await writeNextVersion(
      tx,
      row,
      nextFrom(resource, id),
      params.closeReason ? 'close' : 'follow-up',
      ctx,
    );
    await tx.insert(planFollowUps).values({
      id: randomUUID(),
      planId: id,
      due,
      heldOn,
      nextDue: params.nextFollowUp ?? null,
      closureReason: params.closeReason ?? null,
      byOrg: ctx.auth.org,
      recordedAt: now,
    });
    await logAccess(tx, deps, ctx, 'update', accessed(updated));
    await enqueue(
      tx,
      outbox,
      events.planFollowedUp,
      {
        planId: id,
        caseId: row.caseId,
        at: now.toISOString(),
        followUpDue: due,
        onTime: heldOn <= due,
        ...(params.nextFollowUp ? { nextFollowUpDue: params.nextFollowUp } : {}),
        byOrg: ctx.auth.org,
        participantOrgs: updated.participantOrgs,
      },
      eventOptions(updated, ctx),
    );
    if (params.closeReason) await announceClosed(tx, updated, params.closeReason, ctx);
    await scheduleDeliveries(tx, deps, updated, now);
    await rescheduleTimers(tx, updated);
    return updated;
  });
}

export async function closePlan(
  deps: PlanDeps,
  id: string,
  body: Parameters | undefined,
  ifMatch: string | undefined,
  ctx: PlanContext,
): Promise<CarePlanRow> {
  const row = await visiblePlan(deps, id, ctx, 'update');
  const params = readParameters(body, closeSchema, {
    reason: (p) => parameterValue(p, 'code'),
    note: (p) => parameterValue(p, 'string'),
  });
  if (ifMatch !== undefined) requireIfMatch(ifMatch, row.versionId);
  requireActive(row);
  const now = nowOf(ctx);
  const text = `Planen avslutades (${params.reason}).${params.note ? ` ${params.note}` : ''}`;
  const notes = [...((row.resource.note as Note[] | undefined) ?? []), note(ctx, text)];
  const resource = closedResource({ ...row.resource, note: notes }, params.reason, now);
  return deps.db.transaction(async (tx) => {
    const updated = await writeNextVersion(tx, row, nextFrom(resource, id), 'close', ctx, {
      proposal: null,
      proposalBase: null,
      proposedByOrg: null,
      proposedBy: null,
      proposedAt: null,
    });
    await logAccess(tx, deps, ctx, 'update', accessed(updated));
    await announceClosed(tx, updated, params.reason, ctx);
    await scheduleDeliveries(tx, deps, updated, now);
    await rescheduleTimers(tx, updated);
    return updated;
  });
}

/** The stored body and facts of a version Samsyn itself derived (status may be completed or revoked). */
function nextFrom(resource: Record<string, unknown>, id: string) {
  const status = String(resource.status);
  // The profile reader accepts only client-writable statuses; read the facts as if active, keep the real status.
  const read = readCarePlan({ ...resource, status: 'active', id });
  return { status, resource: { ...read.resource, status }, facts: read.facts };
}

async function announceClosed(tx: Tx, row: CarePlanRow, reason: PlanClosureReason, ctx: PlanContext) {
  await enqueue(
    tx,
    outbox,
    events.planClosed,
    {
      planId: row.id,
      caseId: row.caseId,
      at: nowOf(ctx).toISOString(),
      reason,
      byOrg: ctx.auth.org,
      participantOrgs: row.participantOrgs,
    },
    eventOptions(row, ctx),
  );
}
