// Use case: the plan's life (plan-store's PLAN stream) moves the case on: held → planned → followed-up → closed (SPEC §4).
import { type ConsumedEvent, PermanentFailure } from '@samsyn/bus';
import type { CaseStatus } from '@samsyn/contracts';
import type { Tx } from '@samsyn/db';
import { cancelOpenInvitations } from '../case/invitations.ts';
import { lockCase, transitionCase } from '../case/transition.ts';
import { cancelInvitationTimers } from '../deadlines/schedule.ts';

/** A plan event that came before the case got where it follows from; retrying lets the case catch up. */
export class PlanEventEarly extends Error {}

type PlanEvent =
  | ConsumedEvent<'planEstablished'>
  | ConsumedEvent<'planFollowedUp'>
  | ConsumedEvent<'planClosed'>;

const ORDER: CaseStatus[] = [
  'awaiting-consent',
  'invited',
  'scheduled',
  'held',
  'planned',
  'followed-up',
  'closed',
];

/**
 * Moves the case to `to` when it stands at one of `from`. A case already past `to` saw this news before (a replay):
 * nothing to do. A case not yet at `from` is early (the meeting's attendance is still being recorded): retried.
 * A case that ended or never existed cannot follow a plan: dead-lettered with the reason.
 */
async function follow(
  event: PlanEvent,
  tx: Tx,
  from: CaseStatus[],
  to: CaseStatus,
  options: { reason?: string; byOrg?: string } = {},
): Promise<void> {
  const { data } = event;
  const row = await lockCase(tx, data.caseId);
  if (!row) {
    throw new PermanentFailure(
      `${event.attrs.type}: case ${data.caseId} is unknown to the invitation service`,
    );
  }
  const status = row.status as CaseStatus;
  if (status === 'cancelled') {
    throw new PermanentFailure(
      `${event.attrs.type}: case ${data.caseId} is cancelled (${row.statusReason ?? 'no reason'}); a plan cannot move it`,
    );
  }
  if (from.includes(status)) {
    await transitionCase(tx, row, to, { at: new Date(data.at), ...options });
    if (to === 'closed') {
      for (const id of await cancelOpenInvitations(tx, row.id, new Date(data.at)))
        await cancelInvitationTimers(tx, id, new Date(data.at));
    }
    return;
  }
  const reached = ORDER.indexOf(status);
  const earliest = Math.min(...from.map((s) => ORDER.indexOf(s)));
  if (reached < earliest) {
    throw new PlanEventEarly(
      `${event.attrs.type}: case ${data.caseId} is '${status}'; it follows from ${from.join(' or ')}`,
    );
  }
  // Past it already: the same news again, or a follow-up reported after closure; nothing changes.
}

export async function applyPlanEstablished(event: ConsumedEvent<'planEstablished'>, tx: Tx): Promise<void> {
  await follow(event, tx, ['held'], 'planned', { byOrg: event.data.leadOrg });
}

export async function applyPlanFollowedUp(event: ConsumedEvent<'planFollowedUp'>, tx: Tx): Promise<void> {
  await follow(event, tx, ['planned', 'followed-up'], 'followed-up', { byOrg: event.data.byOrg });
}

export async function applyPlanClosed(event: ConsumedEvent<'planClosed'>, tx: Tx): Promise<void> {
  await follow(event, tx, ['planned', 'followed-up'], 'closed', {
    reason: event.data.reason,
    byOrg: event.data.byOrg,
  });
}
