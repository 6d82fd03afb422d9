// Consent against real PostgreSQL and NATS: given, refused, read, searched and revoked by the case's participants only.
import type { Bundle, Consent, OperationOutcome } from '@samsyn/fhir';
import { assertValidFhir, eventually, type Harness, ORGS, startHarness } from '@samsyn/testkit';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseInvitees, cases } from '../src/db/schema.ts';
import { createConsentService } from '../src/service.ts';
import { GUARDIANS, PEOPLE, sipConsent } from './fixtures.ts';
import { awaitEvent, entries, initiateCase, json, publish, published, waitForInvitee } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ label: 'consent', factories: [createConsentService] });
});
afterAll(async () => h?.stop());

const PNR = 'http://electronichealth.se/identifier/personnummer';
/** A unit of a principal that takes part in no case here. */
const BYSTANDER = 'SE5555555555-0001';

function post(body: unknown, org: string = ORGS.regionWard) {
  return h.request('/fhir/Consent', { method: 'POST', org, body: JSON.stringify(body) });
}

function put(consent: Consent, ifMatch: string | undefined, org: string = ORGS.regionWard) {
  return h.request(`/fhir/Consent/${consent.id}`, {
    method: 'PUT',
    org,
    headers: ifMatch ? { 'if-match': ifMatch } : {},
    body: JSON.stringify(consent),
  });
}

async function given(
  caseId: string,
  options: Partial<Parameters<typeof sipConsent>[0]> = {},
): Promise<Consent> {
  return json<Consent>(await post(sipConsent({ caseId, ...options })), 201);
}

function diagnostics(outcome: OperationOutcome): string {
  return outcome.issue.map((i) => i.diagnostics).join('\n');
}

