// Use case: read a meeting by id or search meetings, seeing only those of the caller's cases (SPEC §7).
import type { Db } from '@samsyn/db';
import {
  type Appointment,
  InvalidRequest,
  isHsaSystem,
  NotFound,
  type ParsedSearch,
  parseDateParam,
  parseToken,
} from '@samsyn/fhir';
import { and, asc, eq, gt, gte, inArray, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import {
  type AppointmentRow,
  appointments,
  type CaseRow,
  cases,
  type InvitationRow,
  invitations,
} from '../db/schema.ts';
import { casesShowingPersonData, caseVisibleTo, meetingParticipants } from './access.ts';
import { UUID_RE } from './load.ts';
import { appointmentResource } from './meeting.ts';

export interface AppointmentHit {
  resource: Appointment;
  meeting: AppointmentRow;
  row: CaseRow;
}

export async function readAppointment(db: Db, id: string, viewerOrg: string): Promise<AppointmentHit> {
  if (!UUID_RE.test(id)) throw new NotFound('Appointment', id);
  const [hit] = await db
    .select({ meeting: appointments, row: cases })
    .from(appointments)
    .innerJoin(cases, eq(cases.id, appointments.caseId))
    .where(and(eq(appointments.id, id), caseVisibleTo(viewerOrg)))
    .limit(1);
  // A meeting of someone else's case answers exactly like a missing one.
  if (!hit) throw new NotFound('Appointment', id);
  const [rendered] = await render(db, [hit], viewerOrg);
  return rendered as AppointmentHit;
}

export const APPOINTMENT_SEARCH_PARAMS = {
  _id: { kind: 'token' },
  _lastUpdated: { kind: 'date' },
  'supporting-info': { kind: 'reference' },
  actor: { kind: 'reference', modifiers: ['identifier'] },
  date: { kind: 'date' },
  status: { kind: 'token' },
} as const;

export async function searchAppointments(
  db: Db,
  search: ParsedSearch,
  viewerOrg: string,
): Promise<{ hits: AppointmentHit[]; total: number }> {
  const conditions: SQL[] = [caseVisibleTo(viewerOrg) as SQL];
  for (const p of search.params) {
    switch (p.name) {
      case '_id':
        conditions.push(
          inList(
            appointments.id,
            p.values.filter((v) => UUID_RE.test(v)),
          ),
        );
        break;
      case 'supporting-info': {
        const ids = p.values
          .map((v) => /^(?:.*\/)?Task\/([^/]+)$/.exec(v)?.[1] ?? v)
          .filter((v) => UUID_RE.test(v));
        conditions.push(inList(appointments.caseId, ids));
        break;
      }
      case 'actor':
        conditions.push(anyOf(p.values.map((v) => takesPart(actorOrg(v, p.modifier)))));
        break;
      case 'date':
        conditions.push(anyOf(p.values.map((v) => dateCondition(appointments.start, p.name, v))));
        break;
      case '_lastUpdated':
        conditions.push(anyOf(p.values.map((v) => dateCondition(appointments.lastUpdated, p.name, v))));
        break;
      case 'status':
        conditions.push(
          inList(
            appointments.status,
            p.values.map((v) => parseToken(v).code),
          ),
        );
        break;
    }
  }
  const where = and(...conditions);
  const [count] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(appointments)
    .innerJoin(cases, eq(cases.id, appointments.caseId))
    .where(where);
  const found = await db
    .select({ meeting: appointments, row: cases })
    .from(appointments)
    .innerJoin(cases, eq(cases.id, appointments.caseId))
    .where(where)
    .orderBy(asc(appointments.start), asc(appointments.id))
    .limit(search.count)
    .offset(search.offset);
  return { hits: await render(db, found, viewerOrg), total: count?.n ?? 0 };
}

async function render(
  db: Db,
  found: { meeting: AppointmentRow; row: CaseRow }[],
  viewerOrg: string,
): Promise<AppointmentHit[]> {
  if (found.length === 0) return [];
  const caseIds = [...new Set(found.map((f) => f.row.id))];
  const [list, shown] = await Promise.all([
    db.select().from(invitations).where(inArray(invitations.caseId, caseIds)),
    casesShowingPersonData(
      db,
      found.map((f) => f.row),
      viewerOrg,
    ),
  ]);
  const byCase = new Map<string, InvitationRow[]>();
  for (const inv of list) byCase.set(inv.caseId, [...(byCase.get(inv.caseId) ?? []), inv]);
  return found.map(({ meeting, row }) => {
    const current =
      meeting.status === 'booked'
        ? {
            ...meeting,
            participants: meetingParticipants(meeting.participants, row, byCase.get(row.id) ?? []),
          }
        : meeting;
    return { resource: appointmentResource(current, shown.has(row.id)), meeting: current, row };
  });
}

/** `actor:identifier=[system|]SE…` or `actor=SE…` (an HSA-id; organisations are not Appointment actors in R4). */
function actorOrg(value: string, modifier: string | undefined): string {
  const token = parseToken(value);
  if (modifier === 'identifier' && token.system && !isHsaSystem(token.system)) {
    throw new InvalidRequest(
      'invalid-search',
      `actor:identifier=${value}: organisations are searched by HSA-id`,
    );
  }
  if (modifier !== 'identifier' && value.includes('/')) {
    throw new InvalidRequest(
      'invalid-search',
      `actor=${value}: search participating organisations by HSA-id, e.g. actor:identifier=urn:oid:1.2.752.29.4.19|SE2120000415-2001`,
    );
  }
  return token.code;
}

/** The unit takes part: recorded on the meeting, or (while booked) the initiator or an open invitation. */
function takesPart(org: string): SQL {
  return sql`(
    (${appointments.status} <> 'booked' and ${appointments.participants} @> ${JSON.stringify([{ org }])}::jsonb)
    or (${appointments.status} = 'booked' and (
      ${cases.requesterOrg} = ${org}
      or exists (select 1 from ${invitations} where ${invitations.caseId} = ${cases.id}
        and ${invitations.org} = ${org} and ${invitations.status} in ('requested', 'accepted'))
    ))
  )`;
}

function inList(column: PgColumn, values: string[]): SQL {
  return values.length > 0 ? inArray(column, values) : sql`false`;
}

function anyOf(conditions: SQL[]): SQL {
  return (or(...conditions) ?? sql`false`) as SQL;
}

/** A FHIR date search value (with its prefix) on an instant column. */
export function dateCondition(column: PgColumn, name: string, value: string): SQL {
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
