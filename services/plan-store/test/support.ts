// Test helpers: feed plan-store the case and consent events as invitation and consent would, build SIP plans,
// and read what plan-store published.
import { randomUUID } from 'node:crypto';
import { type EventName, type EventPayload, events, toHeaders } from '@samsyn/contracts';
import type { Bundle, CarePlan, Resource } from '@samsyn/fhir';
import { assertValidFhir, eventually, type Harness, ORGS } from '@samsyn/testkit';
import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { caseConsents, caseInvitees, cases } from '../src/db/schema.ts';

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
    source: def.stream === 'CONSENT' ? '/samsyn/consent' : '/samsyn/invitation',
    time: new Date().toISOString(),
    subject: 'caseId' in data ? String(data.caseId) : id,
  });
  await h.bus.publishRaw(def.subject, new TextEncoder().encode(JSON.stringify(data)), headers);
}

export interface TestCase {
  caseId: string;
  consentId: string;
}

/**
 * A case initiated by the region ward, inviting the municipal home-care and social units, with the person's
 * consent covering `covered`; waits until plan-store has projected both.
 */
export async function consentedCase(
  h: Harness,
  covered: string[] = [ORGS.regionWard, ORGS.municipalityHomeCare, ORGS.municipalitySocial],
): Promise<TestCase> {
  const caseId = randomUUID();
  const consentId = randomUUID();
  const now = new Date();
  await publish(h, 'caseInitiated', {
    caseId,
    requesterOrg: ORGS.regionWard,
    trigger: 'discharge',
    initiatedAt: now.toISOString(),
    person: { ageBand: 'adult' },
    invitations: [
      { invitationId: randomUUID(), org: ORGS.municipalityHomeCare, kind: 'summoned' },
      { invitationId: randomUUID(), org: ORGS.municipalitySocial, kind: 'invited' },
    ],
  });
  await publish(h, 'consentGiven', {
    consentId,
    caseId,
    at: now.toISOString(),
    coveredOrgs: covered,
    periodStart: new Date(now.getTime() - 60_000).toISOString(),
    grantor: 'person',
  });
  await eventually(
    async () => {
      const [c] = await h.database.db.select().from(cases).where(eq(cases.id, caseId));
      const inv = await h.database.db.select().from(caseInvitees).where(eq(caseInvitees.caseId, caseId));
      const [consent] = await h.database.db
        .select()
        .from(caseConsents)
        .where(eq(caseConsents.consentId, consentId));
      return c && inv.length === 2 && consent ? true : undefined;
    },
    8000,
    `case ${caseId} and its consent projected`,
  );
  return { caseId, consentId };
}

export { daysFromNow, OTHER_ACTOR, sipCarePlan as sipPlan } from '@samsyn/testkit';

export async function json<T>(res: Response, status: number): Promise<T> {
  const body = await res.text();
  expect(res.status, body).toBe(status);
  return JSON.parse(body) as T;
}

/** Parses a FHIR JSON answer, checks its status and that it is valid FHIR R4. */
export async function fhir<T>(res: Response, status: number): Promise<T> {
  const body = await json<T>(res, status);
  assertValidFhir(body);
  return body;
}

/** POSTs a CarePlan as the initiating ward and returns what was stored (201, valid FHIR R4). */
export async function createPlan(h: Harness, body: unknown): Promise<CarePlan> {
  return fhir<CarePlan>(
    await h.request('/fhir/CarePlan', { method: 'POST', org: ORGS.regionWard, body: JSON.stringify(body) }),
    201,
  );
}

export function entries<T extends Resource>(bundle: Bundle): T[] {
  return (bundle.entry ?? []).map((e) => e.resource as T);
}

export interface PublishedEvent {
  subject: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** Every message published on `subject` in `stream`, oldest first. */
export async function published(
  h: Harness,
  stream: 'PLAN' | 'AUDIT',
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

export function awaitEvent(
  h: Harness,
  stream: 'PLAN' | 'AUDIT',
  subject: string,
  match: (body: Record<string, unknown>) => boolean,
  timeoutMs = 8000,
): Promise<PublishedEvent> {
  return eventually(
    async () => (await published(h, stream, subject)).find((e) => match(e.body)),
    timeoutMs,
    `${subject} published`,
  );
}
