// Security probes generated from the CapabilityStatement, so every endpoint a service declares is probed without
// anyone writing a test for it: no token → 401, scopes that do not name the type → 403, another org → 404 (SPEC §7).
import type { Bundle, CapabilityStatement, OperationOutcome } from '@samsyn/fhir';
import { eventually, type Harness, ORGS, sipInitiative, startHarness } from '@samsyn/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_FACTORIES } from '../src/samsyn.ts';
import { consentFor, draftPlan, PARTICIPANTS } from './fixtures.ts';

type RestResource = NonNullable<NonNullable<CapabilityStatement['rest']>[number]['resource']>[number];

interface Probe {
  method: string;
  path: string;
  body?: string;
}

/**
 * Terminology and aggregate statistics every authenticated unit may read: not case data, so a foreign unit is not
 * refused it (MeasureReports carry only counts, with cells under 5 people masked).
 */
const SHARED_TYPES = new Set(['CodeSystem', 'Measure', 'MeasureReport']);

let h: Harness;
let resources: RestResource[] = [];
/** Instances of each type that some participant can see (type → ids). */
const instances = new Map<string, Set<string>>();

beforeAll(async () => {
  h = await startHarness({ label: 'probes', factories: Object.values(SERVICE_FACTORIES) });
  const metadata = await h.app.request('http://samsyn.test/fhir/metadata');
  expect(metadata.status).toBe(200);
  const capability = (await metadata.json()) as CapabilityStatement;
  resources = capability.rest?.[0]?.resource ?? [];
  await seedCase();
  for (const resource of resources) {
    const ids = new Set<string>();
    if (resource.interaction?.some((i) => i.code === 'search-type')) {
      for (const org of PARTICIPANTS) {
        const res = await h.request(`/fhir/${resource.type}?_count=50`, { org });
        if (res.status !== 200) continue;
        const bundle = (await res.json()) as Bundle;
        for (const entry of bundle.entry ?? []) if (entry.resource?.id) ids.add(entry.resource.id);
      }
    }
    instances.set(resource.type, ids);
  }
}, 120_000);
afterAll(async () => h?.stop());

/** One case with everything a participant can create or cause: initiative, invitations, notifications, consent. */
async function seedCase(): Promise<void> {
  const created = await h.request('/fhir/Task', {
    method: 'POST',
    org: ORGS.regionWard,
    body: JSON.stringify(sipInitiative({ identifier: 'probe-1' })),
  });
  expect(created.status).toBe(201);
  const task = (await created.json()) as { id: string };
  // consent learns of the case from sip.case.initiated, a moment after the 201.
  await eventually(
    async () => {
      const consent = await h.request('/fhir/Consent', {
        method: 'POST',
        org: ORGS.regionWard,
        body: JSON.stringify(consentFor(task.id)),
      });
      if (consent.status === 403) return undefined;
      expect(consent.status, await consent.clone().text()).toBe(201);
      return true;
    },
    10_000,
    'consent accepted',
  );
  await holdMeetingWithAbsence(task.id);
  // plan-store learns of the case and the consent from their events; a draft plan is enough to probe.
  await eventually(
    async () => {
      const plan = await h.request('/fhir/CarePlan', {
        method: 'POST',
        org: ORGS.regionWard,
        body: JSON.stringify(draftPlan(task.id)),
      });
      if (plan.status === 404 || plan.status === 403) return undefined;
      expect(plan.status, await plan.clone().text()).toBe(201);
      return true;
    },
    10_000,
    'draft plan accepted',
  );
  await eventually(async () => {
    const res = await h.request(`/fhir/Communication?recipient=${ORGS.municipalityHomeCare}`, {
      org: ORGS.municipalityHomeCare,
    });
    const bundle = (await res.json()) as Bundle;
    return (bundle.entry ?? []).length > 0 ? true : undefined;
  }, 10_000);
}

