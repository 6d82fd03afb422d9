// Use case: keep who takes part in each SIP case (requester and invited units) from the invitation stream.
// The handlers commute: whatever order the events arrive in, the projection ends the same.
import type { ConsumedEvent } from '@samsyn/bus';
import type { Tx } from '@samsyn/db';
import { lte } from 'drizzle-orm';
import { caseInvitees, cases } from '../db/schema.ts';

export async function recordCaseInitiated(event: ConsumedEvent<'caseInitiated'>, tx: Tx): Promise<void> {
  const { data } = event;
  const at = new Date(data.initiatedAt);
  await tx
    .insert(cases)
    .values({ id: data.caseId, requesterOrg: data.requesterOrg })
    .onConflictDoUpdate({ target: cases.id, set: { requesterOrg: data.requesterOrg } });
  await tx
    .insert(caseInvitees)
    .values(
      data.invitations.map((inv) => ({
        invitationId: inv.invitationId,
        caseId: data.caseId,
        org: inv.org,
        kind: inv.kind,
        changedAt: at,
      })),
    )
    // An invitation already forwarded (its event applied first) keeps its newer unit.
    .onConflictDoNothing();
}

/** A substitute unit named by a rejecting summoned principal joins the case. */
export async function recordInvitationCreated(
  event: ConsumedEvent<'invitationCreated'>,
  tx: Tx,
): Promise<void> {
  const { data } = event;
  await tx.insert(cases).values({ id: data.caseId, requesterOrg: data.requesterOrg }).onConflictDoNothing();
  await tx
    .insert(caseInvitees)
    .values({
      invitationId: data.invitationId,
      caseId: data.caseId,
      org: data.org,
      kind: data.kind,
      changedAt: new Date(data.at),
    })
    .onConflictDoNothing();
}

/** A forwarded invitation now belongs to `toOrg`; the unit it came from no longer takes part through it. */
export async function recordInvitationForwarded(
  event: ConsumedEvent<'invitationForwarded'>,
  tx: Tx,
): Promise<void> {
  const { data } = event;
  const at = new Date(data.at);
  await tx.insert(cases).values({ id: data.caseId, requesterOrg: data.requesterOrg }).onConflictDoNothing();
  await tx
    .insert(caseInvitees)
    .values({
      invitationId: data.invitationId,
      caseId: data.caseId,
      org: data.toOrg,
      kind: data.kind,
      changedAt: at,
    })
    .onConflictDoUpdate({
      target: caseInvitees.invitationId,
      set: { org: data.toOrg, changedAt: at },
      // A forward chain A → B → C may be applied out of order; the newest forward wins.
      setWhere: lte(caseInvitees.changedAt, at),
    });
}
