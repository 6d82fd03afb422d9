// The SIP plan as a versioned CarePlan: the law as validation, versions and If-Match, the person's approval of
// revisions, consent-gated reads with an access log, search, follow-up and closure — against real PostgreSQL and NATS.
import type { Bundle, CarePlan, CodeSystem, OperationOutcome } from '@samsyn/fhir';
import { eventually, type Harness, HSA, ORGS, PERSONNUMMER, startHarness } from '@samsyn/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVAL_EXT, FOLLOW_UP_EXT } from '../src/plan/codes.ts';
import { createPlanStoreService } from '../src/service.ts';
import {
  awaitEvent,
  consentedCase,
  daysFromNow,
  entries,
  fhir,
  json,
  publish,
  published,
  sipPlan,
  type TestCase,
} from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ label: 'careplan', factories: [createPlanStoreService] });
});
afterAll(async () => h?.stop());

const LEAD = ORGS.regionWard;

async function createPlan(
  c: TestCase,
  body: Record<string, unknown> = sipPlan(c.caseId),
  org: string = LEAD,
) {
  return h.request('/fhir/CarePlan', { method: 'POST', org, body: JSON.stringify(body) });
}

async function update(
  plan: CarePlan,
  version: string | undefined,
  org: string = LEAD,
  change: Partial<CarePlan> = {},
) {
  return h.request(`/fhir/CarePlan/${plan.id}`, {
    method: 'PUT',
    org,
    ...(version !== undefined ? { headers: { 'if-match': `W/"${version}"` } } : {}),
    body: JSON.stringify({ ...plan, ...change }),
  });
}

function issues(outcome: OperationOutcome): string[] {
  return outcome.issue.map((i) => i.diagnostics ?? '');
}