/** A meeting (Appointment) held with the summoned unit absent, which reports a deviation (Flag). */
async function holdMeetingWithAbsence(caseId: string): Promise<void> {
  const start = new Date(Date.now() + 48 * 3_600_000);
  const booking = {
    resourceType: 'Appointment',
    status: 'booked',
    appointmentType: {
      coding: [{ system: 'https://samsyn.se/fhir/CodeSystem/sip-meeting-mode', code: 'phone' }],
    },
    supportingInformation: [{ reference: `Task/${caseId}` }],
    start: start.toISOString(),
    end: new Date(start.getTime() + 3_600_000).toISOString(),
    contained: [
      { resourceType: 'Location', id: 'place', telecom: [{ system: 'phone', value: '+46 8 123 456' }] },
    ],
    participant: [{ actor: { reference: '#place' }, status: 'accepted' }],
  };
  // The case becomes invited once the consent service's sip.consent.given reaches the invitation service.
  const booked = await eventually(
    async () => {
      const res = await h.request('/fhir/Appointment', {
        method: 'POST',
        org: ORGS.regionWard,
        body: JSON.stringify(booking),
      });
      if (res.status === 409) return undefined;
      expect(res.status, await res.clone().text()).toBe(201);
      return (await res.json()) as { id: string };
    },
    10_000,
    'meeting booked',
  );
  // A meeting is booked ahead; to record attendance the probe moves it into the past in the database.
  await h.database.db.execute(
    sql`update invitation.appointment set start = now() - interval '26 hours', "end" = now() - interval '25 hours' where id = ${booked.id}`,
  );
  const past = (await (
    await h.request(`/fhir/Appointment/${booked.id}`, { org: ORGS.regionWard })
  ).json()) as {
    meta: { versionId: string };
    status: string;
    participant: { actor?: { identifier?: { value?: string } }; extension?: unknown[] }[];
  };
  past.status = 'fulfilled';
  for (const p of past.participant) {
    const org = p.actor?.identifier?.value;
    if (org) {
      p.extension = [
        {
          url: 'https://samsyn.se/fhir/StructureDefinition/attendance',
          valueCode: org === ORGS.municipalityHomeCare ? 'absent' : 'attended',
        },
      ];
    }
  }
  const held = await h.request(`/fhir/Appointment/${booked.id}`, {
    method: 'PUT',
    org: ORGS.regionWard,
    headers: { 'if-match': `W/"${past.meta.versionId}"` },
    body: JSON.stringify(past),
  });
  expect(held.status, await held.clone().text()).toBe(200);
}

/** Every request the CapabilityStatement says `resource` answers, aimed at instance `id`. */
function probesFor(resource: RestResource, id: string): Probe[] {
  const base = `/fhir/${resource.type}`;
  const body = JSON.stringify({ resourceType: resource.type, id });
  const probes: Probe[] = [];
  for (const { code } of resource.interaction ?? []) {
    switch (code) {
      case 'read':
        probes.push({ method: 'GET', path: `${base}/${id}` });
        break;
      case 'vread':
        probes.push({ method: 'GET', path: `${base}/${id}/_history/1` });
        break;
      case 'history-instance':
        probes.push({ method: 'GET', path: `${base}/${id}/_history` });
        break;
      case 'update':
        probes.push({ method: 'PUT', path: `${base}/${id}`, body });
        break;
      case 'patch':
        probes.push({ method: 'PATCH', path: `${base}/${id}`, body: '[]' });
        break;
      case 'delete':
        probes.push({ method: 'DELETE', path: `${base}/${id}` });
        break;
      case 'create':
        probes.push({ method: 'POST', path: base, body });
        break;
      case 'search-type':
        probes.push({ method: 'GET', path: base });
        break;
      default:
        throw new Error(`The probes do not know interaction ${code} on ${resource.type}; add it here`);
    }
  }
  for (const op of resource.operation ?? []) {
    probes.push({ method: 'POST', path: `${base}/${id}/$${op.name}`, body: '{"resourceType":"Parameters"}' });
    probes.push({ method: 'GET', path: `${base}/$${op.name}` });
  }
  return probes;
}

async function send(probe: Probe, org?: string, scopes?: string[]): Promise<Response> {
  return h.request(probe.path, {
    method: probe.method,
    ...(probe.body ? { body: probe.body } : {}),
    ...(probe.method === 'PATCH' ? { headers: { 'content-type': 'application/json-patch+json' } } : {}),
    ...(org ? { org } : {}),
    ...(scopes ? { claims: { scopes } } : {}),
  });
}

