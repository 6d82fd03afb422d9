// Outbound: an active or revised plan is pushed with fhir-kit-client to each covered participant's own FHIR
// endpoint — here a real Medplum FHIR server over HTTP — and a failing peer is retried, then marked failed.
import type { CarePlan, OperationOutcome } from '@samsyn/fhir';
import {
  assertValidFhir,
  eventually,
  type FhirPeer,
  type Harness,
  ORGS,
  startFailingPeer,
  startFhirPeer,
  startHarness,
} from '@samsyn/testkit';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planDeliveries } from '../src/db/schema.ts';
import { PlanPushWorker } from '../src/deliver/push-worker.ts';
import { createPlanStoreService } from '../src/service.ts';
import {
  awaitEvent,
  consentedCase,
  createPlan,
  fhir,
  json,
  OTHER_ACTOR,
  publish,
  sipPlan,
} from './support.ts';

/** A logger that drops everything, for workers a test drives itself. */
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

let h: Harness;
let peer: FhirPeer;
let failing: Omit<FhirPeer, 'repo'>;
let rejecting: Omit<FhirPeer, 'repo'>;
const RETRIES = 3;

beforeAll(async () => {
  peer = await startFhirPeer();
  failing = await startFailingPeer(503);
  rejecting = await startFailingPeer(422);
  h = await startHarness({
    label: 'plan_push',
    factories: [createPlanStoreService],
    env: {
      PLAN_ENDPOINTS: JSON.stringify({
        [ORGS.regionWard]: peer.url,
        [ORGS.municipalityHomeCare]: { url: failing.url },
        [OTHER_ACTOR]: rejecting.url,
      }),
      PLAN_PUSH_MAX_ATTEMPTS: String(RETRIES),
      PLAN_PUSH_BACKOFF_MS: '50,100',
      PLAN_PUSH_POLL_MS: '50',
    },
  });
});
afterAll(async () => {
  await h?.stop();
  await Promise.all([peer?.close(), failing?.close(), rejecting?.close()]);
});

interface Delivery {
  org?: string;
  version?: string;
  status?: string;
  attempts?: number;
  error?: string;
}

async function deliveries(id: string): Promise<Delivery[]> {
  const res = await h.request(`/fhir/CarePlan/${id}/$delivery-status`, { org: ORGS.regionWard });
  const params = await fhir<{ parameter?: { part?: Record<string, unknown>[] }[] }>(res, 200);
  return (params.parameter ?? []).map((p) => {
    const part = (name: string) => p.part?.find((x) => x.name === name);
    return {
      org: (part('organization')?.valueIdentifier as { value?: string } | undefined)?.value,
      version: part('version')?.valueString as string | undefined,
      status: (part('status')?.valueCoding as { code?: string } | undefined)?.code,
      attempts: part('attempts')?.valueInteger as number | undefined,
      error: part('error')?.valueString as string | undefined,
    };
  });
}

async function atPeer(id: string, version: (p: CarePlan) => boolean): Promise<CarePlan> {
  return eventually(
    async () => {
      const found = (await peer.repo.readResource('CarePlan', id).catch(() => undefined)) as
        | CarePlan
        | undefined;
      return found && version(found) ? found : undefined;
    },
    8000,
    `CarePlan/${id} at the peer`,
  );
}

