// Use case: read deviations; each is visible to the organisation it is about and to the case's initiator.
import type { Db } from '@samsyn/db';
import {
  type Flag,
  InvalidRequest,
  isHsaSystem,
  NotFound,
  type ParsedSearch,
  parseToken,
} from '@samsyn/fhir';
import { and, desc, eq, inArray, or, type SQL, sql } from 'drizzle-orm';
import { DEVIATION_SYSTEM } from '../appointment/codes.ts';
import { UUID_RE } from '../appointment/load.ts';
import { dateCondition } from '../appointment/read-appointment.ts';
import { type CaseRow, cases, type DeviationRow, deviations } from '../db/schema.ts';
import { deviationFlag } from './flag.ts';

export interface DeviationHit {
  resource: Flag;
  deviation: DeviationRow;
  row: CaseRow;
}

function visibleTo(org: string) {
  return or(eq(deviations.org, org), eq(deviations.requesterOrg, org));
}

export async function readDeviation(db: Db, id: string, viewerOrg: string): Promise<DeviationHit> {
  if (!UUID_RE.test(id)) throw new NotFound('Flag', id);
  const [hit] = await db
    .select({ deviation: deviations, row: cases })
    .from(deviations)
    .innerJoin(cases, eq(cases.id, deviations.caseId))
    .where(and(eq(deviations.id, id), visibleTo(viewerOrg)))
    .limit(1);
  // Someone else's deviation answers exactly like a missing one (SPEC §7).
  if (!hit) throw new NotFound('Flag', id);
  return { ...hit, resource: deviationFlag(hit.deviation) };
}

export const FLAG_SEARCH_PARAMS = {
  _id: { kind: 'token' },
  subject: { kind: 'reference', modifiers: ['identifier'] },
  code: { kind: 'token' },
  date: { kind: 'date' },
} as const;

export async function searchDeviations(
  db: Db,
  search: ParsedSearch,
  viewerOrg: string,
): Promise<{ hits: DeviationHit[]; total: number }> {
  const conditions: SQL[] = [visibleTo(viewerOrg) as SQL];
  for (const p of search.params) {
    switch (p.name) {
      case '_id':
        conditions.push(
          inList(
            deviations.id,
            p.values.filter((v) => UUID_RE.test(v)),
          ),
        );
        break;
      case 'subject':
        conditions.push(
          inList(
            deviations.org,
            p.values.map((v) => subjectOrg(v, p.modifier)),
          ),
        );
        break;
      case 'code': {
        const codes = p.values.map(parseToken).filter((t) => !t.system || t.system === DEVIATION_SYSTEM);
        conditions.push(
          inList(
            deviations.cause,
            codes.map((t) => t.code),
          ),
        );
        break;
      }
      case 'date':
        // A deviation's period starts when it was reported and stays open; date matches that start.
        conditions.push(
          (or(...p.values.map((v) => dateCondition(deviations.createdAt, p.name, v))) ?? sql`false`) as SQL,
        );
        break;
    }
  }
  const where = and(...conditions);
  const [count] = await db.select({ n: sql<number>`count(*)::int` }).from(deviations).where(where);
  const found = await db
    .select({ deviation: deviations, row: cases })
    .from(deviations)
    .innerJoin(cases, eq(cases.id, deviations.caseId))
    .where(where)
    .orderBy(desc(deviations.createdAt), desc(deviations.id))
    .limit(search.count)
    .offset(search.offset);
  return { hits: found.map((f) => ({ ...f, resource: deviationFlag(f.deviation) })), total: count?.n ?? 0 };
}

function subjectOrg(value: string, modifier: string | undefined): string {
  const token = parseToken(value.replace(/^Organization\?identifier=/, ''));
  if (modifier === 'identifier' && token.system && !isHsaSystem(token.system)) {
    throw new InvalidRequest(
      'invalid-search',
      `subject:identifier=${value}: organisations are searched by HSA-id`,
    );
  }
  return token.code;
}

function inList(
  column: typeof deviations.id | typeof deviations.org | typeof deviations.cause,
  values: string[],
) {
  return values.length > 0 ? inArray(column, values) : sql`false`;
}