describe('creating a plan', () => {
  it('stores a complete active plan as version 1 and announces it as established', async () => {
    const c = await consentedCase(h);
    const res = await createPlan(c);
    const plan = await fhir<CarePlan>(res, 201);
    expect(res.headers.get('etag')).toBe('W/"1"');
    expect(res.headers.get('location')).toMatch(new RegExp(`/fhir/CarePlan/${plan.id}/_history/1$`));
    expect(plan.meta?.versionId).toBe('1');
    expect(plan.status).toBe('active');
    expect(plan.author?.identifier?.value).toBe(LEAD);
    expect(plan.contained?.map((r) => r.resourceType).sort()).toEqual([
      'CareTeam',
      'Goal',
      'Goal',
      'Patient',
    ]);
    const event = await awaitEvent(h, 'PLAN', 'sip.plan.established', (b) => b.planId === plan.id);
    expect(event.body).toMatchObject({
      caseId: c.caseId,
      version: 1,
      leadOrg: LEAD,
      followUpDue: daysFromNow(90),
    });
    expect(event.body.participantOrgs).toEqual(
      expect.arrayContaining([ORGS.regionWard, ORGS.municipalityHomeCare, 'SE5565594230-1001']),
    );
    // Events carry ids and codes, never the person.
    expect(JSON.stringify(event.body)).not.toContain('191212121212');
  });

  it('refuses an active plan that lacks what the law requires, listing every missing element', async () => {
    const c = await consentedCase(h);
    const plan = sipPlan(c.caseId, { followUp: null });
    delete plan.author;
    // Only the person's own activity is left: no principal activity, no other actor's measure.
    plan.activity = (
      plan.activity as { detail: { extension: { valueCoding: { code: string } }[] } }[]
    ).filter((a) => a.detail.extension[0]?.valueCoding.code === 'person');
    const outcome = await fhir<OperationOutcome>(await createPlan(c, plan), 422);
    const text = issues(outcome).join('\n');
    expect(text).toContain(`principal ${ORGS.regionWard} is responsible for no activity`);
    expect(text).toContain(`principal ${ORGS.municipalityHomeCare} is responsible for no activity`);
    expect(text).toContain("other actors' measures");
    expect(text).toContain('the lead principal');
    expect(text).toContain('the follow-up date');
    expect(outcome.issue.every((i) => i.severity === 'error')).toBe(true);
    expect(outcome.issue.find((i) => i.expression?.[0] === 'CarePlan.author')).toBeDefined();
    // Nothing was stored: the same case can still get its plan.
    await fhir<CarePlan>(await createPlan(c), 201);
  });

  it('refuses an active plan with no activity at all and one whose activities name no responsible unit', async () => {
    const c = await consentedCase(h);
    const none = sipPlan(c.caseId);
    none.activity = [];
    expect(issues(await json<OperationOutcome>(await createPlan(c, none), 422)).join('\n')).toContain(
      'needed activities',
    );
    const unowned = sipPlan(c.caseId);
    const acts = unowned.activity as { detail: { performer?: unknown } }[];
    delete acts[2]?.detail.performer;
    expect(issues(await json<OperationOutcome>(await createPlan(c, unowned), 422)).join('\n')).toContain(
      'activity 3: name the organisation responsible',
    );
  });

  it('accepts an explicit "no other actors" instead of other actors\' measures', async () => {
    const c = await consentedCase(h);
    const plan = sipPlan(c.caseId);
    plan.activity = (
      plan.activity as { detail: { extension: { valueCoding: { code: string } }[] } }[]
    ).filter((a) => a.detail.extension[0]?.valueCoding.code !== 'other-actor');
    plan.extension = [
      ...(plan.extension as unknown[]),
      { url: 'https://samsyn.se/fhir/StructureDefinition/sip-no-other-actor-measures', valueBoolean: true },
    ];
    await fhir<CarePlan>(await createPlan(c, plan), 201);
  });

  it('keeps an incomplete draft, and checks the law when the draft becomes active', async () => {
    const c = await consentedCase(h);
    const draft = sipPlan(c.caseId, { status: 'draft', followUp: null });
    const created = await fhir<CarePlan>(await createPlan(c, draft), 201);
    expect(created.status).toBe('draft');
    const refused = await json<OperationOutcome>(await update(created, '1', LEAD, { status: 'active' }), 422);
    expect(issues(refused).join('\n')).toContain('the follow-up date');
    const extension = [{ url: FOLLOW_UP_EXT, valueDate: daysFromNow(30) }];
    const active = await fhir<CarePlan>(
      await update(created, '1', LEAD, { status: 'active', extension }),
      200,
    );
    expect(active.meta?.versionId).toBe('2');
    await awaitEvent(h, 'PLAN', 'sip.plan.established', (b) => b.planId === created.id && b.version === 2);
  });

  it('answers a malformed plan with 400 naming each problem', async () => {
    const c = await consentedCase(h);
    const bad = sipPlan(c.caseId, { personnummer: '191212121213' });
    bad.supportingInfo = [];
    const outcome = await fhir<OperationOutcome>(await createPlan(c, bad), 400);
    const text = issues(outcome).join('\n');
    expect(text).toContain('CarePlan.subject.identifier');
    expect(text).toContain('CarePlan.supportingInfo');
    const wrongStatus = await json<OperationOutcome>(
      await createPlan(c, { ...sipPlan(c.caseId), status: 'completed' }),
      400,
    );
    expect(issues(wrongStatus).join('\n')).toContain('$close');
    const notJson = await h.request('/fhir/CarePlan', {
      method: 'POST',
      org: LEAD,
      body: '{"resourceType":',
    });
    expect(notJson.status).toBe(400);
  });

  it('refuses a second plan for the same case with 409 naming the existing plan', async () => {
    const c = await consentedCase(h);
    const first = await fhir<CarePlan>(await createPlan(c), 201);
    const second = await json<OperationOutcome>(await createPlan(c), 409);
    expect(issues(second)[0]).toContain(`CarePlan/${first.id}`);
  });

  it('lets no unit write a plan for a case it takes no part in, or that consent does not cover', async () => {
    const c = await consentedCase(h, [ORGS.regionWard, ORGS.municipalityHomeCare]);
    const outsider = await json<OperationOutcome>(await createPlan(c, sipPlan(c.caseId), ORGS.outsider), 422);
    expect(issues(outsider)[0]).toContain('not a SIP case your unit');
    const uncovered = await json<OperationOutcome>(
      await createPlan(c, sipPlan(c.caseId), ORGS.municipalitySocial),
      422,
    );
    expect(issues(uncovered)[0]).toContain('consent does not cover');
  });
});

