// What every CarePlan use case shares: the caller's context, the visibility gate, the access log, and the
// compare-and-set that makes every change exactly one new version.
import type { Db, DbOrTx, Tx } from '@samsyn/db';
import { type CarePlan, NotFound, PreconditionFailed } from '@samsyn/fhir';
import { type AuditInteraction, type Auditor, type AuthContext, patientKey } from '@samsyn/platform';
import { and, eq } from 'drizzle-orm';
import { mayAccess } from '../case-access/access.ts';
import type { PlanEndpoint } from '../config.ts';
import { type CarePlanRow, carePlans, carePlanVersions } from '../db/schema.ts';
import type { PlanFacts } from './profile.ts';

export const SOURCE = '/samsyn/plan-store';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface PlanDeps {
  db: Db;
  auditor: Auditor;
  patientKeySecret: string;
  endpoints: Readonly<Record<string, PlanEndpoint>>;
}

export interface PlanContext {
  auth: AuthContext;
  traceparent?: string;
  now?: Date;
}

export function nowOf(ctx: PlanContext): Date {
  return ctx.now ?? new Date();
}

/** Records one Patientdatalagen access-log entry about a plan, in `tx` (the access's own transaction). */
export async function logAccess(
  tx: DbOrTx,
  deps: PlanDeps,
  ctx: PlanContext,
  interaction: AuditInteraction,
  what: { id?: string; caseId?: string; patientSystem?: string; patientValue?: string },
  extra: { outcome?: '0' | '4'; query?: string } = {},
): Promise<void> {
  await deps.auditor.record(tx, {
    auth: ctx.auth,
    interaction,
    ...(extra.outcome ? { outcome: extra.outcome } : {}),
    ...(what.patientSystem && what.patientValue
      ? { patientKey: patientKey(deps.patientKeySecret, what.patientSystem, what.patientValue) }
      : {}),
    ...(what.caseId ? { caseId: what.caseId } : {}),
    resource: what.id ? `CarePlan/${what.id}` : 'CarePlan',
    ...(extra.query ? { query: extra.query } : {}),
    ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
  });
}

export function accessed(row: CarePlanRow) {
  return { id: row.id, caseId: row.caseId, patientSystem: row.patientSystem, patientValue: row.patientValue };
}

/**
 * The plan if the caller takes part in its case and the active consent covers the caller now. Anything else is
 * logged as a denied access and answered exactly like a missing plan (SPEC §7), so ids cannot be probed.
 */
export async function visiblePlan(
  deps: PlanDeps,
  id: string,
  ctx: PlanContext,
  interaction: AuditInteraction,
): Promise<CarePlanRow> {
  if (!UUID_RE.test(id)) throw new NotFound('CarePlan', id);
  const [row] = await deps.db
    .select({
      plan: carePlans,
      visible: mayAccess(carePlans.caseId, ctx.auth.org, nowOf(ctx)).mapWith(Boolean),
    })
    .from(carePlans)
    .where(eq(carePlans.id, id))
    .limit(1);
  if (!row) throw new NotFound('CarePlan', id);
  if (!row.visible) {
    await logAccess(deps.db, deps, ctx, interaction, accessed(row.plan), { outcome: '4' });
    throw new NotFound('CarePlan', id);
  }
  return row.plan;
}

/** The CarePlan as served: Samsyn's id and meta over the stored body. */
export function toCarePlan(
  row: Pick<CarePlanRow, 'id' | 'versionId' | 'lastUpdated' | 'resource'>,
): CarePlan {
  return {
    ...(row.resource as unknown as CarePlan),
    resourceType: 'CarePlan',
    id: row.id,
    meta: { versionId: String(row.versionId), lastUpdated: row.lastUpdated.toISOString() },
  };
}

export function factColumns(facts: PlanFacts) {
  return {
    leadOrg: facts.leadOrg ?? null,
    participantOrgs: facts.participantOrgs,
    followUpDue: facts.followUpDue ?? null,
    periodStart: facts.periodStart ?? null,
    periodEnd: facts.periodEnd ?? null,
    language: facts.language ?? null,
  };
}

export type VersionChange = 'create' | 'update' | 'revision' | 'follow-up' | 'close';

/**
 * Writes the next version of `current` if nobody else wrote one first: the update is conditional on the version
 * the caller read (compare-and-set in PostgreSQL), so of two concurrent editors exactly one wins and the other
 * gets a 412.
 */
export async function writeNextVersion(
  tx: Tx,
  current: CarePlanRow,
  next: { status: string; resource: Record<string, unknown>; facts?: PlanFacts },
  change: VersionChange,
  ctx: PlanContext,
  extra: Partial<typeof carePlans.$inferInsert> = {},
): Promise<CarePlanRow> {
  const now = nowOf(ctx);
  const [updated] = await tx
    .update(carePlans)
    .set({
      status: next.status,
      resource: next.resource,
      ...(next.facts ? factColumns(next.facts) : {}),
      versionId: current.versionId + 1,
      lastUpdated: now,
      ...extra,
    })
    .where(and(eq(carePlans.id, current.id), eq(carePlans.versionId, current.versionId)))
    .returning();
  if (!updated) {
    throw new PreconditionFailed(
      `CarePlan/${current.id} changed while this update ran (it is no longer version ${current.versionId}); read it again and reapply your change`,
    );
  }
  await insertVersion(tx, updated, change, ctx.auth.org);
  return updated;
}

export async function insertVersion(tx: Tx, row: CarePlanRow, change: VersionChange, byOrg: string) {
  await tx.insert(carePlanVersions).values({
    planId: row.id,
    versionId: row.versionId,
    status: row.status,
    change,
    byOrg,
    lastUpdated: row.lastUpdated,
    resource: toCarePlan(row) as unknown as Record<string, unknown>,
  });
}
