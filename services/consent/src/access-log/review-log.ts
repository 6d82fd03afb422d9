// Use case: log review (Patientdatalagen) — a care provider reads its own access log, per person, user, unit or time.
import type { Db } from '@samsyn/db';
import {
  type AuditEvent,
  InvalidRequest,
  NotFound,
  PATIENT_KEY_SYSTEM,
  type ParsedSearch,
  readPersonToken,
} from '@samsyn/fhir';
import { type Auditor, type AuthContext, patientKey } from '@samsyn/platform';
import { and, desc, eq, inArray, or, type SQL, sql } from 'drizzle-orm';
import { auditEvents } from '../db/schema.ts';
import { dateCondition } from '../search/date-condition.ts';
import { agentValue, toAuditEvent } from './audit-event.ts';
import { principalOf } from './record-audit.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ACTIONS = ['C', 'R', 'U', 'D', 'E'];

export const AUDIT_EVENT_SEARCH_PARAMS = {
  patient: { kind: 'reference', modifiers: ['identifier'] },
  agent: { kind: 'reference', modifiers: ['identifier'] },
  date: { kind: 'date' },
  action: { kind: 'token' },
  entity: { kind: 'reference' },
} as const;

export interface ReviewContext {
  auth: AuthContext;
  auditor: Auditor;
  patientKeySecret: string;
  traceparent?: string;
}

/** A reviewer sees the entries of every unit of its own principal, and no other (SPEC §3 log review). */
function ownPrincipal(auth: AuthContext): SQL {
  return eq(auditEvents.orgNumber, principalOf(auth.org));
}

export async function readAuditEvent(db: Db, id: string, ctx: ReviewContext): Promise<AuditEvent> {
  if (!UUID_RE.test(id)) throw new NotFound('AuditEvent', id);
  const [row] = await db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.id, id), ownPrincipal(ctx.auth)))
    .limit(1);
  if (!row) throw new NotFound('AuditEvent', id);
  // Reading the log is itself an access to data about the person, so it is logged as well.
  await ctx.auditor.record(db, {
    auth: ctx.auth,
    interaction: 'read',
    ...(row.patientKey ? { patientKey: row.patientKey } : {}),
    resource: `AuditEvent/${id}`,
    ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
  });
  return toAuditEvent(row);
}

export async function searchAuditEvents(
  db: Db,
  search: ParsedSearch,
  ctx: ReviewContext,
): Promise<{ resources: AuditEvent[]; total: number }> {
  const conditions: SQL[] = [ownPrincipal(ctx.auth)];
  // Identifiers the reviewer searched by, by pseudonym: shown beside the pseudonym in the answer.
  const shown = new Map<string, { system: string; value: string }>();
  const loggedQuery: string[] = [];
  for (const p of search.params) {
    if (p.name === 'patient') {
      const keys = p.values.map((v) => {
        const token = readPersonToken('patient', v);
        if (token.kind === 'key') return token.value;
        const key = patientKey(ctx.patientKeySecret, token.system, token.value);
        shown.set(key, { system: token.system, value: token.value });
        return key;
      });
      conditions.push(inArray(auditEvents.patientKey, keys));
      loggedQuery.push(`patient=${keys.map((k) => `${PATIENT_KEY_SYSTEM}|${k}`).join(',')}`);
    } else if (p.name === 'agent') {
      const who = p.values.map(agentValue);
      conditions.push(or(inArray(auditEvents.userId, who), inArray(auditEvents.orgUnit, who)) as SQL);
      loggedQuery.push(`agent=${who.join(',')}`);
    } else if (p.name === 'date') {
      conditions.push(or(...p.values.map((v) => dateCondition(auditEvents.recordedAt, 'date', v))) as SQL);
      loggedQuery.push(`date=${p.values.join(',')}`);
    } else if (p.name === 'action') {
      const codes = p.values.map((v) => v.slice(v.indexOf('|') + 1));
      const unknown = codes.filter((c) => !ACTIONS.includes(c));
      if (unknown.length > 0) {
        throw new InvalidRequest(
          'invalid-search',
          `action=${unknown.join(',')}: an action is one of ${ACTIONS.join(', ')}`,
        );
      }
      conditions.push(inArray(auditEvents.action, codes));
      loggedQuery.push(`action=${codes.join(',')}`);
    } else if (p.name === 'entity') {
      const alternatives = p.values.map((v) => {
        const caseId = /^Task\/([0-9a-f-]{36})$/i.exec(v)?.[1];
        return caseId
          ? or(eq(auditEvents.resource, v), eq(auditEvents.caseId, caseId.toLowerCase()))
          : eq(auditEvents.resource, v);
      });
      conditions.push(or(...alternatives) as SQL);
      loggedQuery.push(`entity=${p.values.join(',')}`);
    }
  }
  const where = and(...conditions);
  const [count] = await db.select({ n: sql<number>`count(*)::int` }).from(auditEvents).where(where);
  const rows = await db
    .select()
    .from(auditEvents)
    .where(where)
    .orderBy(desc(auditEvents.recordedAt), desc(auditEvents.id))
    .limit(search.count)
    .offset(search.offset);
  // One entry per review (not per row shown), naming the person when the review was about one.
  const keys = [...new Set(rows.map((r) => r.patientKey).filter((k): k is string => Boolean(k)))];
  const asked = shown.size === 1 ? [...shown.keys()][0] : undefined;
  const person = asked ?? (keys.length === 1 ? keys[0] : undefined);
  await ctx.auditor.record(db, {
    auth: ctx.auth,
    interaction: 'search-type',
    ...(person ? { patientKey: person } : {}),
    resource: 'AuditEvent',
    query: loggedQuery.join('&') || '(all)',
    ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
  });
  return {
    resources: rows.map((r) => toAuditEvent(r, r.patientKey ? shown.get(r.patientKey) : undefined)),
    total: count?.n ?? 0,
  };
}
