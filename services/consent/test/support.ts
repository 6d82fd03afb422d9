// Test helpers: feed the case projection with CloudEvents as the invitation service would, and read published events.
import { randomUUID } from 'node:crypto';
import { type EventName, type EventPayload, events, toHeaders } from '@samsyn/contracts';
import type { Bundle, Resource } from '@samsyn/fhir';
import { eventually, type Harness, ORGS } from '@samsyn/testkit';
import { and, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { caseInvitees, cases } from '../src/db/schema.ts';

export async function publish<N extends EventName>(
  h: Harness,
  name: N,
  data: EventPayload<N>,
  id = randomUUID(),
) {
  const def = events[name];
  const headers = toHeaders({
    id,
    type: def.type,
    source: '/samsyn/invitation',
    time: new Date().toISOString(),
    subject: 'caseId' in data ? String(data.caseId) : id,
  });
  await h.bus.publishRaw(def.subject, new TextEncoder().encode(JSON.stringify(data)), headers);
}

export interface TestCase {
  caseId: string;
  invitations: { invitationId: string; org: string }[];
}

/** Publishes sip.case.initiated and waits until the consent service knows the case and its invitees. */
export async function initiateCase(
  h: Harness,
  requesterOrg: string = ORGS.regionWard,
  invited: string[] = [ORGS.municipalityHomeCare, ORGS.municipalitySocial],
): Promise<TestCase> {
  const caseId = randomUUID();
  const invitations = invited.map((org) => ({ invitationId: randomUUID(), org }));
  await publish(h, 'caseInitiated', {
    caseId,
    requesterOrg,
    trigger: 'other',
    initiatedAt: new Date().toISOString(),
    person: { ageBand: 'adult' },
    invitations: invitations.map((i) => ({ ...i, kind: 'invited' as const })),
  });
  await eventually(
    async () => {
      const [row] = await h.database.db.select().from(cases).where(eq(cases.id, caseId));
      const invitees = await h.database.db.select().from(caseInvitees).where(eq(caseInvitees.caseId, caseId));
      return row && invitees.length === invited.length ? true : undefined;
    },
    5000,
    `case ${caseId} projected`,
  );
  return { caseId, invitations };
}

/** Waits until the invitee of `invitationId` is `org`. */
export async function waitForInvitee(h: Harness, invitationId: string, org: string): Promise<void> {
  await eventually(
    async () => {
      const rows = await h.database.db
        .select()
        .from(caseInvitees)
        .where(and(eq(caseInvitees.invitationId, invitationId), eq(caseInvitees.org, org)));
      return rows.length > 0 ? true : undefined;
    },
    5000,
    `invitation ${invitationId} owned by ${org}`,
  );
}

export interface PublishedEvent {
  subject: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** Every message published on `subject` in `stream`, oldest first. */
export async function published(
  h: Harness,
  stream: 'CONSENT' | 'AUDIT',
  subject: string,
): Promise<PublishedEvent[]> {
  const name = h.bus.naming.stream(stream);
  const info = await h.bus.jsm.streams.info(name);
  const found: PublishedEvent[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await h.bus.jsm.streams.getMessage(name, { seq }).catch(() => undefined);
    if (!msg || h.bus.naming.unprefix(msg.subject) !== subject) continue;
    const headers: Record<string, string> = {};
    for (const [k, v] of msg.header ?? []) headers[k] = v[0] ?? '';
    found.push({ subject, headers, body: JSON.parse(new TextDecoder().decode(msg.data)) });
  }
  return found;
}

/** Waits for the event on `subject` that `match` picks. */
export function awaitEvent(
  h: Harness,
  stream: 'CONSENT' | 'AUDIT',
  subject: string,
  match: (body: Record<string, unknown>) => boolean,
): Promise<PublishedEvent> {
  return eventually(
    async () => (await published(h, stream, subject)).find((e) => match(e.body)),
    5000,
    `${subject} published`,
  );
}

export async function json<T>(res: Response, status: number): Promise<T> {
  const body = await res.text();
  expect(res.status, body).toBe(status);
  return JSON.parse(body) as T;
}

export function entries<T extends Resource>(bundle: Bundle): T[] {
  return (bundle.entry ?? []).map((e) => e.resource as T);
}
