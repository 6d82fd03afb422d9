// The examples in docs/careplan.md come from this test: with UPDATE_DOCS=1 it writes what the service actually
// sends and answers into docs/examples/careplan/; in every run it checks that each committed request example is
// still answered the way the docs say (201 for the plan, 422 with the same missing elements for the incomplete one).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Bundle, CarePlan, OperationOutcome } from '@samsyn/fhir';
import { assertValidFhir, type Harness, ORGS, startHarness } from '@samsyn/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlanStoreService } from '../src/service.ts';
import { consentedCase, createPlan, fhir, sipPlan } from './support.ts';

const DIR = fileURLToPath(new URL('../../../docs/examples/careplan/', import.meta.url));
const UPDATE = process.env.UPDATE_DOCS === '1';
/** The case id the committed examples name; the test swaps in its own. */
const DOC_CASE = '3f6c2a9e-8b1d-4c7e-9a55-2d0e6b7f1c42';
const DOC_PLAN = '9b2e4f60-1c3a-4d8b-b7e2-5a6c8d0f2e14';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ label: 'plan_docs', factories: [createPlanStoreService] });
});
afterAll(async () => h?.stop());

/** Stable text for the docs: the test's ids become the documented ones, times become fixed ones. */
function stable(value: unknown, ids: Record<string, string>): string {
  let text = JSON.stringify(value, null, 2);
  for (const [from, to] of Object.entries(ids)) text = text.split(from).join(to);
  return `${text.replace(/"(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}:\d{2}(\.\d+)?Z"/g, '"$1T09:30:00.000Z"')}\n`;
}

function example(name: string): unknown {
  return JSON.parse(readFileSync(`${DIR}${name}`, 'utf8'));
}

function save(name: string, value: unknown, ids: Record<string, string>) {
  if (!UPDATE) return;
  mkdirSync(DIR, { recursive: true });
  writeFileSync(`${DIR}${name}`, stable(value, ids));
}

function withCase(body: unknown, caseId: string): Record<string, unknown> {
  return JSON.parse(JSON.stringify(body).split(DOC_CASE).join(caseId)) as Record<string, unknown>;
}

describe('the documented examples', () => {
  it('a complete plan is created (201), revised with the person’s approval, and its history lists both', async () => {
    const c = await consentedCase(h);
    // A far follow-up date, so the committed example stays lawful for years.
    const request = UPDATE
      ? sipPlan(c.caseId, { followUp: '2030-06-28' })
      : withCase(example('careplan-create.json'), c.caseId);
    const created = await createPlan(h, request);
    const ids = { [c.caseId]: DOC_CASE, [created.id as string]: DOC_PLAN };
    save('careplan-create.json', request, ids);
    save('careplan-created.json', created, ids);
    const proposed = await h.request(`/fhir/CarePlan/${created.id}`, {
      method: 'PUT',
      org: ORGS.municipalityHomeCare,
      headers: { 'if-match': 'W/"1"' },
      body: JSON.stringify({ ...created, title: 'SIP för Tolvan Tolvansson, reviderad' }),
    });
    const proposal = await fhir<OperationOutcome>(proposed, 202);
    save('careplan-update-202.json', proposal, ids);
    const approval = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'approvedBy', valueCode: 'person' },
        { name: 'method', valueCode: 'in-person' },
      ],
    };
    save('approve-revision.json', approval, ids);
    await fhir<CarePlan>(
      await h.request(`/fhir/CarePlan/${created.id}/$approve-revision`, {
        method: 'POST',
        org: ORGS.regionWard,
        body: JSON.stringify(approval),
      }),
      200,
    );
    const history = await fhir<Bundle>(
      await h.request(`/fhir/CarePlan/${created.id}/_history`, { org: ORGS.regionWard }),
      200,
    );
    expect(history.entry).toHaveLength(2);
    save('careplan-history.json', history, ids);
  });

  it('an incomplete plan is refused (422) with every missing element', async () => {
    const c = await consentedCase(h);
    let request: Record<string, unknown>;
    if (UPDATE) {
      request = sipPlan(c.caseId, { followUp: null });
      delete request.author;
      request.activity = (request.activity as unknown[]).slice(0, 1);
    } else request = withCase(example('careplan-incomplete.json'), c.caseId);
    const res = await h.request('/fhir/CarePlan', {
      method: 'POST',
      org: ORGS.regionWard,
      body: JSON.stringify(request),
    });
    const outcome = await fhir<OperationOutcome>(res, 422);
    const ids = { [c.caseId]: DOC_CASE };
    save('careplan-incomplete.json', request, ids);
    save('careplan-incomplete-422.json', outcome, ids);
    if (!UPDATE && existsSync(`${DIR}careplan-incomplete-422.json`)) {
      const documented = example('careplan-incomplete-422.json') as OperationOutcome;
      expect(outcome.issue.map((i) => i.diagnostics)).toEqual(documented.issue.map((i) => i.diagnostics));
    }
    for (const name of ['careplan-created.json', 'careplan-history.json', 'careplan-incomplete-422.json'])
      assertValidFhir(example(name));
  });
});
