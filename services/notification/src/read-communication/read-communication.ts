// Use case: a unit reads its own notifications; nobody else's exist for it (SPEC §7).
import type { Db } from '@samsyn/db';
import {
  type Communication,
  HSA_SYSTEM,
  InvalidRequest,
  isHsaSystem,
  NOTIFICATION_TYPE_SYSTEM,
  NotFound,
  type ParsedSearch,
  parseToken,
} from '@samsyn/fhir';
import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { type CommunicationRow, communications } from '../db/schema.ts';

export const INBOX_STATE_EXTENSION = 'https://samsyn.se/fhir/StructureDefinition/inbox-state';

export function toCommunication(row: CommunicationRow): Communication {
  return {
    resourceType: 'Communication',
    id: row.id,
    meta: { versionId: String(row.versionId), lastUpdated: row.lastUpdated.toISOString() },
    extension: [{ url: INBOX_STATE_EXTENSION, valueCode: row.inboxState }],
    status: 'completed',
    category: [{ coding: [{ system: NOTIFICATION_TYPE_SYSTEM, code: row.category }] }],
    priority: row.priority as Communication['priority'],
    about: [{ reference: row.about }, { reference: `Task/${row.caseId}` }],
    sent: row.sentAt.toISOString(),
    recipient: [{ identifier: { system: HSA_SYSTEM, value: row.recipientOrg } }],
    ...(row.senderOrg ? { sender: { identifier: { system: HSA_SYSTEM, value: row.senderOrg } } } : {}),
    payload: [{ contentString: row.text }],
  };
}

export async function readCommunication(db: Db, id: string, viewerOrg: string): Promise<Communication> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new NotFound('Communication', id);
  const [row] = await db
    .select()
    .from(communications)
    .where(and(eq(communications.id, id), eq(communications.recipientOrg, viewerOrg)))
    .limit(1);
  if (!row) throw new NotFound('Communication', id);
  return toCommunication(row);
}

export const COMMUNICATION_SEARCH_PARAMS = {
  recipient: { kind: 'reference', modifiers: ['identifier'] },
  category: { kind: 'token' },
} as const;

/** The HSA-id named by a recipient value: `SE…`, `urn:oid:1.2.752.29.4.19|SE…` or `Organization?identifier=…`. */
function recipientOrg(value: string): string {
  const token = parseToken(value.replace(/^Organization\?identifier=/, ''));
  if (token.system !== undefined && !isHsaSystem(token.system)) {
    throw new InvalidRequest(
      'invalid-search',
      `recipient=${value}: the identifier system must be the HSA-id system`,
    );
  }
  return token.code;
}

export async function searchCommunications(db: Db, search: ParsedSearch, viewerOrg: string) {
  // Only the caller's own notifications are ever candidates; a recipient filter can narrow, never widen.
  const conditions: SQL[] = [eq(communications.recipientOrg, viewerOrg)];
  for (const p of search.params) {
    if (p.name === 'recipient') {
      conditions.push(inArray(communications.recipientOrg, p.values.map(recipientOrg)));
    } else if (p.name === 'category') {
      conditions.push(
        inArray(
          communications.category,
          p.values.map((v) => parseToken(v).code),
        ),
      );
    }
  }
  const where = and(...conditions);
  const [count] = await db.select({ n: sql<number>`count(*)::int` }).from(communications).where(where);
  const rows = await db
    .select()
    .from(communications)
    .where(where)
    .orderBy(desc(communications.sentAt), desc(communications.id))
    .limit(search.count)
    .offset(search.offset);
  return { resources: rows.map(toCommunication), total: count?.n ?? 0 };
}
