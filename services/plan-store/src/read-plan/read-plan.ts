// Use cases: read, vread, _history and search CarePlans, seeing only plans of cases the caller takes part in and
// the active consent covers it for (SPEC §3, §7); every access is logged.
import {
  type Bundle,
  type CarePlan,
  HSA_SYSTEM,
  InvalidRequest,
  isHsaSystem,
  NotFound,
  PATIENT_KEY_SYSTEM,
  type ParsedSearch,
  parseDateParam,
  parseToken,
  readPersonIdentifier,
} from '@samsyn/fhir';
import { patientKey } from '@samsyn/platform';
import { and, asc, desc, eq, gt, gte, inArray, isNull, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import { mayAccess } from '../case-access/access.ts';
import { type CarePlanRow, carePlans, carePlanVersions } from '../db/schema.ts';
import { dateCondition } from '../plan/date-condition.ts';
import {
  accessed,
  logAccess,
  nowOf,
  type PlanContext,
  type PlanDeps,
  toCarePlan,
  visiblePlan,
} from '../plan/store.ts';

export const CAREPLAN_SEARCH_PARAMS = {
  patient: { kind: 'reference', modifiers: ['identifier'] },
  subject: { kind: 'reference', modifiers: ['identifier'] },
  status: { kind: 'token' },
  author: { kind: 'reference', modifiers: ['identifier'] },
  date: { kind: 'date' },
  _lastUpdated: { kind: 'date' },
} as const;

const STATUSES = ['draft', 'active', 'on-hold', 'revoked', 'completed', 'entered-in-error', 'unknown'];

export async function readPlan(deps: PlanDeps, id: string, ctx: PlanContext): Promise<CarePlanRow> {
  const row = await visiblePlan(deps, id, ctx, 'read');
  await logAccess(deps.db, deps, ctx, 'read', accessed(row));
  return row;
}

export async function readPlanVersion(
  deps: PlanDeps,
  id: string,
  versionId: string,
  ctx: PlanContext,
): Promise<CarePlan> {
  const row = await visiblePlan(deps, id, ctx, 'vread');
  const [version] = /^\d{1,9}$/.test(versionId)
    ? await deps.db
        .select()
        .from(carePlanVersions)
        .where(and(eq(carePlanVersions.planId, id), eq(carePlanVersions.versionId, Number(versionId))))
    : [];
  if (!version) throw new NotFound('CarePlan', `${id}/_history/${versionId}`);
  await logAccess(deps.db, deps, ctx, 'vread', accessed(row));
  return version.resource as unknown as CarePlan;
}

/** Every version, newest first (FHIR R4 http.html#history), as a history Bundle. */
export async function planHistory(
  deps: PlanDeps,
  id: string,
  base: string,
  ctx: PlanContext,
): Promise<Bundle> {
  const row = await visiblePlan(deps, id, ctx, 'history');
  const versions = await deps.db
    .select()
    .from(carePlanVersions)
    .where(eq(carePlanVersions.planId, id))
    .orderBy(desc(carePlanVersions.versionId));
  await logAccess(deps.db, deps, ctx, 'history', accessed(row));
  return {
    resourceType: 'Bundle',
    type: 'history',
    total: versions.length,
    link: [{ relation: 'self', url: `${base}/CarePlan/${id}/_history` }],
    entry: versions.map((v) => ({
      fullUrl: `${base}/CarePlan/${id}`,
      resource: v.resource as unknown as CarePlan,
      request: {
        method: v.versionId === 1 ? ('POST' as const) : ('PUT' as const),
        url: v.versionId === 1 ? 'CarePlan' : `CarePlan/${id}`,
      },
      response: {
        status: v.versionId === 1 ? '201 Created' : '200 OK',
        etag: `W/"${v.versionId}"`,
        lastModified: v.lastUpdated.toISOString(),
      },
    })),
  };
}

/** Conditions the `date` search puts on the plan's period (R4 search.html#date: ranges against a Period). */
function periodCondition(raw: string): SQL {
  const { prefix, start, end } = parseDateParam('date', raw);
  const s = carePlans.periodStart;
  const e = carePlans.periodEnd;
  switch (prefix) {
    case 'eq':
      return and(lte(s, end), or(isNull(e), gte(e, start))) as SQL;
    case 'lt':
      return lt(s, start);
    case 'le':
      return lte(s, end);
    case 'gt':
      return or(isNull(e), gt(e, end)) as SQL;
    case 'ge':
      return or(isNull(e), gte(e, start)) as SQL;
    default:
      throw new InvalidRequest(
        'invalid-search',
        `date=${raw}: the prefix '${prefix}' is not supported; use eq, lt, le, gt or ge`,
      );
  }
}

export async function searchPlans(
  deps: PlanDeps,
  search: ParsedSearch,
  ctx: PlanContext,
): Promise<{ resources: CarePlan[]; total: number }> {
  const conditions: SQL[] = [mayAccess(carePlans.caseId, ctx.auth.org, nowOf(ctx))];
  const query: string[] = [];
  let asked: { system: string; value: string } | undefined;
  for (const p of search.params) {
    if (p.name === 'patient' || p.name === 'subject') {
      const ids = p.values.map((v) => readPersonIdentifier(p.name, v));
      if (ids.length === 1) asked = ids[0];
      conditions.push(
        or(
          ...ids.map((id) =>
            and(eq(carePlans.patientSystem, id.system), eq(carePlans.patientValue, id.value)),
          ),
        ) as SQL,
      );
      // The access log never carries the personnummer: the query is logged with the pseudonym instead.
      query.push(
        `${p.name}=${ids.map((id) => `${PATIENT_KEY_SYSTEM}|${patientKey(deps.patientKeySecret, id.system, id.value)}`).join(',')}`,
      );
    } else if (p.name === 'status') {
      const unknown = p.values.filter((v) => !STATUSES.includes(v));
      if (unknown.length > 0) {
        throw new InvalidRequest(
          'invalid-search',
          `status=${unknown.join(',')}: a CarePlan status is one of ${STATUSES.join(', ')}`,
        );
      }
      conditions.push(inArray(carePlans.status, p.values));
      query.push(`status=${p.values.join(',')}`);
    } else if (p.name === 'author') {
      const orgs = p.values.map((v) => {
        const token = parseToken(v.replace(/^Organization\?identifier=/, ''));
        if (token.system && !isHsaSystem(token.system)) {
          throw new InvalidRequest(
            'invalid-search',
            `author=${v}: name the lead organisation by HSA-id (${HSA_SYSTEM}|<HSA-id>)`,
          );
        }
        return token.code;
      });
      conditions.push(inArray(carePlans.leadOrg, orgs));
      query.push(`author=${orgs.join(',')}`);
    } else if (p.name === 'date') {
      conditions.push(or(...p.values.map(periodCondition)) as SQL);
      query.push(`date=${p.values.join(',')}`);
    } else if (p.name === '_lastUpdated') {
      conditions.push(
        or(...p.values.map((v) => dateCondition(carePlans.lastUpdated, '_lastUpdated', v))) as SQL,
      );
      query.push(`_lastUpdated=${p.values.join(',')}`);
    }
  }
  const where = and(...conditions);
  const order =
    search.sort === '_lastUpdated'
      ? [asc(carePlans.lastUpdated), asc(carePlans.id)]
      : [desc(carePlans.lastUpdated), desc(carePlans.id)];
  const result = await deps.db.transaction(async (tx) => {
    const [count] = await tx.select({ n: sql<number>`count(*)::int` }).from(carePlans).where(where);
    const rows = await tx
      .select()
      .from(carePlans)
      .where(where)
      .orderBy(...order)
      .limit(search.count)
      .offset(search.offset);
    const logged = { query: query.join('&') || '(all)' };
    // One entry per person whose plan was shown; a search that found nobody is logged against whom it asked for.
    for (const row of rows) await logAccess(tx, deps, ctx, 'search-type', accessed(row), logged);
    if (rows.length === 0) {
      await logAccess(
        tx,
        deps,
        ctx,
        'search-type',
        asked ? { patientSystem: asked.system, patientValue: asked.value } : {},
        logged,
      );
    }
    return { rows, total: count?.n ?? 0 };
  });
  return { resources: result.rows.map(toCarePlan), total: result.total };
}
