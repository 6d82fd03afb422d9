// Use case: consent events from the consent service gate the case (SPEC §3, §4).
import type { ConsumedEvent } from '@samsyn/bus';
import type { Tx } from '@samsyn/db';
import { and, eq, inArray } from 'drizzle-orm';
import { cancelOpenInvitations } from '../case/invitations.ts';
import { lockCase, transitionCase } from '../case/transition.ts';
import { caseConsents, invitations } from '../db/schema.ts';
import { cancelInvitationTimers } from '../deadlines/schedule.ts';
import { cancelCaseMeetings } from '../schedule-meeting/schedule-meeting.ts';
import { coveredOrgs } from './coverage.ts';

const ENDED = new Set(['closed', 'cancelled']);

/** Consent given: record what it covers; a case waiting for consent moves on once every invited unit is covered. */
export async function applyConsentGiven(event: ConsumedEvent<'consentGiven'>, tx: Tx): Promise<void> {
  const { data } = event;
  await tx
    .insert(caseConsents)
    .values({
      consentId: data.consentId,
      caseId: data.caseId,
      coveredOrgs: data.coveredOrgs,
      periodStart: new Date(data.periodStart),
      periodEnd: data.periodEnd ? new Date(data.periodEnd) : null,
      status: 'active',
    })
    .onConflictDoNothing();
  const row = await lockCase(tx, data.caseId);
  if (!row || row.status !== 'awaiting-consent') return;
  const covered = await coveredOrgs(tx, row.id);
  const open = await tx
    .select({ org: invitations.org })
    .from(invitations)
    .where(and(eq(invitations.caseId, row.id), inArray(invitations.status, ['requested', 'accepted'])));
  if (open.every((i) => covered.has(i.org))) {
    await transitionCase(tx, row, 'invited', { at: new Date(data.at) });
  }
}

/** Consent revoked or refused: from now on nothing about the person reaches anyone, and the case is cancelled. */
export async function applyConsentEnded(
  event: ConsumedEvent<'consentRevoked'> | ConsumedEvent<'consentRefused'>,
  tx: Tx,
  reason: 'consent-withdrawn' | 'consent-refused',
): Promise<void> {
  const { data } = event;
  const status = reason === 'consent-withdrawn' ? 'revoked' : 'refused';
  const updated = await tx
    .update(caseConsents)
    .set({ status, updatedAt: new Date(data.at) })
    .where(eq(caseConsents.consentId, data.consentId))
    .returning();
  if (updated.length === 0 && reason === 'consent-refused') {
    await tx.insert(caseConsents).values({
      consentId: data.consentId,
      caseId: data.caseId,
      coveredOrgs: [],
      periodStart: new Date(data.at),
      status,
    });
  }
  const row = await lockCase(tx, data.caseId);
  if (!row || ENDED.has(row.status)) return;
  // Another active consent may still cover the case (a renewed one); only its absence ends the case.
  if ((await coveredOrgs(tx, row.id)).size > 0) return;
  await transitionCase(tx, row, 'cancelled', { reason, byOrg: data.byOrg, at: new Date(data.at) });
  for (const id of await cancelOpenInvitations(tx, row.id, new Date(data.at)))
    await cancelInvitationTimers(tx, id, new Date(data.at));
  await cancelCaseMeetings(tx, row.id, new Date(data.at));
}
