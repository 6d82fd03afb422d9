// The SIP plan through all five services: initiative (invitation) → consent (consent) → the plan (plan-store),
// read by a covered unit and logged in the access log, pushed to a record system's own FHIR server, and closed off
// for everyone the moment the person revokes their consent. Also measures create, read and push latency.
import type { Bundle, CarePlan, Consent, Task } from '@samsyn/fhir';
import {
  assertValidFhir,
  eventually,
  type FhirPeer,
  type Harness,
  ORGS,
  sipCarePlan,
  sipInitiative,
  startFhirPeer,
  startHarness,
} from '@samsyn/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_FACTORIES } from '../src/samsyn.ts';
import { consentFor } from './fixtures.ts';

let h: Harness;
let peer: FhirPeer;

beforeAll(async () => {
  peer = await startFhirPeer();
  h = await startHarness({
    label: 'plan_e2e',
    factories: Object.values(SERVICE_FACTORIES),
    env: {
      PLAN_ENDPOINTS: JSON.stringify({ [ORGS.municipalityHomeCare]: peer.url }),
      PLAN_PUSH_POLL_MS: '50',
    },
  });
}, 120_000);
afterAll(async () => {
  await h?.stop();
  await peer?.close();
});

/** An initiative and the person's consent, as the record systems send them. */
async function consentedCase(identifier: string): Promise<{ task: Task; consent: Consent }> {
  const res = await h.request('/fhir/Task', {
    method: 'POST',
    org: ORGS.regionWard,
    body: JSON.stringify(sipInitiative({ identifier })),
  });
  expect(res.status).toBe(201);
  const task = (await res.json()) as Task;
  const consent = await eventually(
    async () => {
      const c = await h.request('/fhir/Consent', {
        method: 'POST',
        org: ORGS.regionWard,
        body: JSON.stringify(consentFor(task.id as string, '2030-11-20')),
      });
      if (c.status === 403 || c.status === 404 || c.status === 422) return undefined;
      expect(c.status, await c.clone().text()).toBe(201);
      return (await c.json()) as Consent;
    },
    10_000,
    'consent accepted',
  );
  return { task, consent };
}

/** plan-store learns of the case and the consent from their events; the plan is accepted once both arrived. */
async function createPlan(caseId: string): Promise<{ plan: CarePlan; ms: number }> {
  return eventually(
    async () => {
      const started = performance.now();
      const res = await h.request('/fhir/CarePlan', {
        method: 'POST',
        org: ORGS.regionWard,
        body: JSON.stringify(sipCarePlan(caseId)),
      });
      const ms = performance.now() - started;
      if (res.status === 422) return undefined;
      expect(res.status, await res.clone().text()).toBe(201);
      return { plan: (await res.json()) as CarePlan, ms };
    },
    10_000,
    'plan accepted',
  );
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

describe('the SIP plan across the services', () => {
  it('is written once consent is given, read by a covered unit, logged, pushed, and closed off on revocation', async () => {
    const { task, consent } = await consentedCase('plan-e2e-1');
    const { plan } = await createPlan(task.id as string);
    assertValidFhir(plan);

    const read = await h.request(`/fhir/CarePlan/${plan.id}`, { org: ORGS.municipalityHomeCare });
    expect(read.status).toBe(200);
    assertValidFhir(await read.json());
    expect((await h.request(`/fhir/CarePlan/${plan.id}`, { org: ORGS.outsider })).status).toBe(404);

    // The consent service keeps the access log of every service: the plan's reads are there for log review.
    const logged = await eventually(
      async () => {
        // Log review is per principal: the municipality reviews its own units' reads.
        const res = await h.request(`/fhir/AuditEvent?entity=CarePlan/${plan.id}`, {
          org: ORGS.municipalityHomeCare,
        });
        if (res.status !== 200) return undefined;
        const bundle = (await res.json()) as Bundle;
        const agents = (bundle.entry ?? []).flatMap((e) => JSON.stringify(e.resource));
        return agents.some((a) => a.includes(ORGS.municipalityHomeCare)) ? bundle : undefined;
      },
      10_000,
      'plan read in the access log',
    );
    assertValidFhir(logged);

    // The municipal home-care unit's record system receives the plan in its own FHIR server.
    const pushed = await eventually(
      async () =>
        (await peer.repo.readResource('CarePlan', plan.id as string).catch(() => undefined)) as
          | CarePlan
          | undefined,
      10_000,
      'plan at the peer',
    );
    assertValidFhir(pushed);

    // The person revokes the consent: from then on no unit reads the plan.
    const revoked = await h.request(`/fhir/Consent/${consent.id}`, {
      method: 'PUT',
      org: ORGS.regionWard,
      headers: { 'if-match': `W/"${consent.meta?.versionId}"` },
      body: JSON.stringify({ ...consent, status: 'inactive' }),
    });
    expect(revoked.status, await revoked.clone().text()).toBe(200);
    await eventually(
      async () => {
        const res = await h.request(`/fhir/CarePlan/${plan.id}`, { org: ORGS.municipalityHomeCare });
        return res.status === 404 ? true : undefined;
      },
      10_000,
      'plan hidden after revocation',
    );
    expect((await h.request(`/fhir/CarePlan/${plan.id}`, { org: ORGS.regionWard })).status).toBe(404);
  });

  it('measures create, create-to-peer and read latency', async () => {
    const N = Number(process.env.SAMSYN_PLAN_SAMPLES ?? 15);
    const cases = [];
    for (let i = 0; i < N; i++) cases.push(await consentedCase(`plan-e2e-measure-${i}`));
    const create: number[] = [];
    const atPeer: number[] = [];
    const read: number[] = [];
    for (const { task } of cases) {
      const started = performance.now();
      const { plan, ms } = await createPlan(task.id as string);
      create.push(ms);
      await eventually(
        async () =>
          (await peer.repo.readResource('CarePlan', plan.id as string).catch(() => undefined)) ?? undefined,
        10_000,
        'plan at the peer',
      );
      atPeer.push(performance.now() - started);
      const r0 = performance.now();
      const res = await h.request(`/fhir/CarePlan/${plan.id}`, { org: ORGS.municipalityHomeCare });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      read.push(performance.now() - r0);
    }
    const line = (name: string, v: number[]) =>
      `${name}: p50 ${percentile(v, 50).toFixed(1)} ms, p90 ${percentile(v, 90).toFixed(1)} ms (n=${v.length})`;
    console.info(
      [
        'plan latency (in-process HTTP, all five services):',
        line('create', create),
        line('create → at peer', atPeer),
        line('read', read),
      ].join('\n  '),
    );
    expect(percentile(create, 50)).toBeLessThan(1000);
    expect(percentile(read, 50)).toBeLessThan(1000);
  }, 120_000);
});
