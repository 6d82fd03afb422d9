// Who takes part in a case: the unit that initiated it and every unit currently invited (SPEC §7).
import {
  type CaseParticipants,
  caseParticipants as participantsOf,
  takesPartIn,
} from '@samsyn/case-projection';
import type { DbOrTx } from '@samsyn/db';
import { type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { caseProjection } from '../db/schema.ts';

export { type CaseParticipants, takesPart } from '@samsyn/case-projection';

/** The case's requester and invited units, or undefined when the case is not known (yet). */
export function caseParticipants(db: DbOrTx, caseId: string): Promise<CaseParticipants | undefined> {
  return participantsOf(db, caseProjection, caseId);
}

/** SQL condition: the case in `caseIdColumn` is one `org` takes part in. */
export function caseVisibleTo(caseIdColumn: AnyPgColumn, org: string): SQL {
  return takesPartIn(caseProjection, caseIdColumn, org);
}

/**
 * SQL condition: `org` may see the person in the Consent row of `table` (SPEC §3: the person's data reaches only
 * organisations the active consent covers). The initiating unit and the unit that recorded the consent hold the
 * data already; any other participant only while an active consent of the case covers it, from the moment a
 * revocation commits.
 */
export function personVisibleTo(org: string): SQL {
  // Written out in full: the subqueries refer to the outer Consent row, which drizzle leaves unqualified.
  return sql`("consent"."consent"."recorded_by_org" = ${org}
    or exists (select 1 from "consent"."sip_case" c where c.id = "consent"."consent"."case_id" and c.requester_org = ${org})
    or exists (select 1 from "consent"."consent" covering
      where covering.case_id = "consent"."consent"."case_id" and covering.status = 'active'
        and ${org} = any(covering.covered_orgs) and covering.period_start <= now()
        and (covering.period_end is null or covering.period_end > now())))`;
}