describe('POST /fhir/Consent', () => {
  it('records a consent given by the person: 201 with Location and ETag, valid FHIR, and sip.consent.given without the person', async () => {
    const { caseId } = await initiateCase(h);
    const res = await post(sipConsent({ caseId, exclusions: ['Uppgifter om missbruksvård'] }));
    const consent = await json<Consent>(res, 201);
    assertValidFhir(consent);
    expect(res.headers.get('location')).toBe(`http://samsyn.test/fhir/Consent/${consent.id}/_history/1`);
    expect(res.headers.get('etag')).toBe('W/"1"');
    expect(consent.status).toBe('active');
    expect(consent.meta?.versionId).toBe('1');
    expect(consent.provision?.provision?.[0]).toEqual({
      type: 'deny',
      code: [{ text: 'Uppgifter om missbruksvård' }],
    });
    expect(consent.organization?.[0]?.identifier?.value).toBe(ORGS.regionWard);

    const event = await awaitEvent(h, 'CONSENT', 'sip.consent.given', (b) => b.consentId === consent.id);
    expect(event.body).toMatchObject({
      caseId,
      coveredOrgs: [ORGS.regionWard, ORGS.municipalityHomeCare],
      periodStart: '2026-11-20T00:00:00.000Z',
      periodEnd: '2027-11-20T00:00:00.000Z',
      grantor: 'person',
    });
    expect(event.headers['ce-type']).toBe('se.samsyn.consent.given.v1');
    expect(event.headers['ce-subject']).toBe(caseId);
    expect(JSON.stringify(event)).not.toMatch(/191212121212|Tolvan|missbruk/);
  });

  it("records a child's consent given by both registered guardians, as given by the guardians", async () => {
    const { caseId } = await initiateCase(h);
    const consent = await given(caseId, {
      personnummer: PEOPLE.child,
      performers: [GUARDIANS.a, GUARDIANS.b],
      registeredGuardians: 2,
    });
    assertValidFhir(consent);
    const event = await awaitEvent(h, 'CONSENT', 'sip.consent.given', (b) => b.consentId === consent.id);
    expect(event.body.grantor).toBe('guardians');
    expect(JSON.stringify(event)).not.toMatch(new RegExp(`${PEOPLE.child}|${PEOPLE.guardianA}|Andersson`));
  });

  it("refuses a child's consent without the second registered guardian with 422 listing who is missing", async () => {
    const { caseId } = await initiateCase(h);
    const res = await post(
      sipConsent({ caseId, personnummer: PEOPLE.child, performers: [GUARDIANS.a], registeredGuardians: 2 }),
    );
    const outcome = await json<OperationOutcome>(res, 422);
    expect(diagnostics(outcome)).toMatch(
      /both must consent; only Anna Andersson consented. Missing: the second guardian/,
    );
    expect(outcome.issue[0]?.code).toBe('business-rule');
  });

  it('refuses to cover an organisation that takes no part in the case, naming it', async () => {
    const { caseId } = await initiateCase(h);
    const res = await post(sipConsent({ caseId, orgs: [ORGS.municipalityHomeCare, ORGS.outsider] }));
    const outcome = await json<OperationOutcome>(res, 422);
    expect(outcome.issue).toHaveLength(1);
    expect(diagnostics(outcome)).toMatch(new RegExp(`${ORGS.outsider} takes no part in Task/${caseId}`));
  });

  it('answers a personnummer with a wrong check digit with 400', async () => {
    const { caseId } = await initiateCase(h);
    const outcome = await json<OperationOutcome>(
      await post(sipConsent({ caseId, personnummer: '191212121219' })),
      400,
    );
    expect(diagnostics(outcome)).toMatch(
      /Consent.patient.identifier: personnummer 191212121219 has a wrong check digit/,
    );
  });

  it('answers a period on a day the calendar does not have with 400, not 500 (found by the fuzz suite)', async () => {
    const { caseId } = await initiateCase(h);
    for (const periodStart of ['2026-13-45', '2026-02-29', '2026-02-30T10:00:00+01:00']) {
      const outcome = await json<OperationOutcome>(await post(sipConsent({ caseId, periodStart })), 400);
      expect(diagnostics(outcome), periodStart).toMatch(
        /Consent.provision.period.start.*is not a real date and time/,
      );
    }
  });

  it('refuses a unit that takes no part in the case alike for a foreign and an unknown case', async () => {
    const { caseId } = await initiateCase(h);
    const foreign = await json<OperationOutcome>(await post(sipConsent({ caseId }), ORGS.outsider), 403);
    const unknownId = '00000000-0000-4000-8000-000000000000';
    const unknown = await json<OperationOutcome>(
      await post(sipConsent({ caseId: unknownId }), ORGS.outsider),
      403,
    );
    expect(diagnostics(foreign).replace(caseId, 'X')).toBe(diagnostics(unknown).replace(unknownId, 'X'));
  });

  it('lets an invited unit record a refusal, which publishes sip.consent.refused', async () => {
    const { caseId } = await initiateCase(h);
    const refused = await json<Consent>(
      await post(sipConsent({ caseId, status: 'rejected' }), ORGS.municipalitySocial),
      201,
    );
    expect(refused.status).toBe('rejected');
    const event = await awaitEvent(h, 'CONSENT', 'sip.consent.refused', (b) => b.consentId === refused.id);
    expect(event.body).toMatchObject({ caseId, byOrg: ORGS.municipalitySocial });
  });

  it('stores a draft without publishing anything', async () => {
    const { caseId } = await initiateCase(h);
    const draft = await given(caseId, { status: 'draft' });
    // A later consent's event shows the relay has run past the draft.
    const later = await given(caseId);
    await awaitEvent(h, 'CONSENT', 'sip.consent.given', (b) => b.consentId === later.id);
    const all = [
      ...(await published(h, 'CONSENT', 'sip.consent.given')),
      ...(await published(h, 'CONSENT', 'sip.consent.refused')),
    ];
    expect(all.some((e) => e.body.consentId === draft.id)).toBe(false);
  });
});

