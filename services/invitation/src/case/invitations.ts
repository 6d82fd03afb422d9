// Invitation rows as the case moves: the ones still open when a case ends are cancelled with it.
import type { DbOrTx } from '@samsyn/db';
import { and, eq, sql } from 'drizzle-orm';
import { invitations } from '../db/schema.ts';

export async function cancelOpenInvitations(tx: DbOrTx, caseId: string, at: Date): Promise<string[]> {
  const rows = await tx
    .update(invitations)
    .set({ status: 'cancelled', versionId: sql`${invitations.versionId} + 1`, lastUpdated: at })
    .where(and(eq(invitations.caseId, caseId), eq(invitations.status, 'requested')))
    .returning({ id: invitations.id });
  return rows.map((r) => r.id);
}

/** Whether `org` takes part in the case: it initiated it or holds one of its invitations. */
export async function participates(
  tx: DbOrTx,
  row: { id: string; requesterOrg: string },
  org: string,
): Promise<boolean> {
  if (row.requesterOrg === org) return true;
  const [hit] = await tx
    .select({ id: invitations.id })
    .from(invitations)
    .where(and(eq(invitations.caseId, row.id), eq(invitations.org, org)))
    .limit(1);
  return hit !== undefined;
}
