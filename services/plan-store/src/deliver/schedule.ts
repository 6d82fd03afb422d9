// Which participants get a plan version pushed to their own FHIR endpoint (SPEC §5): every organisation of the
// plan that the active consent covers and that has an endpoint configured. Written in the version's transaction.
import type { Tx } from '@samsyn/db';
import { and, eq, lt } from 'drizzle-orm';
import { coveredOrgs } from '../case-access/access.ts';
import { type CarePlanRow, planDeliveries } from '../db/schema.ts';
import type { PlanDeps } from '../plan/store.ts';

export async function scheduleDeliveries(
  tx: Tx,
  deps: Pick<PlanDeps, 'endpoints'>,
  row: CarePlanRow,
  now: Date,
): Promise<string[]> {
  const covered = await coveredOrgs(tx, row.caseId, now);
  const targets = row.participantOrgs.filter((org) => covered.has(org) && deps.endpoints[org]);
  // A newer version replaces an older one not yet delivered: the peer needs only the plan in force.
  await tx
    .update(planDeliveries)
    .set({ status: 'superseded' })
    .where(
      and(
        eq(planDeliveries.planId, row.id),
        eq(planDeliveries.status, 'pending'),
        lt(planDeliveries.versionId, row.versionId),
      ),
    );
  if (targets.length > 0) {
    await tx
      .insert(planDeliveries)
      .values(
        targets.map((org) => ({
          planId: row.id,
          versionId: row.versionId,
          org,
          endpoint: deps.endpoints[org]?.url ?? '',
          nextAttemptAt: now,
          createdAt: now,
        })),
      )
      .onConflictDoNothing();
  }
  return targets;
}