describe('reading and searching Consent', () => {
  it('lets the initiator and the covered units read it; an uncovered participant and another organisation get 404 as for an unknown id', async () => {
    const { caseId } = await initiateCase(h);
    // Covers the region ward and home care; the social unit takes part but is not covered.
    const consent = await given(caseId);
    for (const org of [ORGS.regionWard, ORGS.municipalityHomeCare]) {
      const read = await json<Consent>(await h.request(`/fhir/Consent/${consent.id}`, { org }), 200);
      expect(read).toEqual(consent);
    }
    const uncovered = await json<OperationOutcome>(
      await h.request(`/fhir/Consent/${consent.id}`, { org: ORGS.municipalitySocial }),
      404,
    );
    expect(JSON.stringify(uncovered)).not.toContain('191212121212');
    const foreign = await json<OperationOutcome>(
      await h.request(`/fhir/Consent/${consent.id}`, { org: ORGS.outsider }),
      404,
    );
    const unknown = await json<OperationOutcome>(
      await h.request('/fhir/Consent/00000000-0000-4000-8000-000000000000', { org: ORGS.outsider }),
      404,
    );
    expect(foreign.issue[0]?.code).toBe(unknown.issue[0]?.code);
  });

  it("finds a person's consents by personnummer, only in cases the caller takes part in", async () => {
    const personnummer = '199001011239';
    const mine = await initiateCase(h);
    const theirs = await initiateCase(h, ORGS.outsider, [ORGS.municipalityOtherUnit]);
    const a = await given(mine.caseId, { personnummer });
    await json(
      await post(sipConsent({ caseId: theirs.caseId, personnummer, orgs: [ORGS.outsider] }), ORGS.outsider),
      201,
    );

    const bundle = await json<Bundle>(
      await h.request(`/fhir/Consent?patient=${PNR}|${personnummer}`, { org: ORGS.regionWard }),
      200,
    );
    assertValidFhir(bundle);
    expect(entries<Consent>(bundle).map((c) => c.id)).toEqual([a.id]);
    expect(bundle.total).toBe(1);
    // The hyphenated form and the :identifier modifier name the same person.
    const hyphen = await json<Bundle>(
      await h.request(`/fhir/Consent?patient:identifier=${PNR}|19900101-1239`, { org: ORGS.regionWard }),
      200,
    );
    expect(entries<Consent>(hyphen).map((c) => c.id)).toEqual([a.id]);

    const covered = await json<Bundle>(
      await h.request(`/fhir/Consent?patient=${PNR}|${personnummer}`, { org: ORGS.municipalityHomeCare }),
      200,
    );
    expect(entries<Consent>(covered).map((c) => c.id)).toEqual([a.id]);
    // Invited to the case but not covered by the consent: the person stays hidden.
    const uncovered = await json<Bundle>(
      await h.request(`/fhir/Consent?patient=${PNR}|${personnummer}`, { org: ORGS.municipalitySocial }),
      200,
    );
    expect(uncovered.total).toBe(0);
    const bystander = await json<Bundle>(
      await h.request(`/fhir/Consent?patient=${PNR}|${personnummer}`, { org: BYSTANDER }),
      200,
    );
    expect(bystander.total).toBe(0);
    expect(entries(bystander)).toHaveLength(0);
  });

  it('filters by status and _lastUpdated', async () => {
    const personnummer = '191212121212';
    const org = 'SE2120000415-9001';
    const { caseId } = await initiateCase(h, ORGS.regionWard, [org]);
    const active = await given(caseId, { personnummer, orgs: [org] });
    const byStatus = await json<Bundle>(await h.request('/fhir/Consent?status=rejected', { org }), 200);
    expect(entries(byStatus)).toHaveLength(0);
    const activeOnes = await json<Bundle>(await h.request('/fhir/Consent?status=active', { org }), 200);
    expect(entries<Consent>(activeOnes).map((c) => c.id)).toEqual([active.id]);
    const since = encodeURIComponent(`ge${active.meta?.lastUpdated}`);
    const recent = await json<Bundle>(await h.request(`/fhir/Consent?_lastUpdated=${since}`, { org }), 200);
    expect(entries<Consent>(recent).map((c) => c.id)).toEqual([active.id]);
    const before = encodeURIComponent(`lt${active.meta?.lastUpdated}`);
    expect(
      entries(await json<Bundle>(await h.request(`/fhir/Consent?_lastUpdated=${before}`, { org }), 200)),
    ).toHaveLength(0);
  });

  it('answers an unknown search parameter and an unknown status with 400', async () => {
    const unknown = await json<OperationOutcome>(
      await h.request('/fhir/Consent?subject=x', { org: ORGS.regionWard }),
      400,
    );
    expect(diagnostics(unknown)).toMatch(
      /Unknown search parameter 'subject'; supported: _lastUpdated, patient, status/,
    );
    const status = await json<OperationOutcome>(
      await h.request('/fhir/Consent?status=given', { org: ORGS.regionWard }),
      400,
    );
    expect(diagnostics(status)).toMatch(/status=given/);
    const pnr = await json<OperationOutcome>(
      await h.request(`/fhir/Consent?patient=${PNR}|191212121213`, { org: ORGS.regionWard }),
      400,
    );
    expect(diagnostics(pnr)).toMatch(/check digit/);
  });
});

