// The invitation service on its own: initiatives stored, events in the outbox, concurrent conditional creates.
import type { OperationOutcome, Task } from '@samsyn/fhir';
import { eventually, type Harness, ORGS, sipInitiative, startHarness } from '@samsyn/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInvitationService } from '../src/service.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ label: 'invitation', factories: [createInvitationService] });
});
afterAll(async () => h?.stop());

function post(body: unknown, headers: Record<string, string> = {}, org: string = ORGS.regionWard) {
  return h.request('/fhir/Task', {
    method: 'POST',
    org,
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('POST /fhir/Task', () => {
  it('publishes sip.case.initiated with ids and codes only, never the person', async () => {
    const res = await post(sipInitiative({ identifier: 'event-1' }));
    expect(res.status).toBe(201);
    const task = (await res.json()) as Task;
    const msg = await eventually(
      async () => {
        try {
          return await h.bus.jsm.streams.getMessage(h.bus.naming.stream('INVITATION'), {
            last_by_subj: h.bus.naming.subject('sip.case.initiated'),
          });
        } catch {
          return undefined;
        }
      },
      5000,
      'published event',
    );
    const body = JSON.parse(new TextDecoder().decode(msg.data));
    expect(body.caseId).toBe(task.id);
    expect(body.person).toEqual({ ageBand: 'older' });
    expect(body.invitations.map((i: { org: string }) => i.org)).toEqual([
      ORGS.municipalityHomeCare,
      ORGS.municipalitySocial,
    ]);
    expect(JSON.stringify(body)).not.toMatch(/Tolvan|191212121212|1912-12-12/);
    expect(msg.header.get('ce-subject')).toBe(task.id);
  });

  it('answers two concurrent conditional creates of one identifier with one Task', async () => {
    const headers = { 'if-none-exist': 'identifier=https://journal.region-exempel.se/sip-initiative|race' };
    const [a, b] = await Promise.all([
      post(sipInitiative({ identifier: 'race' }), headers),
      post(sipInitiative({ identifier: 'race' }), headers),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    expect(((await a.json()) as Task).id).toBe(((await b.json()) as Task).id);
  });

  it('stores a burst of concurrent initiatives, and refuses only the one that repeats an identifier', async () => {
    // They share transactions (group commit); the duplicate fails its shared one, and the others are kept.
    const bodies = Array.from({ length: 24 }, (_, i) => sipInitiative({ identifier: `burst-${i}` }));
    bodies.push(sipInitiative({ identifier: 'burst-7' }));
    const answers = await Promise.all(bodies.map((b) => post(b)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(24);
    expect(statuses.filter((s) => s === 409)).toHaveLength(1);
    const ids = await Promise.all(
      answers.filter((a) => a.status === 201).map(async (a) => ((await a.json()) as Task).id),
    );
    expect(new Set(ids).size).toBe(24);
    for (const id of ids) {
      const read = await h.request(`/fhir/Task/${id}`, { org: ORGS.regionWard });
      expect(read.status).toBe(200);
    }
  });

  it('refuses an If-None-Exist that names another identifier than the Task carries', async () => {
    const res = await post(sipInitiative({ identifier: 'x1' }), {
      'if-none-exist': 'identifier=https://other|x2',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as OperationOutcome).issue[0]?.diagnostics).toMatch(
      /not the Task's identifier/,
    );
  });

  it('answers a body that is not JSON with 400, and XML with 415', async () => {
    const notJson = await post('{"resourceType": "Task",');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as OperationOutcome).issue[0]?.diagnostics).toMatch(/not valid JSON/);
    const xml = await post('<Task/>', { 'content-type': 'application/fhir+xml' });
    expect(xml.status).toBe(415);
  });

  it('answers another resource type with 400 naming both', async () => {
    const res = await post({ resourceType: 'Patient' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as OperationOutcome).issue[0]?.diagnostics).toMatch(
      /Expected resourceType 'Task' but got 'Patient'/,
    );
  });

  it('refuses a token without Task create scope with 403', async () => {
    const res = await h.request('/fhir/Task', {
      method: 'POST',
      org: ORGS.regionWard,
      claims: { scopes: ['user/Task.rs'] },
      body: JSON.stringify(sipInitiative({ identifier: 'scope' })),
    });
    expect(res.status).toBe(403);
  });

  it('lets the initiator find the initiative by identifier and read each invitation Task', async () => {
    const created = (await (await post(sipInitiative({ identifier: 'find-me' }))).json()) as Task;
    const search = await h.request(
      '/fhir/Task?identifier=https://journal.region-exempel.se/sip-initiative|find-me',
      {
        org: ORGS.regionWard,
      },
    );
    const bundle = (await search.json()) as { total: number; entry: { resource: Task }[] };
    expect(bundle.total).toBe(1);
    expect(bundle.entry[0]?.resource.id).toBe(created.id);
    const invitationRef = created.input?.[0]?.valueReference?.reference as string;
    const inv = (await (
      await h.request(`/fhir/${invitationRef}`, { org: ORGS.municipalityHomeCare })
    ).json()) as Task;
    expect(inv.code?.coding?.[0]?.code).toBe('sip-invitation');
    expect(inv.partOf?.[0]?.reference).toBe(`Task/${created.id}`);
    expect(inv.owner?.identifier?.value).toBe(ORGS.municipalityHomeCare);
    expect(inv.status).toBe('requested');
    // The other invitee may not read this unit's invitation.
    const probe = await h.request(`/fhir/${invitationRef}`, { org: ORGS.municipalitySocial });
    expect(probe.status).toBe(404);
  });

  it('answers a malformed id like an unknown one', async () => {
    const res = await h.request('/fhir/Task/not-a-uuid', { org: ORGS.regionWard });
    expect(res.status).toBe(404);
  });
});