describe('versions', () => {
  it('needs If-Match naming the current version: missing or stale is 412', async () => {
    const c = await consentedCase(h);
    const plan = await fhir<CarePlan>(await createPlan(c, sipPlan(c.caseId, { status: 'draft' })), 201);
    const missing = await json<OperationOutcome>(
      await update(plan, undefined, LEAD, { title: 'Ny titel' }),
      412,
    );
    expect(issues(missing)[0]).toContain('If-Match');
    const stale = await json<OperationOutcome>(await update(plan, '7', LEAD, { title: 'Ny titel' }), 412);
    expect(issues(stale)[0]).toContain('does not match');
  });

  it('lets exactly one of two concurrent editors win; the other gets 412', async () => {
    const c = await consentedCase(h);
    const plan = await fhir<CarePlan>(await createPlan(c, sipPlan(c.caseId, { status: 'draft' })), 201);
    const results = await Promise.all([
      update(plan, '1', LEAD, { title: 'Version från regionen' }),
      update(plan, '1', ORGS.municipalityHomeCare, { title: 'Version från kommunen' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
    const current = await fhir<CarePlan>(await h.request(`/fhir/CarePlan/${plan.id}`, { org: LEAD }), 200);
    expect(current.meta?.versionId).toBe('2');
    const winner = await results.find((r) => r.status === 200)?.json();
    expect(current.title).toBe((winner as CarePlan).title);
  });

  it('keeps every version: _history lists them newest first and vread returns each as it was', async () => {
    const c = await consentedCase(h);
    const v1 = await fhir<CarePlan>(await createPlan(c, sipPlan(c.caseId, { status: 'draft' })), 201);
    const v2 = await fhir<CarePlan>(await update(v1, '1', LEAD, { title: 'Andra versionen' }), 200);
    const v3 = await fhir<CarePlan>(await update(v2, '2', LEAD, { title: 'Tredje versionen' }), 200);
    expect(v3.meta?.versionId).toBe('3');
    const history = await fhir<Bundle>(
      await h.request(`/fhir/CarePlan/${v1.id}/_history`, { org: LEAD }),
      200,
    );
    expect(history.type).toBe('history');
    expect(entries<CarePlan>(history).map((p) => [p.meta?.versionId, p.title])).toEqual([
      ['3', 'Tredje versionen'],
      ['2', 'Andra versionen'],
      ['1', 'SIP för Tolvan Tolvansson'],
    ]);
    const old = await fhir<CarePlan>(
      await h.request(`/fhir/CarePlan/${v1.id}/_history/2`, { org: LEAD }),
      200,
    );
    expect(old.title).toBe('Andra versionen');
    const res = await h.request(`/fhir/CarePlan/${v1.id}/_history/2`, { org: LEAD });
    expect(res.headers.get('etag')).toBe('W/"2"');
    expect((await h.request(`/fhir/CarePlan/${v1.id}/_history/9`, { org: LEAD })).status).toBe(404);
  });

  it('does not let an update move a plan to another case or person', async () => {
    const c = await consentedCase(h);
    const plan = await fhir<CarePlan>(await createPlan(c, sipPlan(c.caseId, { status: 'draft' })), 201);
    const other = await consentedCase(h);
    const moved = await json<OperationOutcome>(
      await update(plan, '1', LEAD, { supportingInfo: [{ reference: `Task/${other.caseId}` }] }),
      422,
    );
    expect(issues(moved)[0]).toContain('cannot be changed');
    const wrongId = await json<OperationOutcome>(
      await h.request(`/fhir/CarePlan/${plan.id}`, {
        method: 'PUT',
        org: LEAD,
        headers: { 'if-match': 'W/"1"' },
        body: JSON.stringify({ ...plan, id: other.caseId }),
      }),
      400,
    );
    expect(issues(wrongId)[0]).toContain('must be the id in the URL');
  });
});

describe('a change to an active plan', () => {
  it('does not take effect until the person approves it; approval records who, when and how', async () => {
    const c = await consentedCase(h);
    const plan = await fhir<CarePlan>(await createPlan(c), 201);
    const proposed = await update(plan, '1', ORGS.municipalityHomeCare, { title: 'Ändrad plan' });
    expect(proposed.status).toBe(202);
    expect(issues((await proposed.json()) as OperationOutcome)[0]).toContain('$approve-revision');
    const unchanged = await fhir<CarePlan>(await h.request(`/fhir/CarePlan/${plan.id}`, { org: LEAD }), 200);
    expect(unchanged.title).toBe('SIP för Tolvan Tolvansson');
    expect(unchanged.meta?.versionId).toBe('1');
    const history = await fhir<Bundle>(
      await h.request(`/fhir/CarePlan/${plan.id}/_history`, { org: LEAD }),
      200,
    );
    expect(history.entry).toHaveLength(1);

    // A second proposal while one waits is refused.
    expect((await update(plan, '1', LEAD, { title: 'Annan ändring' })).status).toBe(409);

    const approvedAt = new Date(Date.now() - 3_600_000).toISOString();
    const res = await h.request(`/fhir/CarePlan/${plan.id}/$approve-revision`, {
      method: 'POST',
      org: LEAD,
      body: JSON.stringify({
        resourceType: 'Parameters',
        parameter: [
          { name: 'approvedBy', valueCode: 'person' },
          { name: 'approvedAt', valueDateTime: approvedAt },
          { name: 'method', valueCode: 'in-person' },
        ],
      }),
    });
    const revised = await fhir<CarePlan>(res, 200);
    expect(revised.title).toBe('Ändrad plan');
    expect(revised.meta?.versionId).toBe('2');
    const approval = revised.extension?.find((e) => e.url === APPROVAL_EXT);
    expect(approval?.extension?.map((e) => e.url)).toEqual([
      'approvedBy',
      'approvedAt',
      'method',
      'recordedBy',
    ]);
    expect(approval?.extension?.find((e) => e.url === 'approvedAt')?.valueDateTime).toBe(approvedAt);
    const event = await awaitEvent(h, 'PLAN', 'sip.plan.revised', (b) => b.planId === plan.id);
    expect(event.body).toMatchObject({ version: 2, approvedAt, leadOrg: LEAD });

    // Nothing is pending any more.
    const again = await json<OperationOutcome>(
      await h.request(`/fhir/CarePlan/${plan.id}/$approve-revision`, {
        method: 'POST',
        org: LEAD,
        body: JSON.stringify({
          resourceType: 'Parameters',
          parameter: [
            { name: 'approvedBy', valueCode: 'person' },
            { name: 'method', valueCode: 'phone' },
          ],
        }),
      }),
      409,
    );
    expect(issues(again)[0]).toContain('no proposed revision');
  });

  it('is dropped when the person does not approve it', async () => {
    const c = await consentedCase(h);
    const plan = await fhir<CarePlan>(await createPlan(c), 201);
    expect((await update(plan, '1', LEAD, { title: 'Förslag' })).status).toBe(202);
    const kept = await fhir<CarePlan>(
      await h.request(`/fhir/CarePlan/${plan.id}/$reject-revision`, { method: 'POST', org: LEAD }),
      200,
    );
    expect(kept.title).toBe('SIP för Tolvan Tolvansson');
    expect((await update(plan, '1', LEAD, { title: 'Nytt förslag' })).status).toBe(202);
  });

  it('must itself satisfy the law, and an approval must say how it was given', async () => {
    const c = await consentedCase(h);
    const plan = await fhir<CarePlan>(await createPlan(c), 201);
    expect((await update(plan, '1', LEAD, { author: undefined })).status).toBe(422);
    expect((await update(plan, '1', LEAD, { status: 'draft' })).status).toBe(422);
    expect((await update(plan, '1', LEAD, { title: 'Förslag' })).status).toBe(202);
    const bad = await json<OperationOutcome>(
      await h.request(`/fhir/CarePlan/${plan.id}/$approve-revision`, {
        method: 'POST',
        org: LEAD,
        body: JSON.stringify({
          resourceType: 'Parameters',
          parameter: [{ name: 'approvedBy', valueCode: 'neighbour' }],
        }),
      }),
      400,
    );
    expect(issues(bad).join('\n')).toMatch(/approvedBy[\s\S]*method/);
  });
});

describe('who may read a plan', () => {
  it('answers 404 to a unit outside the case and to a participant the consent does not cover, and logs both', async () => {
    const c = await consentedCase(h, [ORGS.regionWard, ORGS.municipalityHomeCare]);
    const plan = await fhir<CarePlan>(await createPlan(c), 201);
    for (const org of [ORGS.outsider, ORGS.municipalitySocial]) {
      for (const path of [
        `/fhir/CarePlan/${plan.id}`,
        `/fhir/CarePlan/${plan.id}/_history`,
        `/fhir/CarePlan/${plan.id}/_history/1`,
      ]) {
        const res = await h.request(path, { org });
        const outcome = await fhir<OperationOutcome>(res, 404);
        expect(issues(outcome)[0]).toContain('is not known');
      }
      const search = await fhir<Bundle>(
        await h.request(`/fhir/CarePlan?patient=${PERSONNUMMER}|191212121212`, { org }),
        200,
      );
      expect(entries<CarePlan>(search).map((p) => p.id)).not.toContain(plan.id);
    }
    // The same 404 as for an id that does not exist.
    const missing = await json<OperationOutcome>(
      await h.request(`/fhir/CarePlan/${c.consentId}`, { org: LEAD }),
      404,
    );
    expect(issues(missing)[0]).toContain('is not known');
    const denied = await eventually(
      async () => {
        const list = await published(h, 'AUDIT', 'sip.audit.recorded');
        const mine = list.filter((e) => e.body.resource === `CarePlan/${plan.id}` && e.body.outcome === '4');
        return mine.length >= 6 ? mine : undefined;
      },
      8000,
      'denied reads logged',
    );
    expect(new Set(denied.map((e) => e.body.orgUnit))).toEqual(
      new Set([ORGS.outsider, ORGS.municipalitySocial]),
    );
  });

  it('logs every read with who, which unit, which plan and the person as a pseudonym', async () => {
    const c = await consentedCase(h);
    const plan = await fhir<CarePlan>(await createPlan(c), 201);
    await fhir<CarePlan>(
      await h.request(`/fhir/CarePlan/${plan.id}`, {
        org: ORGS.municipalityHomeCare,
        claims: { user: 'SE2120000415-anna' },
      }),
      200,
    );
    const entry = await awaitEvent(
      h,
      'AUDIT',
      'sip.audit.recorded',
      (b) =>
        b.resource === `CarePlan/${plan.id}` &&
        b.interaction === 'read' &&
        b.orgUnit === ORGS.municipalityHomeCare,
    );
    expect(entry.body).toMatchObject({
      action: 'R',
      outcome: '0',
      userId: 'SE2120000415-anna',
      caseId: c.caseId,
      service: 'plan-store',
    });
    expect(entry.body.patientKey).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(JSON.stringify(entry.body)).not.toContain('191212121212');
  });

  it('stops reads as soon as the consent is revoked', async () => {
    const c = await consentedCase(h);
    const plan = await fhir<CarePlan>(await createPlan(c), 201);
    expect((await h.request(`/fhir/CarePlan/${plan.id}`, { org: ORGS.municipalityHomeCare })).status).toBe(
      200,
    );
    await publish(h, 'consentRevoked', {
      consentId: c.consentId,
      caseId: c.caseId,
      at: new Date().toISOString(),
      byOrg: LEAD,
    });
    await eventually(
      async () => {
        const res = await h.request(`/fhir/CarePlan/${plan.id}`, { org: ORGS.municipalityHomeCare });
        return res.status === 404 ? true : undefined;
      },
      8000,
      'read refused after revocation',
    );
    expect((await h.request(`/fhir/CarePlan/${plan.id}`, { org: LEAD })).status).toBe(404);
  });

  it('needs a token, and the CarePlan scope for the interaction', async () => {
    expect((await h.request('/fhir/CarePlan')).status).toBe(401);
    const res = await h.request('/fhir/CarePlan', { org: LEAD, claims: { scopes: ['user/Task.rs'] } });
    expect(res.status).toBe(403);
  });
});

describe('searching plans', () => {
  it('finds plans by patient, status, author, date and _lastUpdated, with paging', async () => {
    const pnr = '198112189876';
    const c1 = await consentedCase(h);
    const c2 = await consentedCase(h);
    const active = await fhir<CarePlan>(await createPlan(c1, sipPlan(c1.caseId, { personnummer: pnr })), 201);
    const draft = await fhir<CarePlan>(
      await createPlan(c2, sipPlan(c2.caseId, { personnummer: pnr, status: 'draft' })),
      201,
    );
    const find = async (query: string) =>
      entries<CarePlan>(
        await fhir<Bundle>(await h.request(`/fhir/CarePlan?${query}`, { org: LEAD }), 200),
      ).map((p) => p.id);
    expect((await find(`patient=${PERSONNUMMER}|${pnr}`)).sort()).toEqual([active.id, draft.id].sort());
    expect(await find(`patient:identifier=${PERSONNUMMER}|${pnr}&status=draft`)).toEqual([draft.id]);
    expect(await find(`patient=${pnr}&status=active`)).toEqual([active.id]);
    expect((await find(`patient=${pnr}&author=${HSA}|${LEAD}`)).length).toBe(2);
    expect(await find(`patient=${pnr}&author=${ORGS.municipalityHomeCare}`)).toEqual([]);
    expect((await find(`patient=${pnr}&date=ge${daysFromNow(-1)}`)).length).toBe(2);
    expect(await find(`patient=${pnr}&date=lt${daysFromNow(-10)}`)).toEqual([]);
    expect((await find(`patient=${pnr}&_lastUpdated=ge${daysFromNow(-1)}`)).length).toBe(2);
    expect(await find(`patient=${pnr}&_lastUpdated=gt${daysFromNow(1)}`)).toEqual([]);

    const page1 = await fhir<Bundle>(
      await h.request(`/fhir/CarePlan?patient=${pnr}&_count=1`, { org: LEAD }),
      200,
    );
    expect(page1.total).toBe(2);
    expect(page1.entry).toHaveLength(1);
    const next = page1.link?.find((l) => l.relation === 'next')?.url;
    expect(next).toBeDefined();
    const page2 = await fhir<Bundle>(
      await h.request(new URL(next as string).pathname + new URL(next as string).search, { org: LEAD }),
      200,
    );
    expect(page2.entry?.[0]?.resource?.id).not.toBe(page1.entry?.[0]?.resource?.id);
  });

  it('refuses unknown parameters and bad values with 400', async () => {
    for (const q of [
      'foo=bar',
      'status=finished',
      'patient=191212121213',
      'date=2026-13-01',
      'author=http://x|y',
    ]) {
      const res = await h.request(`/fhir/CarePlan?${q}`, { org: LEAD });
      await fhir<OperationOutcome>(res, 400);
    }
  });
});

describe('follow-up and closure', () => {
  it('records a follow-up that sets the next date, as a new version and a followed-up event', async () => {
    const c = await consentedCase(h);
    const plan = await fhir<CarePlan>(await createPlan(c), 201);
    const next = daysFromNow(180);
    const res = await h.request(`/fhir/CarePlan/${plan.id}/$follow-up`, {
      method: 'POST',
      org: LEAD,
      body: JSON.stringify({
        resourceType: 'Parameters',
        parameter: [{ name: 'nextFollowUp', valueDate: next }],
      }),
    });
    const followed = await fhir<CarePlan>(res, 200);
    expect(followed.meta?.versionId).toBe('2');
    expect(followed.extension?.find((e) => e.url === FOLLOW_UP_EXT)?.valueDate).toBe(next);
    expect(followed.note?.at(-1)?.text).toContain('Uppföljning hölls');
    const event = await awaitEvent(h, 'PLAN', 'sip.plan.followed-up', (b) => b.planId === plan.id);
    expect(event.body).toMatchObject({
      followUpDue: daysFromNow(90),
      onTime: true,
      nextFollowUpDue: next,
      byOrg: LEAD,
    });
  });

  it('closes the plan when the follow-up says so, and refuses a follow-up with neither or both outcomes', async () => {
    const c = await consentedCase(h);
    const plan = await fhir<CarePlan>(await createPlan(c), 201);
    const both = await h.request(`/fhir/CarePlan/${plan.id}/$follow-up`, {
      method: 'POST',
      org: LEAD,
      body: JSON.stringify({
        resourceType: 'Parameters',
        parameter: [
          { name: 'nextFollowUp', valueDate: daysFromNow(30) },
          { name: 'closeReason', valueCode: 'goals-met' },
        ],
      }),
    });
    expect(both.status).toBe(400);
    const closed = await fhir<CarePlan>(
      await h.request(`/fhir/CarePlan/${plan.id}/$follow-up`, {
        method: 'POST',
        org: LEAD,
        body: JSON.stringify({
          resourceType: 'Parameters',
          parameter: [{ name: 'closeReason', valueCode: 'goals-met' }],
        }),
      }),
      200,
    );
    expect(closed.status).toBe('completed');
    expect(closed.period?.end).toBeDefined();
    const event = await awaitEvent(h, 'PLAN', 'sip.plan.closed', (b) => b.planId === plan.id);
    expect(event.body).toMatchObject({ reason: 'goals-met', byOrg: LEAD });
  });

  it('closes with a reason; a closed plan is not changed or followed up again', async () => {
    const c = await consentedCase(h);
    const plan = await fhir<CarePlan>(await createPlan(c), 201);
    const bad = await h.request(`/fhir/CarePlan/${plan.id}/$close`, {
      method: 'POST',
      org: LEAD,
      body: JSON.stringify({
        resourceType: 'Parameters',
        parameter: [{ name: 'reason', valueCode: 'bored' }],
      }),
    });
    expect(bad.status).toBe(400);
    const closed = await fhir<CarePlan>(
      await h.request(`/fhir/CarePlan/${plan.id}/$close`, {
        method: 'POST',
        org: ORGS.municipalityHomeCare,
        body: JSON.stringify({
          resourceType: 'Parameters',
          parameter: [{ name: 'reason', valueCode: 'person-declined' }],
        }),
      }),
      200,
    );
    expect(closed.status).toBe('revoked');
    await awaitEvent(
      h,
      'PLAN',
      'sip.plan.closed',
      (b) => b.planId === plan.id && b.reason === 'person-declined',
    );
    expect((await update(closed, '2', LEAD, { title: 'x' })).status).toBe(409);
    const again = await h.request(`/fhir/CarePlan/${plan.id}/$close`, {
      method: 'POST',
      org: LEAD,
      body: JSON.stringify({
        resourceType: 'Parameters',
        parameter: [{ name: 'reason', valueCode: 'moved' }],
      }),
    });
    expect(again.status).toBe(409);
  });
});

describe('the plan code systems', () => {
  it('are served as CodeSystem resources', async () => {
    for (const id of [
      'sip-activity-actor',
      'sip-team-role',
      'sip-plan-closure-reason',
      'sip-approval-method',
    ]) {
      const cs = await fhir<CodeSystem>(await h.request(`/fhir/CodeSystem/${id}`, { org: LEAD }), 200);
      expect(cs.url).toBe(`https://samsyn.se/fhir/CodeSystem/${id}`);
    }
  });
});
