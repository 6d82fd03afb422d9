// Which organisations the person's active consent covers for a case, now (SPEC §3: nothing goes uncovered).
import type { DbOrTx } from '@samsyn/db';
import { and, eq, gt, isNull, lte, or } from 'drizzle-orm';
import { caseConsents } from '../db/schema.ts';

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

/** Same principal (huvudman): the same organisation number, the ten digits after SE in the HSA-id. */
export function samePrincipal(a: string, b: string): boolean {
  return a.slice(0, 12) === b.slice(0, 12);
}
