// Who takes part in a case (SPEC §7): the unit that initiated it and every unit currently invited.
import type { DbOrTx } from '@samsyn/db';
import { eq, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { CaseProjectionTables } from './tables.ts';

/** SQL condition: `org` takes part in the case in `caseIdColumn`. */
export function takesPartIn(
  { cases, caseInvitees }: CaseProjectionTables,
  caseIdColumn: AnyPgColumn | SQL,
  org: string,
): SQL {
  return sql`(exists (select 1 from ${cases} where ${cases.id} = ${caseIdColumn} and ${cases.requesterOrg} = ${org})
    or exists (select 1 from ${caseInvitees} where ${caseInvitees.caseId} = ${caseIdColumn} and ${caseInvitees.org} = ${org}))`;
}

export interface CaseParticipants {
  caseId: string;
  requesterOrg: string;
  invitedOrgs: string[];
}

/** The case's requester and invited units, or undefined when the case is not known (yet). */
export async function caseParticipants(
  db: DbOrTx,
  { cases, caseInvitees }: CaseProjectionTables,
  caseId: string,
): Promise<CaseParticipants | undefined> {
  const [row] = await db.select().from(cases).where(eq(cases.id, caseId)).limit(1);
  if (!row) return undefined;
  const invitees = await db
    .select({ org: caseInvitees.org })
    .from(caseInvitees)
    .where(eq(caseInvitees.caseId, caseId));
  return { caseId, requesterOrg: row.requesterOrg, invitedOrgs: [...new Set(invitees.map((i) => i.org))] };
}

export function takesPart(participants: CaseParticipants, org: string): boolean {
  return participants.requesterOrg === org || participants.invitedOrgs.includes(org);
}