async function expectOutcome(res: Response, status: number, probe: Probe, who: string): Promise<void> {
  const text = await res.text();
  expect(res.status, `${probe.method} ${probe.path} ${who}: ${text.slice(0, 300)}`).toBe(status);
  expect((JSON.parse(text) as OperationOutcome).resourceType).toBe('OperationOutcome');
}

describe('probes generated from the CapabilityStatement', () => {
  it('declares resource types, each with interactions to probe', () => {
    expect(resources.length).toBeGreaterThan(0);
    for (const r of resources) expect(r.interaction?.length ?? 0, r.type).toBeGreaterThan(0);
  });

  it('refuses every interaction and operation without a token with 401', async () => {
    let count = 0;
    for (const resource of resources) {
      for (const probe of probesFor(resource, 'probe-id')) {
        await expectOutcome(await send(probe), 401, probe, 'without a token');
        count++;
      }
    }
    expect(count).toBeGreaterThan(resources.length);
  });

  it('refuses every interaction with 403 when the token has scopes only for another resource type', async () => {
    for (const resource of resources) {
      const id = [...(instances.get(resource.type) ?? [])][0] ?? 'probe-id';
      const other = resource.type === 'Basic' ? 'Patient' : 'Basic';
      for (const probe of probesFor(resource, id)) {
        if (probe.path.includes('$')) continue; // operations check their own scopes and are probed below
        const res = await send(probe, ORGS.regionWard, [`user/${other}.cruds`]);
        await expectOutcome(res, 403, probe, `with scopes for ${other} only`);
      }
    }
  });

  it('has a case instance of every readable type to probe as a foreign organisation', () => {
    const readable = resources.filter(
      (r) => !SHARED_TYPES.has(r.type) && r.interaction?.some((i) => i.code === 'read'),
    );
    for (const r of readable) {
      expect(instances.get(r.type)?.size ?? 0, `no seeded ${r.type}: extend seedCase()`).toBeGreaterThan(0);
    }
  });

  it('answers a foreign organisation exactly like a missing resource on every instance interaction', async () => {
    let count = 0;
    for (const resource of resources.filter((r) => !SHARED_TYPES.has(r.type))) {
      for (const id of instances.get(resource.type) ?? []) {
        for (const probe of probesFor(resource, id)) {
          if (probe.method === 'POST' && !probe.path.includes('$')) continue; // create is not about an instance
          if (probe.path === `/fhir/${resource.type}`) continue; // search is checked below
          if (probe.path.startsWith(`/fhir/${resource.type}/$`)) continue; // type-level operation
          const res = await send(probe, ORGS.outsider);
          if (probe.method === 'GET') {
            await expectOutcome(res, 404, probe, 'as a foreign organisation');
          } else {
            // A change or an operation may check its input before it looks the instance up; what matters is that
            // the answer is a refusal and the same as for an id that does not exist, so ids cannot be probed.
            const missing = await send(
              { ...probe, path: probe.path.replace(id, crypto.randomUUID()) },
              ORGS.outsider,
            );
            expect(res.status, `${probe.method} ${probe.path}`).toBeGreaterThanOrEqual(400);
            await expectOutcome(
              res,
              missing.status,
              probe,
              'as a foreign organisation, compared with a missing id',
            );
          }
          count++;
        }
      }
    }
    expect(count).toBeGreaterThan(0);
  });

  it('lets any authenticated unit read the shared terminology', async () => {
    for (const type of SHARED_TYPES) {
      const ids = [...(instances.get(type) ?? [])];
      expect(ids.length, type).toBeGreaterThan(0);
      for (const id of ids)
        expect((await h.request(`/fhir/${type}/${id}`, { org: ORGS.outsider })).status).toBe(200);
    }
  });

  it("never lists another organisation's instances in a foreign organisation's search", async () => {
    for (const resource of resources.filter((r) => !SHARED_TYPES.has(r.type))) {
      if (!resource.interaction?.some((i) => i.code === 'search-type')) continue;
      const res = await h.request(`/fhir/${resource.type}`, { org: ORGS.outsider });
      expect(res.status, resource.type).toBe(200);
      const bundle = (await res.json()) as Bundle;
      const seen = (bundle.entry ?? []).map((e) => e.resource?.id);
      for (const id of instances.get(resource.type) ?? []) expect(seen, resource.type).not.toContain(id);
    }
  });
});
