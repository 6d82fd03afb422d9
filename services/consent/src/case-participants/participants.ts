// Who takes part in a case: the unit that initiated it and every unit currently invited (SPEC §7).
import type { DbOrTx } from '@samsyn/db';
import { eq, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { caseInvitees, cases } from '../db/schema.ts';

export interface CaseParticipants {
  caseId: string;
  requesterOrg: string;
  invitedOrgs: string[];
}

export async function caseParticipants(db: DbOrTx, caseId: string): Promise<CaseParticipants | undefined> {
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

/** SQL condition: the case in `caseIdColumn` is one `org` takes part in. */
export function caseVisibleTo(caseIdColumn: AnyPgColumn, org: string): SQL {
  return sql`(exists (select 1 from ${cases} where ${cases.id} = ${caseIdColumn} and ${cases.requesterOrg} = ${org})
    or exists (select 1 from ${caseInvitees} where ${caseInvitees.caseId} = ${caseIdColumn} and ${caseInvitees.org} = ${org}))`;
}
