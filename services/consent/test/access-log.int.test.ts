// The Patientdatalagen access log against real PostgreSQL and NATS: every Consent access becomes an AuditEvent that
// its own principal can review per person, user, unit and time — and nobody else can.
import { randomUUID } from 'node:crypto';
import type { AuditEvent, Bundle, Consent, OperationOutcome } from '@samsyn/fhir';
import { assertValidFhir, eventually, type Harness, ORGS, startHarness } from '@samsyn/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../src/db/schema.ts';
import { createConsentService } from '../src/service.ts';
import { PEOPLE, sipConsent } from './fixtures.ts';
import { entries, initiateCase, json, publish } from './support.ts';

const PNR = 'http://electronichealth.se/identifier/personnummer';
const PERSON = `${PNR}|${PEOPLE.adult}`;
const USERS = {
  /** A nurse on the region ward that initiated the case. */
  nurse: { org: ORGS.regionWard, claims: { user: 'SE2321000032-U1', name: 'Sara Sjuksköterska' } },
  /** A case worker in municipal home care, invited to the case. */
  caseWorker: {
    org: ORGS.municipalityHomeCare,
    claims: { user: 'SE2120000415-U2', name: 'Kim Handläggare' },
  },
  /** Someone at another region who takes no part in the case. */
  stranger: { org: ORGS.outsider, claims: { user: 'SE2321000099-U9' } },
  /** A log reviewer at the municipality (same principal as home care, another unit). */
  municipalReviewer: { org: ORGS.municipalitySocial, claims: { user: 'SE2120000415-R1' } },
};

let h: Harness;
let caseId: string;
let consent: Consent;
let createdAt: string;

beforeAll(async () => {
  h = await startHarness({ label: 'consentaudit', factories: [createConsentService] });
  ({ caseId } = await initiateCase(h));
  const res = await h.request('/fhir/Consent', {
    method: 'POST',
    ...USERS.nurse,
    body: JSON.stringify(sipConsent({ caseId })),
  });
  expect(res.status).toBe(201);
  consent = (await res.json()) as Consent;
  createdAt = consent.meta?.lastUpdated as string;
  expect((await h.request(`/fhir/Consent/${consent.id}`, USERS.caseWorker)).status).toBe(200);
  expect((await h.request(`/fhir/Consent/${consent.id}`, USERS.stranger)).status).toBe(404);
});
afterAll(async () => h?.stop());

async function review(user: (typeof USERS)[keyof typeof USERS], query: string): Promise<AuditEvent[]> {
  const bundle = await json<Bundle>(await h.request(`/fhir/AuditEvent?${query}`, user), 200);
  return entries<AuditEvent>(bundle);
}

/** Waits until a review by `user` shows an entry that `match` picks. */
function reviewUntil(
  user: (typeof USERS)[keyof typeof USERS],
  query: string,
  match: (e: AuditEvent) => boolean,
): Promise<AuditEvent[]> {
  return eventually(
    async () => {
      const found = await review(user, query);
      return found.some(match) ? found : undefined;
    },
    8000,
    `AuditEvent?${query} for ${user.claims.user}`,
  );
}

const by = (user: string) => (e: AuditEvent) => e.agent[0]?.who?.identifier?.value === user;
const about = (reference: string) => (e: AuditEvent) =>
  e.entity?.some((x) => x.what?.reference === reference) ?? false;

