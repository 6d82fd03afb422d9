// Use case: a unit reads and searches its own notifications; nobody else's exist for it (SPEC §7).
import type { Db } from '@samsyn/db';
import {
  type Communication,
  HSA_SYSTEM,
  InvalidRequest,
  isHsaSystem,
  NOTIFICATION_TYPE_SYSTEM,
  NotFound,
  type ParsedSearch,
  parseDateParam,
  parseToken,
} from '@samsyn/fhir';
import { and, desc, eq, gt, gte, inArray, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import { type CommunicationRow, communications } from '../db/schema.ts';
import { NOTIFICATION_TYPE_CODES, NOTIFICATION_TYPES, type NotificationType } from '../notify/rules.ts';

export const SAMSYN_SD = 'https://samsyn.se/fhir/StructureDefinition';
/** Where the notification is in the unit's inbox: unread → read → done. */
export const INBOX_STATE_EXTENSION = `${SAMSYN_SD}/inbox-state`;
/** How its e-mails went: pending, sent or failed (absent when nobody asked for e-mail). */
export const EMAIL_STATE_EXTENSION = `${SAMSYN_SD}/email-delivery`;
export const INBOX_STATES = ['unread', 'read', 'done'] as const;
export type InboxState = (typeof INBOX_STATES)[number];

export function toCommunication(row: CommunicationRow, origin?: string): Communication {
  const type = row.category as NotificationType;
  const recipients: NonNullable<Communication['recipient']> = [
    { type: 'Organization', identifier: { system: HSA_SYSTEM, value: row.recipientOrg } },
  ];
  if (row.recipientUser)
    recipients.push({ type: 'Practitioner', identifier: { system: HSA_SYSTEM, value: row.recipientUser } });
  const about = [{ reference: row.about }];
  if (row.about !== `Task/${row.caseId}`) about.push({ reference: `Task/${row.caseId}` });
  return {
    resourceType: 'Communication',
    id: row.id,
    meta: { versionId: String(row.versionId), lastUpdated: row.lastUpdated.toISOString() },
    extension: [
      { url: INBOX_STATE_EXTENSION, valueCode: row.inboxState },
      ...(row.emailState ? [{ url: EMAIL_STATE_EXTENSION, valueCode: row.emailState }] : []),
    ],
    status: 'completed',
    category: [
      {
        coding: [
          {
            system: NOTIFICATION_TYPE_SYSTEM,
            code: row.category,
            ...(NOTIFICATION_TYPES[type] ? { display: NOTIFICATION_TYPES[type] } : {}),
          },
        ],
      },
    ],
    priority: row.priority as Communication['priority'],
    about,
    sent: row.sentAt.toISOString(),
    recipient: recipients,
    ...(row.senderOrg
      ? { sender: { type: 'Organization', identifier: { system: HSA_SYSTEM, value: row.senderOrg } } }
      : {}),
    payload: [
      { contentString: row.text },
      ...(row.link
        ? [
            {
              contentAttachment: { url: origin ? `${origin}${row.link}` : row.link, title: 'Öppna i Samsyn' },
            },
          ]
        : []),
    ],
  };
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function findOwnRow(db: Db, id: string, viewerOrg: string): Promise<CommunicationRow> {
  if (!UUID_RE.test(id)) throw new NotFound('Communication', id);
  const [row] = await db
    .select()
    .from(communications)
    .where(and(eq(communications.id, id), eq(communications.recipientOrg, viewerOrg)))
    .limit(1);
  if (!row) throw new NotFound('Communication', id);
  return row;
}

export async function readCommunication(
  db: Db,
  id: string,
  viewerOrg: string,
  origin?: string,
): Promise<Communication> {
  return toCommunication(await findOwnRow(db, id, viewerOrg), origin);
}

export const COMMUNICATION_SEARCH_PARAMS = {
  recipient: { kind: 'reference', modifiers: ['identifier'] },
  category: { kind: 'token' },
  status: { kind: 'token' },
  about: { kind: 'reference' },
  sent: { kind: 'date' },
  _id: { kind: 'token' },
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

function inboxState(value: string): InboxState {
  const code = parseToken(value).code;
  if (!(INBOX_STATES as readonly string[]).includes(code)) {
    throw new InvalidRequest(
      'invalid-search',
      `status=${value}: the inbox state is one of ${INBOX_STATES.join(', ')}`,
    );
  }
  return code as InboxState;
}

function category(value: string): string {
  const token = parseToken(value);
  if (token.system !== undefined && token.system !== NOTIFICATION_TYPE_SYSTEM) {
    throw new InvalidRequest(
      'invalid-search',
      `category=${value}: the system must be ${NOTIFICATION_TYPE_SYSTEM}`,
    );
  }
  if (!(NOTIFICATION_TYPE_CODES as string[]).includes(token.code)) {
    throw new InvalidRequest(
      'invalid-search',
      `category=${value} is not a notification type; known: ${NOTIFICATION_TYPE_CODES.join(', ')}`,
    );
  }
  return token.code;
}

function aboutCondition(value: string): SQL {
  const ref = value.replace(/^https?:\/\/[^/]+\/fhir\//, '');
  if (!/^(Task|Appointment|CarePlan|Consent|Flag)\/[0-9a-f-]{36}$/i.test(ref)) {
    throw new InvalidRequest(
      'invalid-search',
      `about=${value}: give a reference such as Task/<id> (a case or invitation), Appointment/<id> or CarePlan/<id>`,
    );
  }
  const [type, id = ''] = ref.split('/');
  const conditions: SQL[] = [eq(communications.about, ref)];
  if (type === 'Task') conditions.push(eq(communications.caseId, id));
  return or(...conditions) as SQL;
}

function dateCondition(value: string): SQL {
  const d = parseDateParam('sent', value);
  const col = communications.sentAt;
  switch (d.prefix) {
    case 'gt':
    case 'sa':
      return gt(col, d.end);
    case 'ge':
      return gte(col, d.start);
    case 'lt':
    case 'eb':
      return lt(col, d.start);
    case 'le':
      return lte(col, d.end);
    case 'ne':
      return or(lt(col, d.start), gt(col, d.end)) as SQL;
    default:
      return and(gte(col, d.start), lte(col, d.end)) as SQL;
  }
}

export async function searchCommunications(db: Db, search: ParsedSearch, viewerOrg: string, origin?: string) {
  // Only the caller's own notifications are ever candidates; a recipient filter can narrow, never widen.
  const conditions: SQL[] = [eq(communications.recipientOrg, viewerOrg)];
  for (const p of search.params) {
    if (p.name === 'recipient') {
      conditions.push(inArray(communications.recipientOrg, p.values.map(recipientOrg)));
    } else if (p.name === 'category') {
      conditions.push(inArray(communications.category, p.values.map(category)));
    } else if (p.name === 'status') {
      conditions.push(inArray(communications.inboxState, p.values.map(inboxState)));
    } else if (p.name === 'about') {
      conditions.push(or(...p.values.map(aboutCondition)) as SQL);
    } else if (p.name === 'sent') {
      conditions.push(or(...p.values.map(dateCondition)) as SQL);
    } else if (p.name === '_id') {
      const ids = p.values.filter((v) => UUID_RE.test(v));
      conditions.push(ids.length > 0 ? inArray(communications.id, ids) : sql`false`);
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
  return { resources: rows.map((r) => toCommunication(r, origin)), total: count?.n ?? 0 };
}
