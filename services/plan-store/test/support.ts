// Test helpers: feed plan-store the case and consent events as invitation and consent would, build SIP plans,
// and read what plan-store published.
import { randomUUID } from 'node:crypto';
import { type EventName, type EventPayload, events, toHeaders } from '@samsyn/contracts';
import type { Bundle, Resource } from '@samsyn/fhir';
import { assertValidFhir, eventually, type Harness, HSA, ORGS, PERSONNUMMER } from '@samsyn/testkit';
import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { caseConsents, caseInvitees, cases } from '../src/db/schema.ts';
import {
  ACTIVITY_ACTOR_EXT,
  ACTIVITY_ACTOR_SYSTEM,
  FOLLOW_UP_EXT,
  TEAM_ROLE_SYSTEM,
} from '../src/plan/codes.ts';

/** A unit outside both principals: a private home-care provider the person also uses. */
export const OTHER_ACTOR = 'SE5565594230-1001';

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

export function daysFromNow(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

const org = (value: string, display: string) => ({
  type: 'Organization',
  identifier: { system: HSA, value },
  display,
});
const actor = (code: string) => ({
  url: ACTIVITY_ACTOR_EXT,
  valueCoding: { system: ACTIVITY_ACTOR_SYSTEM, code },
});
const role = (code: string) => [{ coding: [{ system: TEAM_ROLE_SYSTEM, code }] }];

export interface PlanOptions {
  status?: 'draft' | 'active';
  followUp?: string | null;
  personnummer?: string;
  language?: string;
}

/** A complete SIP plan as a record system would send it: everything the law requires is there. */
export function sipPlan(caseId: string, options: PlanOptions = {}): Record<string, unknown> {
  const followUp = options.followUp === undefined ? daysFromNow(90) : options.followUp;
  return {
    resourceType: 'CarePlan',
    status: options.status ?? 'active',
    intent: 'plan',
    title: 'SIP för Tolvan Tolvansson',
    ...(followUp ? { extension: [{ url: FOLLOW_UP_EXT, valueDate: followUp }] } : {}),
    contained: [
      {
        resourceType: 'Patient',
        id: 'person',
        identifier: [{ system: PERSONNUMMER, value: options.personnummer ?? '191212121212' }],
        name: [{ family: 'Tolvansson', given: ['Tolvan'] }],
        communication: [
          {
            language: { coding: [{ system: 'urn:ietf:bcp:47', code: options.language ?? 'ar' }] },
            preferred: true,
          },
        ],
      },
      {
        resourceType: 'Goal',
        id: 'goal-1',
        lifecycleStatus: 'active',
        description: { text: 'Jag vill kunna bo kvar hemma och laga min egen mat.' },
        subject: { identifier: { system: PERSONNUMMER, value: options.personnummer ?? '191212121212' } },
        expressedBy: { reference: '#person' },
      },
      {
        resourceType: 'Goal',
        id: 'goal-1a',
        lifecycleStatus: 'active',
        description: { text: 'Klara att gå till affären själv inom tre månader.' },
        subject: { identifier: { system: PERSONNUMMER, value: options.personnummer ?? '191212121212' } },
        expressedBy: { reference: '#person' },
        extension: [
          {
            url: 'http://hl7.org/fhir/StructureDefinition/goal-relationship',
            extension: [
              {
                url: 'type',
                valueCodeableConcept: {
                  coding: [{ system: 'http://hl7.org/fhir/goal-relationship-type', code: 'milestone' }],
                },
              },
              { url: 'target', valueReference: { reference: '#goal-1' } },
            ],
          },
        ],
      },
      {
        resourceType: 'CareTeam',
        id: 'team',
        status: 'active',
        participant: [
          { role: role('principal'), member: org(ORGS.regionWard, 'Medicinavdelning 12, Region Exempel') },
          {
            role: role('principal'),
            member: org(ORGS.municipalityHomeCare, 'Hemtjänst Norr, Exempels kommun'),
          },
          { role: role('other-actor'), member: org(OTHER_ACTOR, 'Omsorg AB') },
          {
            role: role('contact-person'),
            member: { type: 'Practitioner', display: 'Anna Andersson, sjuksköterska' },
            onBehalfOf: {
              identifier: { system: HSA, value: ORGS.regionWard },
              display: 'Medicinavdelning 12',
            },
          },
          { role: role('person'), member: { reference: '#person' } },
          { role: role('relative'), member: { type: 'RelatedPerson', display: 'Lisa Tolvansson (dotter)' } },
        ],
      },
    ],
    subject: { identifier: { system: PERSONNUMMER, value: options.personnummer ?? '191212121212' } },
    supportingInfo: [{ reference: `Task/${caseId}`, display: 'SIP-initiativ' }],
    period: { start: new Date().toISOString().slice(0, 10) },
    author: org(ORGS.regionWard, 'Medicinavdelning 12, Region Exempel'),
    careTeam: [{ reference: '#team' }],
    goal: [{ reference: '#goal-1' }, { reference: '#goal-1a' }],
    activity: [
      {
        detail: {
          extension: [actor('principal')],
          kind: 'ServiceRequest',
          code: { text: 'Hemtjänst: hjälp med inköp och matlagning' },
          status: 'scheduled',
          performer: [org(ORGS.municipalityHomeCare, 'Hemtjänst Norr')],
          scheduledPeriod: { start: daysFromNow(1), end: daysFromNow(120) },
          goal: [{ reference: '#goal-1' }],
        },
      },
      {
        detail: {
          extension: [actor('principal')],
          code: { text: 'Rehabilitering: gångträning två gånger i veckan' },
          status: 'scheduled',
          performer: [org(ORGS.regionWard, 'Medicinavdelning 12')],
          scheduledPeriod: { start: daysFromNow(2), end: daysFromNow(90) },
          goal: [{ reference: '#goal-1a' }],
        },
      },
      {
        detail: {
          extension: [actor('other-actor')],
          code: { text: 'Trygghetslarm installeras' },
          status: 'scheduled',
          performer: [org(OTHER_ACTOR, 'Omsorg AB')],
        },
      },
      {
        detail: {
          extension: [actor('person')],
          code: { text: 'Gå en promenad varje dag' },
          status: 'in-progress',
          performer: [{ reference: '#person' }],
        },
      },
    ],
  };
}

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
