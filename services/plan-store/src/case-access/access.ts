// Who may see a case's plan (SPEC §3, §7): a unit that takes part in the case AND that the active consent covers, now.
import { takesPartIn as takesPart } from '@samsyn/case-projection';
import type { DbOrTx } from '@samsyn/db';
import { and, eq, gt, isNull, lte, or, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { caseConsents, caseInvitees, caseProjection, cases } from '../db/schema.ts';

/** SQL condition: `org` takes part in the case in `caseIdColumn`. */
export function takesPartIn(caseIdColumn: AnyPgColumn | SQL, org: string): SQL {
  return takesPart(caseProjection, caseIdColumn, org);
}

/** SQL condition: an active consent of the case in `caseIdColumn` covers `org` at `at`. */
export function coveredBy(caseIdColumn: AnyPgColumn | SQL, org: string, at: Date): SQL {
  return sql`exists (select 1 from ${caseConsents} where ${caseConsents.caseId} = ${caseIdColumn}
    and ${caseConsents.status} = 'active' and ${org} = any(${caseConsents.coveredOrgs})
    and ${caseConsents.periodStart} <= ${at.toISOString()}
    and (${caseConsents.periodEnd} is null or ${caseConsents.periodEnd} > ${at.toISOString()}))`;
}

/** SQL condition: `org` may see personal data of the case in `caseIdColumn` at `at`. */
export function mayAccess(caseIdColumn: AnyPgColumn | SQL, org: string, at: Date): SQL {
  return sql`(${takesPartIn(caseIdColumn, org)} and ${coveredBy(caseIdColumn, org, at)})`;
}

export interface CaseAccess {
  known: boolean;
  takesPart: boolean;
  covered: boolean;
}

/** The caller's standing in one case, for write paths that must tell "not yours" from "not yet consented". */
export async function caseAccess(
  db: DbOrTx,
  caseId: string,
  org: string,
  at = new Date(),
): Promise<CaseAccess> {
  const [row] = await db
    .select({
      known: sql<boolean>`exists (select 1 from ${cases} where ${cases.id} = ${caseId})
        or exists (select 1 from ${caseInvitees} where ${caseInvitees.caseId} = ${caseId})`,
      takesPart: takesPartIn(sql`${caseId}::uuid`, org).mapWith(Boolean),
      covered: coveredBy(sql`${caseId}::uuid`, org, at).mapWith(Boolean),
    })
    .from(sql`(select 1) as one`);
  return { known: Boolean(row?.known), takesPart: Boolean(row?.takesPart), covered: Boolean(row?.covered) };
}

/** The organisations the active consent of a case covers at `at`. */
export async function coveredOrgs(db: DbOrTx, caseId: string, at = new Date()): Promise<Set<string>> {
  const rows = await db
    .select({ orgs: caseConsents.coveredOrgs })
    .from(caseConsents)
    .where(
      and(
        eq(caseConsents.caseId, caseId),
        eq(caseConsents.status, 'active'),
        lte(caseConsents.periodStart, at),
        or(isNull(caseConsents.periodEnd), gt(caseConsents.periodEnd, at)),
      ),
    );
  return new Set(rows.flatMap((r) => r.orgs));
}
