// Use case: keep who takes part in each SIP case (requester and invited units) from the invitation stream.
// The handlers commute: whatever order the events arrive in, the projection ends the same.
import type { ConsumedEvent, Handlers } from '@samsyn/bus';
import { pipeline, type Tx } from '@samsyn/db';
import { lte } from 'drizzle-orm';
import type { CaseProjectionTables } from './tables.ts';

/** The consumer handlers that maintain the tables (give them a consumer on the INVITATION stream). */
export function caseProjectionHandlers({
  cases,
  caseInvitees,
}: CaseProjectionTables): Required<
  Pick<Handlers, 'caseInitiated' | 'invitationCreated' | 'invitationForwarded'>
> {
  return {
    async caseInitiated(event: ConsumedEvent<'caseInitiated'>, tx: Tx) {
      const { data } = event;
      const initiatedAt = new Date(data.initiatedAt);
      await pipeline([
        () =>
          tx
            .insert(cases)
            .values({ id: data.caseId, requesterOrg: data.requesterOrg, initiatedAt })
            .onConflictDoUpdate({ target: cases.id, set: { initiatedAt } }),
        () =>
          tx
            .insert(caseInvitees)
            .values(
              data.invitations.map((inv) => ({
                invitationId: inv.invitationId,
                caseId: data.caseId,
                org: inv.org,
                kind: inv.kind,
                changedAt: initiatedAt,
              })),
            )
            // An invitation already forwarded (its event applied first) keeps its newer unit.
            .onConflictDoNothing(),
      ]);
    },

    /** A substitute unit named by a rejecting summoned principal joins the case. */
    async invitationCreated(event: ConsumedEvent<'invitationCreated'>, tx: Tx) {
      const { data } = event;
      await pipeline([
        () =>
          tx.insert(cases).values({ id: data.caseId, requesterOrg: data.requesterOrg }).onConflictDoNothing(),
        () =>
          tx
            .insert(caseInvitees)
            .values({
              invitationId: data.invitationId,
              caseId: data.caseId,
              org: data.org,
              kind: data.kind,
              changedAt: new Date(data.at),
            })
            .onConflictDoNothing(),
      ]);
    },

    /** A forwarded invitation now belongs to `toOrg`; the unit it came from no longer takes part through it. */
    async invitationForwarded(event: ConsumedEvent<'invitationForwarded'>, tx: Tx) {
      const { data } = event;
      const at = new Date(data.at);
      await pipeline([
        () =>
          tx.insert(cases).values({ id: data.caseId, requesterOrg: data.requesterOrg }).onConflictDoNothing(),
        () =>
          tx
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
            }),
      ]);
    },
  };
}
