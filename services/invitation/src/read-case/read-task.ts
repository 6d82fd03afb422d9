// Use case: read a Task (initiative or invitation) by id, or search them, seeing only the caller's cases.
import type { Db } from '@samsyn/db';
import {
  InvalidRequest,
  NotFound,
  type ParsedSearch,
  parseDateParam,
  parseToken,
  type Task,
} from '@samsyn/fhir';
import { and, desc, eq, exists, gt, gte, inArray, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { initiativeTask, invitationTask } from '../case/task.ts';
import { coveredOrgsByCase, coveredOrgsColumn } from '../case-coverage/coverage.ts';
import { type CaseRow, cases, type InvitationRow, invitations } from '../db/schema.ts';

/** A case is visible to the unit that initiated it and to every unit invited to it (SPEC §7). */
function visibleTo(org: string) {
  return or(
    eq(cases.requesterOrg, org),
    exists(
      sql`(select 1 from ${invitations} where ${invitations.caseId} = ${cases.id} and ${invitations.org} = ${org})`,
    ),
  );
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type ReadResult =
  | { kind: 'initiative'; task: Task; row: CaseRow; personShown: boolean }
  | { kind: 'invitation'; task: Task; row: CaseRow; invitation: InvitationRow };

export async function readTask(db: Db, id: string, viewerOrg: string): Promise<ReadResult> {
  if (!UUID_RE.test(id)) throw new NotFound('Task', id);
  // The case, its invitations and who the consent covers, in one statement.
  const joined = await db
    .select({ row: cases, invitation: invitations, covered: coveredOrgsColumn(cases.id) })
    .from(cases)
    .leftJoin(invitations, eq(invitations.caseId, cases.id))
    .where(and(eq(cases.id, id), visibleTo(viewerOrg)));
  const row = joined[0]?.row;
  if (row) {
    const invs = joined.flatMap((j) => (j.invitation ? [j.invitation] : []));
    const covered = new Set(joined[0]?.covered ?? []);
    return {
      kind: 'initiative',
      task: initiativeTask(row, invs, viewerOrg, covered),
      row,
      personShown: viewerOrg === row.requesterOrg || covered.has(viewerOrg),
    };
  }
  const [hit] = await db
    .select({ inv: invitations, row: cases })
    .from(invitations)
    .innerJoin(cases, eq(cases.id, invitations.caseId))
    .where(and(eq(invitations.id, id), or(eq(invitations.org, viewerOrg), eq(cases.requesterOrg, viewerOrg))))
    .limit(1);
  // A Task that exists but is not the caller's answers exactly like a missing one.
  if (!hit) throw new NotFound('Task', id);
  return { kind: 'invitation', task: invitationTask(hit.inv, hit.row), row: hit.row, invitation: hit.inv };
}

export const TASK_SEARCH_PARAMS = {
  _id: { kind: 'token' },
  _lastUpdated: { kind: 'date' },
  code: { kind: 'token' },
  identifier: { kind: 'token' },
  requester: { kind: 'reference', modifiers: ['identifier'] },
  'business-status': { kind: 'token' },
  patient: { kind: 'reference', modifiers: ['identifier'] },
  owner: { kind: 'reference', modifiers: ['identifier'] },
  status: { kind: 'token' },
  'part-of': { kind: 'reference' },
} as const;

const INITIATIVE_ONLY = new Set(['identifier', 'requester', 'business-status', 'patient']);
const INVITATION_ONLY = new Set(['owner', 'status', 'part-of']);

/** Which Task kind a search is about: `code`, or the parameters that only one kind has. */
export function searchKind(search: ParsedSearch): 'sip-initiative' | 'sip-invitation' {
  const codes = search.params
    .filter((p) => p.name === 'code')
    .flatMap((p) => p.values.map((v) => parseToken(v).code));
  const names = search.params.map((p) => p.name);
  const wantsInitiative = names.some((n) => INITIATIVE_ONLY.has(n));
  const wantsInvitation = names.some((n) => INVITATION_ONLY.has(n));
  const unknownCode = codes.find((c) => c !== 'sip-initiative' && c !== 'sip-invitation');
  if (unknownCode)
    throw new InvalidRequest(
      'invalid-search',
      `code=${unknownCode} is not a Samsyn Task code (sip-initiative, sip-invitation)`,
    );
  const kinds = new Set(codes);
  if (kinds.size > 1)
    throw new InvalidRequest(
      'invalid-search',
      'Search one Task code at a time: sip-initiative or sip-invitation',
    );
  const kind = [...kinds][0] ?? (wantsInvitation ? 'sip-invitation' : 'sip-initiative');
  if ((kind === 'sip-initiative' && wantsInvitation) || (kind === 'sip-invitation' && wantsInitiative)) {
    throw new InvalidRequest(
      'invalid-search',
      'owner, status and part-of search invitations; identifier, requester, business-status and patient search initiatives; do not mix them',
    );
  }
  return kind as 'sip-initiative' | 'sip-invitation';
}

function hsaValue(value: string): string {
  return parseToken(value.replace(/^Organization\?identifier=/, '')).code;
}

function dateCondition(column: PgColumn, name: string, value: string): SQL {
  const d = parseDateParam(name, value);
  switch (d.prefix) {
    case 'eq':
    case 'ap':
      return and(gte(column, d.start), lte(column, d.end)) as SQL;
    case 'ne':
      return or(lt(column, d.start), gt(column, d.end)) as SQL;
    case 'lt':
    case 'eb':
      return lt(column, d.start);
    case 'le':
      return lte(column, d.end);
    case 'gt':
    case 'sa':
      return gt(column, d.end);
    case 'ge':
      return gte(column, d.start);
  }
}

function anyOf(conditions: (SQL | undefined)[]): SQL {
  return (or(...conditions) ?? sql`false`) as SQL;
}

export async function searchTasks(db: Db, search: ParsedSearch, viewerOrg: string) {
  return searchKind(search) === 'sip-invitation'
    ? searchInvitations(db, search, viewerOrg)
    : searchInitiatives(db, search, viewerOrg);
}

async function searchInitiatives(db: Db, search: ParsedSearch, viewerOrg: string) {
  const conditions: SQL[] = [visibleTo(viewerOrg) as SQL];
  for (const p of search.params) {
    if (p.name === 'identifier') {
      conditions.push(
        anyOf(
          p.values
            .map(parseToken)
            .map((t) =>
              t.system
                ? and(eq(cases.identifierSystem, t.system), eq(cases.identifierValue, t.code))
                : eq(cases.identifierValue, t.code),
            ),
        ),
      );
    } else if (p.name === '_id') {
      const ids = p.values.filter((v) => UUID_RE.test(v));
      conditions.push(ids.length > 0 ? inArray(cases.id, ids) : sql`false`);
    } else if (p.name === 'requester') {
      conditions.push(inArray(cases.requesterOrg, p.values.map(hsaValue)));
    } else if (p.name === 'business-status') {
      conditions.push(
        inArray(
          cases.status,
          p.values.map((v) => parseToken(v).code),
        ),
      );
    } else if (p.name === 'patient') {
      // The person is searched by identifier; only the initiator may (others would learn who is in a case).
      conditions.push(eq(cases.requesterOrg, viewerOrg));
      conditions.push(
        anyOf(
          p.values
            .map((v) => parseToken(v.replace(/^Patient\?identifier=/, '')))
            .map((t) =>
              t.system
                ? and(eq(cases.patientIdSystem, t.system), eq(cases.patientIdValue, t.code))
                : eq(cases.patientIdValue, t.code),
            ),
        ),
      );
    } else if (p.name === '_lastUpdated') {
      conditions.push(anyOf(p.values.map((v) => dateCondition(cases.lastUpdated, p.name, v))));
    }
  }
  const where = and(...conditions);
  const [[countRow], rows] = await Promise.all([
    db.select({ n: sql<number>`count(*)::int` }).from(cases).where(where),
    db
      .select()
      .from(cases)
      .where(where)
      .orderBy(desc(cases.lastUpdated), desc(cases.id))
      .limit(search.count)
      .offset(search.offset),
  ]);
  const ids = rows.map((r) => r.id);
  // The page's invitations and consent coverage: two queries for the page, not one per case.
  const [invs, covered] = await Promise.all([
    ids.length > 0 ? db.select().from(invitations).where(inArray(invitations.caseId, ids)) : [],
    coveredOrgsByCase(db, ids),
  ]);
  const coveredOf = (r: CaseRow) => covered.get(r.id) ?? new Set<string>();
  return {
    /** Whether each row's person was shown to the viewer (those reads go to the access log). */
    personShown: rows.map((r) => r.requesterOrg === viewerOrg || coveredOf(r).has(viewerOrg)),
    resources: rows.map((r) =>
      initiativeTask(
        r,
        invs.filter((inv) => inv.caseId === r.id),
        viewerOrg,
        coveredOf(r),
      ),
    ),
    rows,
    total: countRow?.n ?? 0,
  };
}

async function searchInvitations(db: Db, search: ParsedSearch, viewerOrg: string) {
  const conditions: SQL[] = [or(eq(invitations.org, viewerOrg), eq(cases.requesterOrg, viewerOrg)) as SQL];
  for (const p of search.params) {
    if (p.name === 'owner') conditions.push(inArray(invitations.org, p.values.map(hsaValue)));
    else if (p.name === 'status')
      conditions.push(
        inArray(
          invitations.status,
          p.values.map((v) => parseToken(v).code),
        ),
      );
    else if (p.name === 'part-of') {
      const ids = p.values.map((v) => v.replace(/^Task\//, '')).filter((v) => UUID_RE.test(v));
      conditions.push(ids.length > 0 ? inArray(invitations.caseId, ids) : sql`false`);
    } else if (p.name === '_id') {
      const ids = p.values.filter((v) => UUID_RE.test(v));
      conditions.push(ids.length > 0 ? inArray(invitations.id, ids) : sql`false`);
    } else if (p.name === '_lastUpdated') {
      conditions.push(anyOf(p.values.map((v) => dateCondition(invitations.lastUpdated, p.name, v))));
    }
  }
  const where = and(...conditions);
  const [countRow] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(invitations)
    .innerJoin(cases, eq(cases.id, invitations.caseId))
    .where(where);
  const rows = await db
    .select({ inv: invitations, row: cases })
    .from(invitations)
    .innerJoin(cases, eq(cases.id, invitations.caseId))
    .where(where)
    .orderBy(desc(invitations.lastUpdated), desc(invitations.id))
    .limit(search.count)
    .offset(search.offset);
  return {
    resources: rows.map((r) => invitationTask(r.inv, r.row)),
    rows: [] as CaseRow[],
    personShown: [] as boolean[],
    total: countRow?.n ?? 0,
  };
}