describe('revoking a consent (PUT with status inactive)', () => {
  it('revokes with If-Match: version 2, status inactive, sip.consent.revoked published, both versions readable', async () => {
    const { caseId } = await initiateCase(h);
    const consent = await given(caseId);
    const res = await put({ ...consent, status: 'inactive' }, 'W/"1"', ORGS.municipalitySocial);
    const revoked = await json<Consent>(res, 200);
    assertValidFhir(revoked);
    expect(revoked.status).toBe('inactive');
    expect(revoked.meta?.versionId).toBe('2');
    expect(res.headers.get('etag')).toBe('W/"2"');
    const event = await awaitEvent(h, 'CONSENT', 'sip.consent.revoked', (b) => b.consentId === consent.id);
    expect(event.body).toMatchObject({ caseId, byOrg: ORGS.municipalitySocial });

    const current = await json<Consent>(
      await h.request(`/fhir/Consent/${consent.id}`, { org: ORGS.regionWard }),
      200,
    );
    expect(current.status).toBe('inactive');
    const v1 = await json<Consent>(
      await h.request(`/fhir/Consent/${consent.id}/_history/1`, { org: ORGS.regionWard }),
      200,
    );
    expect(v1.status).toBe('active');
    expect(v1.meta?.versionId).toBe('1');
    await json(await h.request(`/fhir/Consent/${consent.id}/_history/3`, { org: ORGS.regionWard }), 404);
  });

  it('refuses every read by a unit the consent no longer covers within 1 s of the revocation', async () => {
    const { caseId } = await initiateCase(h);
    const consent = await given(caseId);
    const asHomeCare = () => h.request(`/fhir/Consent/${consent.id}`, { org: ORGS.municipalityHomeCare });
    await json<Consent>(await asHomeCare(), 200);
    const revokedAt = Date.now();
    await json(await put({ ...consent, status: 'inactive' }, 'W/"1"'), 200);
    const read = await asHomeCare();
    const search = await json<Bundle>(
      await h.request(`/fhir/Consent?patient=${PNR}|191212121212`, { org: ORGS.municipalityHomeCare }),
      200,
    );
    const elapsed = Date.now() - revokedAt;
    expect(read.status).toBe(404);
    expect(entries<Consent>(search).map((c) => c.id)).not.toContain(consent.id);
    expect(elapsed).toBeLessThan(1000);
    // The initiating unit keeps what it recorded, now marked revoked.
    expect(
      (await json<Consent>(await h.request(`/fhir/Consent/${consent.id}`, { org: ORGS.regionWard }), 200))
        .status,
    ).toBe('inactive');
  });

  it('refuses a revocation without If-Match, or with a stale one, with 412', async () => {
    const { caseId } = await initiateCase(h);
    const consent = await given(caseId);
    const missing = await json<OperationOutcome>(
      await put({ ...consent, status: 'inactive' }, undefined),
      412,
    );
    expect(diagnostics(missing)).toMatch(/needs an If-Match header/);
    const stale = await json<OperationOutcome>(await put({ ...consent, status: 'inactive' }, 'W/"7"'), 412);
    expect(diagnostics(stale)).toMatch(/does not match the current version W\/"1"/);
    const still = await json<Consent>(
      await h.request(`/fhir/Consent/${consent.id}`, { org: ORGS.regionWard }),
      200,
    );
    expect(still.status).toBe('active');
  });

  it('lets only one of two concurrent revocations through, with one sip.consent.revoked', async () => {
    const { caseId } = await initiateCase(h);
    const consent = await given(caseId);
    const answers = await Promise.all([
      put({ ...consent, status: 'inactive' }, 'W/"1"', ORGS.regionWard),
      put({ ...consent, status: 'inactive' }, 'W/"1"', ORGS.municipalityHomeCare),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 412]);
    const winner = answers.find((r) => r.status === 200) as Response;
    expect(((await winner.json()) as Consent).meta?.versionId).toBe('2');
    await awaitEvent(h, 'CONSENT', 'sip.consent.revoked', (b) => b.consentId === consent.id);
    const later = await given(caseId);
    await awaitEvent(h, 'CONSENT', 'sip.consent.given', (b) => b.consentId === later.id);
    const revocations = (await published(h, 'CONSENT', 'sip.consent.revoked')).filter(
      (e) => e.body.consentId === consent.id,
    );
    expect(revocations).toHaveLength(1);
  });

  it('answers revoking twice with 409 naming the current status', async () => {
    const { caseId } = await initiateCase(h);
    const consent = await given(caseId);
    await json(await put({ ...consent, status: 'inactive' }, 'W/"1"'), 200);
    const again = await json<OperationOutcome>(await put({ ...consent, status: 'inactive' }, 'W/"2"'), 409);
    expect(diagnostics(again)).toMatch(/is 'inactive' \(revoked already\)/);
  });

  it('refuses any other change with 422: a consent is immutable, record a new one', async () => {
    const { caseId } = await initiateCase(h);
    const consent = await given(caseId);
    const widened = structuredClone(consent);
    widened.provision?.actor?.pop();
    const changed = await json<OperationOutcome>(await put({ ...widened, status: 'inactive' }, 'W/"1"'), 422);
    expect(diagnostics(changed)).toMatch(/cannot be changed .* differs in provision.*record a new Consent/);
    const statusOnly = await json<OperationOutcome>(
      await put({ ...consent, status: 'proposed' }, 'W/"1"'),
      422,
    );
    expect(diagnostics(statusOnly)).toMatch(/the only update allowed is revocation, status 'inactive'/);
  });

  it('answers a revocation by a unit outside the case with 404, as if the consent did not exist', async () => {
    const { caseId } = await initiateCase(h);
    const consent = await given(caseId);
    await json(await put({ ...consent, status: 'inactive' }, 'W/"1"', ORGS.outsider), 404);
  });
});

