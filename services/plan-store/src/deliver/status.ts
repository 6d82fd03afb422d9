// Use case: where the pushes of a plan stand, per organisation and version (the visible failure state, SPEC §5).
import { HSA_SYSTEM } from '@samsyn/fhir';
import { desc, eq } from 'drizzle-orm';
import { planDeliveries } from '../db/schema.ts';
import { DELIVERY_STATUS_SYSTEM } from '../plan/codes.ts';
import type { Parameters } from '../plan/parameters.ts';
import { accessed, logAccess, type PlanContext, type PlanDeps, visiblePlan } from '../plan/store.ts';

export async function deliveryStatus(deps: PlanDeps, id: string, ctx: PlanContext): Promise<Parameters> {
  const row = await visiblePlan(deps, id, ctx, 'read');
  const rows = await deps.db
    .select()
    .from(planDeliveries)
    .where(eq(planDeliveries.planId, id))
    .orderBy(desc(planDeliveries.versionId), planDeliveries.org);
  await logAccess(deps.db, deps, ctx, 'read', accessed(row), { query: '$delivery-status' });
  return {
    resourceType: 'Parameters',
    parameter: rows.map((d) => ({
      name: 'delivery',
      part: [
        { name: 'organization', valueIdentifier: { system: HSA_SYSTEM, value: d.org } },
        { name: 'version', valueString: String(d.versionId) },
        { name: 'status', valueCoding: { system: DELIVERY_STATUS_SYSTEM, code: d.status } },
        { name: 'attempts', valueInteger: d.attempts },
        ...(d.lastAttemptAt ? [{ name: 'lastAttempt', valueInstant: d.lastAttemptAt.toISOString() }] : []),
        ...(d.deliveredAt ? [{ name: 'deliveredAt', valueInstant: d.deliveredAt.toISOString() }] : []),
        ...(d.status === 'pending'
          ? [{ name: 'nextAttempt', valueInstant: d.nextAttemptAt.toISOString() }]
          : []),
        ...(d.lastError ? [{ name: 'error', valueString: d.lastError }] : []),
      ],
    })),
  };
}
