// Mutated plans — values swapped for nasty ones, elements deleted or duplicated anywhere in the CarePlan — are
// stored whole or refused with a 4xx OperationOutcome; never a 500, never a plan that breaks reading it back.
import type { CarePlan, OperationOutcome } from '@samsyn/fhir';
import { assertValidFhir, type Harness, ORGS, startHarness } from '@samsyn/testkit';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlanStoreService } from '../src/service.ts';
import { consentedCase, sipPlan, type TestCase } from './support.ts';

const RUNS = Number(process.env.SAMSYN_FUZZ_RUNS ?? 150);

let h: Harness;
let c: TestCase;
beforeAll(async () => {
  h = await startHarness({ label: 'plan_fuzz', factories: [createPlanStoreService] });
  c = await consentedCase(h);
});
afterAll(async () => h?.stop());

const nasty = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    '',
    null,
    0,
    -1,
    true,
    [],
    {},
    '#missing',
    'Task/x',
    '2026-13-45',
    'SE2321000032-',
    'x'.repeat(5000),
  ),
);

function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return [prefix, ...value.flatMap((v, i) => pathsOf(v, [...prefix, i]))];
  if (value && typeof value === 'object')
    return [prefix, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
  return [prefix];
}

type Mutation = { kind: 'set'; value: unknown } | { kind: 'delete' } | { kind: 'duplicate' };

function mutate(value: unknown, path: (string | number)[], m: Mutation): unknown {
  if (path.length === 0) return m.kind === 'set' ? m.value : value;
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    const i = head as number;
    if (rest.length === 0 && m.kind === 'delete') copy.splice(i, 1);
    else if (rest.length === 0 && m.kind === 'duplicate') copy.splice(i, 0, copy[i]);
    else copy[i] = mutate(copy[i], rest, m);
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  if (rest.length === 0 && m.kind === 'delete') delete copy[head as string];
  else copy[head as string] = mutate(copy[head as string], rest, m);
  return copy;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: nasty.map((value) => ({ kind: 'set' as const, value })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'delete' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'duplicate' as const }) },
);

describe('fuzzing the plan', () => {
  it('stores a mutated draft whole, or refuses it with a 4xx OperationOutcome, and its summary still renders', async () => {
    let stored = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), mutation), { minLength: 1, maxLength: 3 }),
        async (mutations) => {
          // Drafts of one case: each stored one is deleted again below, so the case takes the next.
          let body: unknown = sipPlan(c.caseId, { status: 'draft' });
          for (const [pick, m] of mutations) {
            const paths = pathsOf(body);
            body = mutate(body, paths[pick % paths.length] ?? [], m);
          }
          const res = await h.request('/fhir/CarePlan', {
            method: 'POST',
            org: ORGS.regionWard,
            body: JSON.stringify(body),
          });
          const text = await res.text();
          expect(res.status, text.slice(0, 400)).toBeLessThan(500);
          if (res.status === 201) {
            stored++;
            const plan = JSON.parse(text) as CarePlan;
            assertValidFhir(plan);
            const read = await h.request(`/fhir/CarePlan/${plan.id}`, { org: ORGS.regionWard });
            expect(read.status).toBe(200);
            const summary = await h.request(`/fhir/CarePlan/${plan.id}/$summary?language=fa`, {
              org: ORGS.regionWard,
            });
            expect(summary.status, (await summary.clone().text()).slice(0, 300)).toBe(200);
            // Free the case for the next run.
            await h.database.db.execute(
              sql`delete from plan_store.care_plan_version where plan_id = ${plan.id}`,
            );
            await h.database.db.execute(sql`delete from plan_store.care_plan where id = ${plan.id}`);
          } else if (res.status !== 409) {
            const outcome = JSON.parse(text) as OperationOutcome;
            expect(outcome.resourceType).toBe('OperationOutcome');
            assertValidFhir(outcome);
          }
        },
      ),
      { numRuns: RUNS },
    );
    console.info(`plan fuzz: ${stored} of ${RUNS} mutated drafts stored`);
  }, 120_000);
});