describe('the case participants projection', () => {
  it('moves participation to the unit an invitation is forwarded to', async () => {
    const { caseId, invitations } = await initiateCase(h, ORGS.regionWard, [ORGS.municipalityHomeCare]);
    const consent = await given(caseId, { orgs: [ORGS.municipalityHomeCare] });
    const invitationId = invitations[0]?.invitationId as string;
    await publish(h, 'invitationForwarded', {
      caseId,
      invitationId,
      org: ORGS.municipalityHomeCare,
      toOrg: ORGS.municipalityOtherUnit,
      kind: 'invited',
      requesterOrg: ORGS.regionWard,
      at: new Date().toISOString(),
    });
    await waitForInvitee(h, invitationId, ORGS.municipalityOtherUnit);
    // The consent names home care, not the unit it was forwarded to: that unit takes part but sees no person yet.
    await json(await h.request(`/fhir/Consent/${consent.id}`, { org: ORGS.municipalityOtherUnit }), 404);
    // As a participant it may record the person's consent that covers it; from then on it sees both.
    await given(caseId, { orgs: [ORGS.municipalityOtherUnit] });
    await json(await h.request(`/fhir/Consent/${consent.id}`, { org: ORGS.municipalityOtherUnit }), 200);
    await json(await h.request(`/fhir/Consent/${consent.id}`, { org: ORGS.municipalityHomeCare }), 404);
  });

  it('adds the substitute unit a rejecting principal named', async () => {
    const { caseId } = await initiateCase(h, ORGS.regionWard, [ORGS.municipalityHomeCare]);
    const substituteInvitation = crypto.randomUUID();
    await publish(h, 'invitationCreated', {
      caseId,
      invitationId: substituteInvitation,
      org: ORGS.municipalitySocial,
      kind: 'summoned',
      requesterOrg: ORGS.regionWard,
      cause: 'substitute',
      replaces: crypto.randomUUID(),
      at: new Date().toISOString(),
    });
    await waitForInvitee(h, substituteInvitation, ORGS.municipalitySocial);
    const consent = await given(caseId, { orgs: [ORGS.municipalitySocial] });
    expect(consent.provision?.actor?.[0]?.reference?.identifier?.value).toBe(ORGS.municipalitySocial);
  });

  it('ends the same when a forward arrives before the initiation it forwards', async () => {
    const caseId = crypto.randomUUID();
    const invitationId = crypto.randomUUID();
    const initiatedAt = new Date(Date.now() - 60_000).toISOString();
    await publish(h, 'invitationForwarded', {
      caseId,
      invitationId,
      org: ORGS.municipalityHomeCare,
      toOrg: ORGS.municipalityOtherUnit,
      kind: 'summoned',
      requesterOrg: ORGS.regionWard,
      at: new Date().toISOString(),
    });
    await waitForInvitee(h, invitationId, ORGS.municipalityOtherUnit);
    await publish(h, 'caseInitiated', {
      caseId,
      requesterOrg: ORGS.regionWard,
      trigger: 'other',
      initiatedAt,
      person: { ageBand: 'adult' },
      invitations: [{ invitationId, org: ORGS.municipalityHomeCare, kind: 'summoned' }],
    });
    await eventually(
      async () => {
        const [row] = await h.database.db.select().from(cases).where(eq(cases.id, caseId));
        return row?.initiatedAt ? true : undefined;
      },
      5000,
      'initiation applied',
    );
    const rows = await h.database.db.select().from(caseInvitees).where(eq(caseInvitees.caseId, caseId));
    expect(rows.map((r) => r.org)).toEqual([ORGS.municipalityOtherUnit]);
  });
});
