// Which organisations the person's active consent covers for a case, now (SPEC §3: nothing goes uncovered).
import type { DbOrTx } from '@samsyn/db';
import { and, eq, gt, inArray, isNull, lte, or, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { caseConsents } from '../db/schema.ts';

export async function coveredOrgs(db: DbOrTx, caseId: string, at = new Date()): Promise<Set<string>> {
  return (await coveredOrgsByCase(db, [caseId], at)).get(caseId) ?? new Set();
}

/** coveredOrgs for several cases in one query (a search page); a case without active consent maps to none. */
export async function coveredOrgsByCase(
  db: DbOrTx,
  caseIds: readonly string[],
  at = new Date(),
): Promise<Map<string, Set<string>>> {
  const byCase = new Map<string, Set<string>>(caseIds.map((id) => [id, new Set()]));
  if (caseIds.length === 0) return byCase;
  const rows = await db
    .select({ caseId: caseConsents.caseId, orgs: caseConsents.coveredOrgs })
    .from(caseConsents)
    .where(and(inArray(caseConsents.caseId, [...caseIds]), activeAt(at)));
  for (const r of rows) for (const org of r.orgs) byCase.get(r.caseId)?.add(org);
  return byCase;
}

/**
 * The organisations covered for the case in `caseIdColumn`, as a text[] column of a query that reads the case
 * anyway (reading a case by id costs one statement, not two).
 */
export function coveredOrgsColumn(caseIdColumn: AnyPgColumn, at = new Date()): SQL<string[]> {
  return sql<string[]>`(select coalesce(array_agg(distinct covered.org), '{}') from ${caseConsents}
    cross join unnest(${caseConsents.coveredOrgs}) as covered(org)
    where ${caseConsents.caseId} = ${caseIdColumn} and ${activeAt(at)})`;
}

function activeAt(at: Date): SQL {
  return and(
    eq(caseConsents.status, 'active'),
    lte(caseConsents.periodStart, at),
    or(isNull(caseConsents.periodEnd), gt(caseConsents.periodEnd, at)),
  ) as SQL;
}

/** Same principal (huvudman): the same organisation number, the ten digits after SE in the HSA-id. */
export function samePrincipal(a: string, b: string): boolean {
  return a.slice(0, 12) === b.slice(0, 12);
}
