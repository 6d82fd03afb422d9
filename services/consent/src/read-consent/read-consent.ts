// Use case: read, vread and search Consents, seeing only the cases the caller takes part in; every access is logged.
import type { Db } from '@samsyn/db';
import {
  type Consent,
  InvalidRequest,
  NotFound,
  PATIENT_KEY_SYSTEM,
  type ParsedSearch,
  type PersonIdentifier,
  readPersonIdentifier,
} from '@samsyn/fhir';
import { patientKey } from '@samsyn/platform';
import { and, desc, eq, inArray, or, type SQL, sql } from 'drizzle-orm';
import {
  caseParticipants,
  caseVisibleTo,
  personVisibleTo,
  takesPart,
} from '../case-participants/participants.ts';
import { type AccessContext, logAccess } from '../consent/access.ts';
import { CREATE_STATUSES } from '../consent/profile.ts';
import { toConsent, versionToConsent } from '../consent/to-fhir.ts';
import { type ConsentRow, consents, consentVersions } from '../db/schema.ts';
import { dateCondition } from '../search/date-condition.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const CONSENT_SEARCH_PARAMS = {
  patient: { kind: 'reference', modifiers: ['identifier'] },
  status: { kind: 'token' },
  _lastUpdated: { kind: 'date' },
} as const;

const STATUSES: readonly string[] = [...CREATE_STATUSES, 'inactive'];

/** The current version, or 404 when it is missing or belongs to a case the caller takes no part in (SPEC §7). */
export async function readConsentById(db: Db, id: string, ctx: AccessContext): Promise<Consent> {
  const row = await visibleRow(db, id, ctx, 'read');
  await logAccess(db, ctx, 'read', accessed(row));
  return toConsent(row);
}

export async function readConsentVersion(
  db: Db,
  id: string,
  versionId: string,
  ctx: AccessContext,
): Promise<Consent> {
  const row = await visibleRow(db, id, ctx, 'vread');
  const [version] = /^\d{1,9}$/.test(versionId)
    ? await db
        .select()
        .from(consentVersions)
        .where(and(eq(consentVersions.consentId, id), eq(consentVersions.versionId, Number(versionId))))
    : [];
  if (!version) throw new NotFound('Consent', `${id}/_history/${versionId}`);
  await logAccess(db, ctx, 'vread', accessed(row));
  return versionToConsent(version);
}

/**
 * The row if the caller takes part in its case. A denied read is logged with outcome 4 and answered exactly like
 * a missing Consent, so ids cannot be probed.
 */
async function visibleRow(
  db: Db,
  id: string,
  ctx: AccessContext,
  interaction: 'read' | 'vread',
): Promise<ConsentRow> {
  if (!UUID_RE.test(id)) throw new NotFound('Consent', id);
  const [hit] = await db
    .select({ row: consents, personShown: personVisibleTo(ctx.auth.org).mapWith(Boolean) })
    .from(consents)
    .where(eq(consents.id, id))
    .limit(1);
  if (!hit) throw new NotFound('Consent', id);
  const { row } = hit;
  const participants = await caseParticipants(db, row.caseId);
  // A participant the active consent does not cover may not see who the person is: the Consent names them.
  if (!participants || !takesPart(participants, ctx.auth.org) || !hit.personShown) {
    await logAccess(db, ctx, interaction, accessed(row), { outcome: '4' });
    throw new NotFound('Consent', id);
  }
  return row;
}

function accessed(row: ConsentRow) {
  return { id: row.id, caseId: row.caseId, patientSystem: row.patientSystem, patientValue: row.patientValue };
}

export async function searchConsents(
  db: Db,
  search: ParsedSearch,
  ctx: AccessContext,
): Promise<{ resources: Consent[]; total: number }> {
  const conditions: SQL[] = [caseVisibleTo(consents.caseId, ctx.auth.org), personVisibleTo(ctx.auth.org)];
  const people: PersonIdentifier[] = [];
  const query: string[] = [];
  for (const p of search.params) {
    if (p.name === 'patient') {
      const ids = p.values.map((v) => readPersonIdentifier('patient', v));
      people.push(...ids);
      conditions.push(
        or(
          ...ids.map((id) => and(eq(consents.patientSystem, id.system), eq(consents.patientValue, id.value))),
        ) as SQL,
      );
      // The access log never carries the personnummer: the query is logged with the pseudonym instead.
      query.push(
        `patient=${ids.map((id) => `${PATIENT_KEY_SYSTEM}|${patientKey(ctx.patientKeySecret, id.system, id.value)}`).join(',')}`,
      );
    } else if (p.name === 'status') {
      const unknown = p.values.filter((v) => !STATUSES.includes(v));
      if (unknown.length > 0) {
        throw new InvalidRequest(
          'invalid-search',
          `status=${unknown.join(',')}: a Consent status is one of ${STATUSES.join(', ')}`,
        );
      }
      conditions.push(inArray(consents.status, p.values));
      query.push(`status=${p.values.join(',')}`);
    } else if (p.name === '_lastUpdated') {
      conditions.push(
        or(...p.values.map((v) => dateCondition(consents.lastUpdated, '_lastUpdated', v))) as SQL,
      );
      query.push(`_lastUpdated=${p.values.join(',')}`);
    }
  }
  const where = and(...conditions);
  const result = await db.transaction(async (tx) => {
    const [count] = await tx.select({ n: sql<number>`count(*)::int` }).from(consents).where(where);
    const rows = await tx
      .select()
      .from(consents)
      .where(where)
      .orderBy(desc(consents.lastUpdated), desc(consents.id))
      .limit(search.count)
      .offset(search.offset);
    const logged = { query: query.join('&') || '(all)' };
    // One entry per person whose data was shown; a search that found nobody is logged against whom it asked for.
    for (const row of rows) await logAccess(tx, ctx, 'search-type', accessed(row), logged);
    if (rows.length === 0) {
      const asked = people.length === 1 ? people[0] : undefined;
      await logAccess(
        tx,
        ctx,
        'search-type',
        asked ? { patientSystem: asked.system, patientValue: asked.value } : {},
        logged,
      );
    }
    return { rows, total: count?.n ?? 0 };
  });
  return { resources: result.rows.map(toConsent), total: result.total };
}