describe('pushing the plan to the participants', () => {
  it('delivers an active plan to the peer FHIR server of each covered participant', async () => {
    const c = await consentedCase(h);
    const res = await h.request('/fhir/CarePlan', {
      method: 'POST',
      org: ORGS.regionWard,
      body: JSON.stringify(sipPlan(c.caseId)),
    });
    const plan = await fhir<CarePlan>(res, 201);
    const delivered = await atPeer(plan.id as string, (p) => p.status === 'active');
    assertValidFhir(delivered);
    expect(delivered.title).toBe(plan.title);
    expect(delivered.author?.identifier?.value).toBe(ORGS.regionWard);
    expect(peer.requests).toContain(`PUT /CarePlan/${plan.id}`);
    const status = await eventually(
      async () => {
        const list = await deliveries(plan.id as string);
        return list.find((d) => d.org === ORGS.regionWard)?.status === 'delivered' ? list : undefined;
      },
      8000,
      'delivery recorded',
    );
    expect(status.find((d) => d.org === ORGS.regionWard)).toMatchObject({ version: '1', attempts: 1 });
  });

  it('retries a failing peer with backoff, then marks the delivery failed and announces it', async () => {
    const c = await consentedCase(h);
    const plan = await createPlan(h, sipPlan(c.caseId));
    const event = await awaitEvent(
      h,
      'PLAN',
      'sip.plan.delivery-failed',
      (b) => b.planId === plan.id && b.org === ORGS.municipalityHomeCare,
    );
    expect(event.body).toMatchObject({ version: 1, attempts: RETRIES, caseId: c.caseId });
    expect(event.body.error).toContain('HTTP 503');
    const sent = () => failing.requests.filter((r) => r === `PUT /fhir/CarePlan/${plan.id}`).length;
    expect(sent()).toBe(RETRIES);
    const failed = (await deliveries(plan.id as string)).find((d) => d.org === ORGS.municipalityHomeCare);
    expect(failed).toMatchObject({ status: 'failed', attempts: RETRIES });
    // Nothing more is tried once it has failed for good.
    await new Promise((r) => setTimeout(r, 300));
    expect(sent()).toBe(RETRIES);
  });

  it('does not retry a peer that refuses the plan outright (4xx), other actors included', async () => {
    const c = await consentedCase(h, [ORGS.regionWard, ORGS.municipalityHomeCare, OTHER_ACTOR]);
    const plan = await createPlan(h, sipPlan(c.caseId));
    const event = await awaitEvent(
      h,
      'PLAN',
      'sip.plan.delivery-failed',
      (b) => b.planId === plan.id && b.org === OTHER_ACTOR,
    );
    expect(event.body).toMatchObject({ attempts: 1 });
    expect(event.body.error).toContain('HTTP 422');
    expect(rejecting.requests.filter((r) => r === `PUT /fhir/CarePlan/${plan.id}`)).toHaveLength(1);
  });

  it('pushes the approved revision as the plan in force', async () => {
    const c = await consentedCase(h);
    const plan = await createPlan(h, sipPlan(c.caseId));
    await atPeer(plan.id as string, (p) => p.title === plan.title);
    const proposed = await h.request(`/fhir/CarePlan/${plan.id}`, {
      method: 'PUT',
      org: ORGS.regionWard,
      headers: { 'if-match': 'W/"1"' },
      body: JSON.stringify({ ...plan, title: 'Reviderad plan' }),
    });
    expect(proposed.status).toBe(202);
    await new Promise((r) => setTimeout(r, 200));
    expect(((await peer.repo.readResource('CarePlan', plan.id as string)) as CarePlan).title).toBe(
      plan.title,
    );
    await fhir<CarePlan>(
      await h.request(`/fhir/CarePlan/${plan.id}/$approve-revision`, {
        method: 'POST',
        org: ORGS.regionWard,
        body: JSON.stringify({
          resourceType: 'Parameters',
          parameter: [
            { name: 'approvedBy', valueCode: 'person' },
            { name: 'method', valueCode: 'phone' },
          ],
        }),
      }),
      200,
    );
    const revised = await atPeer(plan.id as string, (p) => p.title === 'Reviderad plan');
    assertValidFhir(revised);
  });

  it('sends nothing to a participant the consent does not cover, and nothing for a draft', async () => {
    const c = await consentedCase(h, [ORGS.regionWard, ORGS.municipalityHomeCare]);
    const draft = await createPlan(h, sipPlan(c.caseId, { status: 'draft' }));
    expect(await deliveries(draft.id as string)).toEqual([]);
    const active = await fhir<CarePlan>(
      await h.request(`/fhir/CarePlan/${draft.id}`, {
        method: 'PUT',
        org: ORGS.regionWard,
        headers: { 'if-match': 'W/"1"' },
        body: JSON.stringify({ ...draft, status: 'active' }),
      }),
      200,
    );
    await atPeer(active.id as string, (p) => p.status === 'active');
    const orgs = (await deliveries(active.id as string)).map((d) => d.org).sort();
    expect(orgs).toEqual([ORGS.regionWard, ORGS.municipalityHomeCare].sort());
  });

  it('withholds a push that is due after the consent was revoked, and sends nothing', async () => {
    const c = await consentedCase(h, [ORGS.regionWard, ORGS.municipalityHomeCare]);
    const plan = await createPlan(h, sipPlan(c.caseId, { status: 'draft' }));
    await publish(h, 'consentRevoked', {
      consentId: c.consentId,
      caseId: c.caseId,
      at: new Date().toISOString(),
      byOrg: ORGS.regionWard,
    });
    await eventually(
      async () =>
        (await h.request(`/fhir/CarePlan/${plan.id}`, { org: ORGS.regionWard })).status === 404
          ? true
          : undefined,
      8000,
      'revocation applied',
    );
    // A delivery scheduled before the revocation, due now: the worker checks consent at the moment of sending.
    await h.database.db
      .insert(planDeliveries)
      .values({ planId: plan.id as string, versionId: 1, org: ORGS.regionWard, endpoint: peer.url });
    const worker = new PlanPushWorker({
      db: h.database.db,
      endpoints: { [ORGS.regionWard]: { url: peer.url } },
      log: quiet,
      maxAttempts: 3,
      backoffMs: [50],
      pollMs: 60_000,
      timeoutMs: 2000,
      afterOutbox: () => {},
    });
    const before = peer.requests.length;
    await worker.runOnce(new Date(Date.now() + 1000));
    // The service's own worker may have claimed it first; whichever sends it must withhold it.
    await eventually(
      async () => {
        const [row] = await h.database.db
          .select()
          .from(planDeliveries)
          .where(eq(planDeliveries.planId, plan.id as string));
        return row?.status === 'withheld' ? true : undefined;
      },
      8000,
      'delivery withheld',
    );
    expect(peer.requests.slice(before)).not.toContain(`PUT /CarePlan/${plan.id}`);
  });

  it('shows the delivery state only to those who may read the plan', async () => {
    const c = await consentedCase(h);
    const plan = await createPlan(h, sipPlan(c.caseId));
    await json<OperationOutcome>(
      await h.request(`/fhir/CarePlan/${plan.id}/$delivery-status`, { org: ORGS.outsider }),
      404,
    );
  });
});