describe('the access log of Consent', () => {
  it('logs the creation as an AuditEvent the creating principal finds by the personnummer', async () => {
    const found = await reviewUntil(USERS.nurse, `patient=${PERSON}`, (e) => e.action === 'C');
    const created = found.find((e) => e.action === 'C') as AuditEvent;
    assertValidFhir(created);
    expect(created.subtype?.[0]?.code).toBe('create');
    expect(created.outcome).toBe('0');
    expect(created.agent[0]).toMatchObject({
      who: { identifier: { system: 'urn:oid:1.2.752.29.4.19', value: 'SE2321000032-U1' } },
      name: 'Sara Sjuksköterska',
      requestor: true,
    });
    expect(created.agent[1]?.who?.identifier?.value).toBe(ORGS.regionWard);
    expect(created.source.observer.display).toBe('Samsyn consent');
    expect(about(`Consent/${consent.id}`)(created)).toBe(true);
    expect(about(`Task/${caseId}`)(created)).toBe(true);
    const person = created.entity?.find((x) => x.type?.code === '1');
    expect(person?.what?.identifier?.system).toBe('https://samsyn.se/fhir/sid/patient-key');
    // The reviewer searched by the personnummer, so it is shown beside the pseudonym.
    expect(person?.detail).toEqual([{ type: PNR, valueString: PEOPLE.adult }]);
  });

  it("shows each principal only its own units' entries", async () => {
    // The municipality's reviewer sees the home-care unit's read, not the region's create.
    const municipal = await reviewUntil(USERS.municipalReviewer, `patient=${PERSON}`, by('SE2120000415-U2'));
    expect(municipal.find(by('SE2120000415-U2'))?.action).toBe('R');
    expect(municipal.some(by('SE2321000032-U1'))).toBe(false);
    // The region sees none of the municipality's entries, however it asks.
    const region = await review(USERS.nurse, 'agent=SE2120000415-U2');
    expect(region).toHaveLength(0);
    const regionAll = await review(USERS.nurse, `patient=${PERSON}&_count=1000`);
    expect(regionAll.every((e) => e.agent[1]?.who?.identifier?.value?.startsWith('SE2321000032-'))).toBe(
      true,
    );
  });

  it('logs a denied read with outcome 4, in the log of the principal that tried', async () => {
    const found = await reviewUntil(USERS.stranger, 'agent=SE2321000099-U9', (e) => e.outcome === '4');
    const denied = found.find((e) => e.outcome === '4') as AuditEvent;
    assertValidFhir(denied);
    expect(denied.subtype?.[0]?.code).toBe('read');
    expect(about(`Consent/${consent.id}`)(denied)).toBe(true);
  });

  it("finds entries by the user's HSA-id and by the unit's", async () => {
    const byUser = await reviewUntil(USERS.nurse, 'agent=SE2321000032-U1', about(`Consent/${consent.id}`));
    const byUnit = await review(USERS.nurse, `agent=urn:oid:1.2.752.29.4.19|${ORGS.regionWard}&_count=1000`);
    expect(byUnit.map((e) => e.id)).toEqual(expect.arrayContaining(byUser.map((e) => e.id)));
  });

  it('filters by date with ge, le, gt and lt', async () => {
    await reviewUntil(USERS.nurse, `patient=${PERSON}`, (e) => e.action === 'C');
    const before = new Date(Date.parse(createdAt) - 60_000).toISOString();
    const ge = await review(USERS.nurse, `patient=${PERSON}&date=${encodeURIComponent(`ge${before}`)}`);
    expect(ge.some((e) => e.action === 'C')).toBe(true);
    const lt = await review(USERS.nurse, `patient=${PERSON}&date=${encodeURIComponent(`lt${before}`)}`);
    expect(lt).toHaveLength(0);
    const window = await review(
      USERS.nurse,
      `date=${encodeURIComponent(`gt${before}`)}&date=${encodeURIComponent(`le${new Date(Date.now() + 60_000).toISOString()}`)}`,
    );
    expect(window.some((e) => e.action === 'C')).toBe(true);
  });

  it('lists newest first and pages with next links', async () => {
    // A user whose entries nobody adds to while paging: three accesses, an hour apart.
    const user = 'SE2321000032-P1';
    const times = ['2026-11-20T08:00:00.000Z', '2026-11-20T10:00:00.000Z', '2026-11-20T09:00:00.000Z'];
    for (const recordedAt of times) {
      await publish(h, 'auditRecorded', {
        auditId: randomUUID(),
        action: 'R',
        interaction: 'read',
        outcome: '0',
        userId: user,
        orgUnit: ORGS.regionWard,
        resource: `Consent/${consent.id}`,
        recordedAt,
        service: 'consent',
      });
    }
    await eventually(async () =>
      (await review(USERS.nurse, `agent=${user}`)).length === 3 ? true : undefined,
    );
    const seen: string[] = [];
    let url: string | undefined = `/fhir/AuditEvent?agent=${user}&_count=1`;
    while (url) {
      const page: Bundle = await json<Bundle>(await h.request(url, USERS.nurse), 200);
      assertValidFhir(page);
      expect(page.total).toBe(3);
      seen.push(...entries<AuditEvent>(page).map((e) => e.recorded));
      url = page.link?.find((l) => l.relation === 'next')?.url?.replace('http://samsyn.test', '');
    }
    expect(seen).toEqual([
      '2026-11-20T10:00:00.000Z',
      '2026-11-20T09:00:00.000Z',
      '2026-11-20T08:00:00.000Z',
    ]);
  });

  it('reads one entry by id; another principal gets 404', async () => {
    const [entry] = await reviewUntil(USERS.nurse, `patient=${PERSON}`, (e) => e.action === 'C');
    const read = await json<AuditEvent>(await h.request(`/fhir/AuditEvent/${entry?.id}`, USERS.nurse), 200);
    expect(read.id).toBe(entry?.id);
    await json(await h.request(`/fhir/AuditEvent/${entry?.id}`, USERS.caseWorker), 404);
  });

  it('logs searches of Consent and reviews of the log with the pseudonym in the query, never the personnummer', async () => {
    await json(await h.request(`/fhir/Consent?patient=${PERSON}`, USERS.caseWorker), 200);
    const found = await reviewUntil(
      USERS.municipalReviewer,
      `patient=${PERSON}`,
      (e) => e.subtype?.[0]?.code === 'search-type' && about(`Consent/${consent.id}`)(e),
    );
    const search = found.find((e) => e.subtype?.[0]?.code === 'search-type') as AuditEvent;
    expect(search.action).toBe('E');
    // Reviewing the log is itself logged against the person.
    await reviewUntil(
      USERS.municipalReviewer,
      `patient=${PERSON}`,
      (e) => e.entity?.some((x) => x.description === 'AuditEvent search') ?? false,
    );
    const stored = await h.database.db.select().from(auditEvents);
    expect(stored.length).toBeGreaterThan(3);
    expect(JSON.stringify(stored)).not.toMatch(/191212121212|19121212-1212|Tolvan/);
    expect(
      stored.filter((r) => r.query?.includes('patient=')).every((r) => r.query?.includes('patient-key|')),
    ).toBe(true);
  });

  it('stores the entries of every service, shown with the service that recorded them', async () => {
    const auditId = randomUUID();
    await publish(h, 'auditRecorded', {
      auditId,
      action: 'R',
      interaction: 'read',
      outcome: '0',
      userId: 'SE2321000032-U7',
      orgUnit: ORGS.regionWard,
      patientKey: 'abcdefghijklmnopqrstuvwxyz012345',
      caseId,
      resource: `Task/${caseId}`,
      recordedAt: new Date().toISOString(),
      service: 'invitation',
    });
    const found = await reviewUntil(USERS.nurse, 'agent=SE2321000032-U7', (e) => e.id === auditId);
    expect(found[0]?.source.observer.display).toBe('Samsyn invitation');
    expect(found[0]?.entity?.[0]?.what?.reference).toBe(`Task/${caseId}`);
    const byKey = await review(
      USERS.nurse,
      'patient=https://samsyn.se/fhir/sid/patient-key|abcdefghijklmnopqrstuvwxyz012345',
    );
    expect(byKey.map((e) => e.id)).toContain(auditId);
  });

  it('answers an unknown search parameter, a bad personnummer and an unsupported date prefix with 400', async () => {
    const unknown = await json<OperationOutcome>(
      await h.request('/fhir/AuditEvent?user=x', USERS.nurse),
      400,
    );
    expect(unknown.issue[0]?.diagnostics).toMatch(
      /Unknown search parameter 'user'; supported: action, agent, date, entity, patient/,
    );
    await json(await h.request(`/fhir/AuditEvent?patient=${PNR}|191212121213`, USERS.nurse), 400);
    await json(await h.request('/fhir/AuditEvent?date=sa2026-01-01', USERS.nurse), 400);
  });

  it('requires the AuditEvent read scope', async () => {
    const res = await h.request('/fhir/AuditEvent', {
      org: ORGS.regionWard,
      claims: { scopes: ['user/Consent.cruds'] },
    });
    expect(res.status).toBe(403);
  });
});
