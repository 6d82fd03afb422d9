// The walking-skeleton slice through all five services: initiative → sip.case.initiated → one notification per invitee.
import type { Bundle, Communication, OperationOutcome, Task } from '@samsyn/fhir';
import {
  assertValidFhir,
  eventually,
  type Harness,
  ORGS,
  sipInitiative,
  startHarness,
} from '@samsyn/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_FACTORIES } from '../src/samsyn.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ label: 'slice', factories: Object.values(SERVICE_FACTORIES) });
});
afterAll(async () => h?.stop());

async function inbox(org: string, recipient = org): Promise<Communication[]> {
  const res = await h.request(`/fhir/Communication?recipient=${recipient}`, { org });
  expect(res.status).toBe(200);
  const bundle = (await res.json()) as Bundle;
  assertValidFhir(bundle);
  return (bundle.entry ?? []).map((e) => e.resource as Communication);
}

describe('an initiative sent by a record system', () => {
  let task: Task;

  it('is stored and answered with 201, Location, ETag and the case state awaiting-consent', async () => {
    const res = await h.request('/fhir/Task', {
      method: 'POST',
      org: ORGS.regionWard,
      body: JSON.stringify(sipInitiative({ identifier: 'slice-1' })),
    });
    expect(res.status).toBe(201);
    task = (await res.json()) as Task;
    assertValidFhir(task);
    expect(res.headers.get('location')).toMatch(new RegExp(`/fhir/Task/${task.id}/_history/1$`));
    expect(res.headers.get('etag')).toBe('W/"1"');
    expect(res.headers.get('content-type')).toContain('application/fhir+json');
    expect(task.businessStatus?.coding?.[0]?.code).toBe('awaiting-consent');
    expect(task.meta?.versionId).toBe('1');
    expect(task.input?.map((i) => i.valueReference?.identifier?.value)).toEqual([
      ORGS.municipalityHomeCare,
      ORGS.municipalitySocial,
    ]);
  });

  it('reaches each invited unit as exactly one notification, in Swedish, about its invitation', async () => {
    for (const org of [ORGS.municipalityHomeCare, ORGS.municipalitySocial]) {
      const found = await eventually(
        async () => {
          const list = await inbox(org);
          return list.length > 0 ? list : undefined;
        },
        5000,
        `notification for ${org}`,
      );
      expect(found).toHaveLength(1);
      const [communication] = found;
      expect(communication?.recipient?.[0]?.identifier?.value).toBe(org);
      expect(communication?.about?.map((a) => a.reference)).toContain(`Task/${task.id}`);
      expect(communication?.payload?.[0]?.contentString).toMatch(/samordnad individuell plan/);
      expect(communication?.priority).toBe('urgent');
      // No person data travels to a unit before consent reaches it.
      expect(JSON.stringify(communication)).not.toMatch(/Tolvan|191212121212/);
    }
  });

  it('is not visible to a unit that was not invited, neither by search nor by id', async () => {
    const [theirs] = await inbox(ORGS.municipalityHomeCare);
    expect(await inbox(ORGS.outsider)).toEqual([]);
    expect(await inbox(ORGS.outsider, ORGS.municipalityHomeCare)).toEqual([]);
    const byId = await h.request(`/fhir/Communication/${theirs?.id}`, { org: ORGS.outsider });
    expect(byId.status).toBe(404);
    expect(((await byId.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
    const own = await h.request(`/fhir/Communication/${theirs?.id}`, { org: ORGS.municipalityHomeCare });
    expect(own.status).toBe(200);
    const taskByOutsider = await h.request(`/fhir/Task/${task.id}`, { org: ORGS.outsider });
    expect(taskByOutsider.status).toBe(404);
  });

  it('shows the initiative to an invited unit without the person until consent covers it', async () => {
    const res = await h.request(`/fhir/Task/${task.id}`, { org: ORGS.municipalityHomeCare });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Task;
    assertValidFhir(seen);
    expect(seen.contained).toBeUndefined();
    expect(JSON.stringify(seen)).not.toMatch(/Tolvan|191212121212/);
  });

  it('sent again with If-None-Exist returns the same Task with 200 and notifies nobody twice', async () => {
    const res = await h.request('/fhir/Task', {
      method: 'POST',
      org: ORGS.regionWard,
      headers: { 'if-none-exist': 'identifier=https://journal.region-exempel.se/sip-initiative|slice-1' },
      body: JSON.stringify(sipInitiative({ identifier: 'slice-1' })),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Task).id).toBe(task.id);
    // Give a wrongly published second event time to arrive before counting.
    await new Promise((r) => setTimeout(r, 500));
    expect(await inbox(ORGS.municipalityHomeCare)).toHaveLength(1);
  });

  it('sent again without If-None-Exist is a 409 that says how to get the existing one', async () => {
    const res = await h.request('/fhir/Task', {
      method: 'POST',
      org: ORGS.regionWard,
      body: JSON.stringify(sipInitiative({ identifier: 'slice-1' })),
    });
    expect(res.status).toBe(409);
    const outcome = (await res.json()) as OperationOutcome;
    expect(outcome.issue[0]?.diagnostics).toMatch(/If-None-Exist/);
  });
});

describe('the FHIR endpoint', () => {
  it('answers a request without a token with 401 and an OperationOutcome', async () => {
    const res = await h.request('/fhir/Task', { method: 'POST', body: JSON.stringify(sipInitiative()) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const outcome = (await res.json()) as OperationOutcome;
    assertValidFhir(outcome);
    expect(outcome.issue[0]?.code).toBe('login');
  });

  it('refuses a token signed by another key', async () => {
    const res = await h.request('/fhir/Communication', {
      headers: {
        authorization:
          'Bearer eyJhbGciOiJFUzI1NiJ9.eyJvcmciOiJTRTIzMjEwMDAwMzItMTAwMSIsImlzcyI6InNhbXN5bi10ZXN0IiwiYXVkIjoic2Ftc3luIn0.AAAA',
      },
    });
    expect(res.status).toBe(401);
  });

  it('answers an invalid personnummer with 400 naming the check digit', async () => {
    const res = await h.request('/fhir/Task', {
      method: 'POST',
      org: ORGS.regionWard,
      body: JSON.stringify(sipInitiative({ identifier: 'bad-pnr', personnummer: '191212121213' })),
    });
    expect(res.status).toBe(400);
    const outcome = (await res.json()) as OperationOutcome;
    assertValidFhir(outcome);
    expect(outcome.issue[0]?.details?.coding?.[0]?.code).toBe('invalid-personnummer');
    expect(outcome.issue[0]?.diagnostics).toMatch(/check digit/);
    const search = await h.request('/fhir/Task?identifier=bad-pnr', { org: ORGS.regionWard });
    expect(((await search.json()) as Bundle).total).toBe(0);
  });

  it("refuses an initiative in another unit's name with 403", async () => {
    const res = await h.request('/fhir/Task', {
      method: 'POST',
      org: ORGS.municipalityHomeCare,
      body: JSON.stringify(sipInitiative({ identifier: 'impostor' })),
    });
    expect(res.status).toBe(403);
  });

  it('rejects an unknown search parameter instead of ignoring it', async () => {
    const res = await h.request('/fhir/Communication?recipent=SE2120000415-2001', {
      org: ORGS.municipalityHomeCare,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as OperationOutcome).issue[0]?.diagnostics).toMatch(
      /Unknown search parameter 'recipent'/,
    );
  });

  it('serves one CapabilityStatement naming the resources of every service', async () => {
    const res = await h.request('/fhir/metadata');
    expect(res.status).toBe(200);
    const cs = (await res.json()) as { resourceType: string; rest: { resource: { type: string }[] }[] };
    assertValidFhir(cs);
    expect(cs.resourceType).toBe('CapabilityStatement');
    expect(cs.rest[0]?.resource.map((r) => r.type)).toEqual(
      expect.arrayContaining(['Task', 'Communication', 'CodeSystem']),
    );
  });

  it('serves the SIP code systems', async () => {
    const res = await h.request('/fhir/CodeSystem/sip-case-status', { org: ORGS.regionWard });
    expect(res.status).toBe(200);
    const cs = (await res.json()) as { url: string; concept: { code: string }[] };
    assertValidFhir(cs);
    expect(cs.url).toBe('https://samsyn.se/fhir/CodeSystem/sip-case-status');
    expect(cs.concept.map((c) => c.code)).toContain('awaiting-consent');
  });
});
