// Property-based fuzzing of every endpoint the CapabilityStatement declares: generated malformed and borderline
// payloads, ids and search queries always get a success or a 4xx OperationOutcome — never a 5xx, never a half-case.
// SAMSYN_FUZZ_RUNS sets the generated cases per property (CI: the default; `npm run test:soak`: 10,000 or more).
import type { Bundle, CapabilityStatement, OperationOutcome, Task } from '@samsyn/fhir';
import {
  eventually,
  type Harness,
  HSA,
  ORGS,
  PERSONNUMMER,
  sipInitiative,
  startHarness,
} from '@samsyn/testkit';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_FACTORIES } from '../src/samsyn.ts';
import { consentFor, draftPlan } from './fixtures.ts';

const RUNS = Number(process.env.SAMSYN_FUZZ_RUNS ?? 150);
/** Enough time for the soak count (10,000 requests per property at a few ms each). */
const TIMEOUT = Math.max(60_000, RUNS * 60);

type RestResource = NonNullable<NonNullable<CapabilityStatement['rest']>[number]['resource']>[number];

let h: Harness;
let resources: RestResource[] = [];
let requests = 0;
const created: { id: string; invitees: number }[] = [];

beforeAll(async () => {
  h = await startHarness({ label: 'fuzz', factories: Object.values(SERVICE_FACTORIES) });
  const res = await h.app.request('http://samsyn.test/fhir/metadata');
  resources = ((await res.json()) as CapabilityStatement).rest?.[0]?.resource ?? [];
}, 120_000);
afterAll(async () => {
  console.info(`fuzz: ${requests} generated requests, ${created.length} initiatives accepted`);
  await h?.stop();
});

/** Sends one request and checks the one promise every endpoint makes: success, or a 4xx OperationOutcome. */
async function expectNoServerError(
  path: string,
  init: RequestInit & { org?: string } = {},
): Promise<{ status: number; body: unknown }> {
  requests++;
  const res = await h.request(path, { org: ORGS.regionWard, ...init });
  const text = await res.text();
  const what = `${init.method ?? 'GET'} ${path} → ${res.status}: ${text.slice(0, 400)}`;
  expect(res.status, what).toBeLessThan(500);
  let body: unknown;
  if (text.length > 0 && (res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
  if (res.status >= 400) {
    expect((body as OperationOutcome | undefined)?.resourceType, what).toBe('OperationOutcome');
    expect((body as OperationOutcome).issue?.[0]?.diagnostics ?? '', what).not.toBe('');
  }
  return { status: res.status, body };
}

// --- generators -------------------------------------------------------------------------------------------------

/** Values that break parsers and validators: wrong types, empty, huge, odd Unicode, near-valid identifiers. */
const nasty = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    '',
    ' ',
    null,
    0,
    -1,
    1e308,
    true,
    [],
    {},
    '191212121213', // Luhn off by one
    '19121212-1212',
    '201302301234', // 30 February
    '190061234567', // samordningsnummer day 61
    'SE2321000032-',
    'SE2321000032-1001\u0000',
    '2026-13-45',
    '2026-11-23T25:61:00Z',
    '\u202e\u0627\u0644\u0639\u0631\u0628\u064a\u0629',
    'x'.repeat(100_000),
    '<script>alert(1)</script>',
    "'; drop table invitation.cases; --",
    '#p',
    '#missing',
    'Task/../../etc/passwd',
  ),
);

/** A path into a JSON value, chosen among the paths that exist in it. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return [prefix, ...value.flatMap((v, i) => pathsOf(v, [...prefix, i]))];
  if (value && typeof value === 'object') {
    return [prefix, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
  }
  return [prefix];
}

type Mutation = { kind: 'set'; value: unknown } | { kind: 'delete' } | { kind: 'duplicate' };

function mutate(value: unknown, path: (string | number)[], mutation: Mutation): unknown {
  if (path.length === 0)
    return mutation.kind === 'set' ? mutation.value : mutation.kind === 'delete' ? {} : value;
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    const i = head as number;
    if (rest.length === 0 && mutation.kind === 'delete') copy.splice(i, 1);
    else if (rest.length === 0 && mutation.kind === 'duplicate') copy.splice(i, 0, copy[i]);
    else copy[i] = mutate(copy[i], rest, mutation);
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  const key = head as string;
  if (rest.length === 0 && mutation.kind === 'delete') delete copy[key];
  else copy[key] = mutate(copy[key], rest, mutation);
  return copy;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: nasty.map((value) => ({ kind: 'set' as const, value })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'delete' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'duplicate' as const }) },
);

const invitees = fc.uniqueArray(
  fc.record({
    org: fc.constantFrom(
      ORGS.municipalityHomeCare,
      ORGS.municipalitySocial,
      ORGS.municipalityOtherUnit,
      ORGS.regionWard,
      'SE2321000099-0000',
    ),
    kind: fc.constantFrom('summoned' as const, 'invited' as const),
  }),
  { minLength: 0, maxLength: 4, selector: (i) => i.org },
);

/** An initiative with one to three mutations applied somewhere in it. */
const mutatedInitiative = fc
  .tuple(
    fc.uuid(),
    invitees,
    fc.constantFrom('191212121212', '201503120121', '198001019879', '190061234565'),
    fc.array(fc.tuple(fc.nat(), mutation), { minLength: 0, maxLength: 3 }),
  )
  .map(([identifier, inv, personnummer, mutations]) => {
    let payload: unknown = sipInitiative({ identifier, invitees: inv, personnummer });
    for (const [pick, m] of mutations) {
      const paths = pathsOf(payload);
      payload = mutate(payload, paths[pick % paths.length] ?? [], m);
    }
    return payload;
  });

/** Bodies that are not FHIR at all, or barely. */
const rawBody = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.constantFrom('{', '{"resourceType":', '[]', 'null', '{"resourceType":"Patient"}', '\u0000'),
  fc
    .dictionary(fc.string({ maxLength: 12 }), nasty)
    .map((o) => JSON.stringify({ resourceType: 'Task', ...o })),
);

const contentType = fc.constantFrom(
  'application/fhir+json',
  'application/json',
  'application/json-patch+json',
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
);

const searchValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    'ge2026-11-01',
    'lt2026-11-01T10:00:00.123+01:00',
    'eq2026',
    'ap2026-13',
    'xx2026-11-01',
    `${HSA}|${ORGS.regionWard}`,
    ORGS.municipalityHomeCare,
    `${PERSONNUMMER}|191212121212`,
    '|',
    'a|b|c',
    ',,,',
    'Task/',
    `Task/${'0'.repeat(36)}`,
    '-1',
    '1e9',
    'a\u0000b',
    // Sent as they are (not encoded): broken percent-encoding and bytes that are not UTF-8.
    '%ff%fe',
    '%zz',
    '%',
  ),
);

function searchQuery(resource: RestResource): fc.Arbitrary<string> {
  const declared = (resource.searchParam ?? []).map((p) => p.name);
  const name = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...declared, '_count', '_offset', '_sort', '_total') },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
  );
  const modifier = fc.constantFrom('', ':identifier', ':missing', ':exact', ':not', ':contains', ':bogus');
  return fc
    .array(fc.tuple(name, modifier, searchValue), { maxLength: 4 })
    .map((params) =>
      params
        .map(([n, m, v]) => `${encodeURIComponent(n + m)}=${v.startsWith('%') ? v : encodeURIComponent(v)}`)
        .join('&'),
    );
}

const methodFor = (r: RestResource) => {
  const methods: string[] = [];
  const has = (code: string) => r.interaction?.some((i) => i.code === code);
  if (has('create')) methods.push('POST');
  if (has('update')) methods.push('PUT');
  if (has('patch')) methods.push('PATCH');
  return methods;
};

// --- properties -------------------------------------------------------------------------------------------------

describe('fuzzing every declared endpoint', () => {
  it(
    'stores a mutated initiative whole or refuses it with a 4xx OperationOutcome',
    async () => {
      await fc.assert(
        fc.asyncProperty(mutatedInitiative, async (payload) => {
          const { status, body } = await expectNoServerError('/fhir/Task', {
            method: 'POST',
            body: JSON.stringify(payload),
          });
          if (status === 201) {
            const task = body as Task;
            const invited = (task.input ?? []).filter((i) => i.valueReference?.identifier?.value).length;
            created.push({ id: task.id ?? '', invitees: invited });
            const read = await expectNoServerError(`/fhir/Task/${task.id}`);
            expect(read.status).toBe(200);
          }
        }),
        { numRuns: RUNS },
      );
      // The well-formed share of the generated payloads must have been accepted, or the property tests nothing.
      expect(created.length).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  it(
    'stores a mutated consent or plan for a real case whole or refuses it with a 4xx OperationOutcome',
    async () => {
      const res = await h.request('/fhir/Task', {
        method: 'POST',
        org: ORGS.regionWard,
        body: JSON.stringify(sipInitiative({ identifier: 'fuzz-consent-plan' })),
      });
      const caseId = ((await res.json()) as Task).id as string;
      created.push({ id: caseId, invitees: 2 });
      // consent and plan-store learn of the case from its event; wait until a valid consent is taken.
      await eventually(async () => {
        const r = await h.request('/fhir/Consent', {
          method: 'POST',
          org: ORGS.regionWard,
          body: JSON.stringify(consentFor(caseId)),
        });
        return r.status === 201 ? true : undefined;
      }, 10_000);
      const mutated = (base: Record<string, unknown>) =>
        fc.array(fc.tuple(fc.nat(), mutation), { minLength: 1, maxLength: 3 }).map((mutations) => {
          let payload: unknown = base;
          for (const [pick, m] of mutations) {
            const paths = pathsOf(payload);
            payload = mutate(payload, paths[pick % paths.length] ?? [], m);
          }
          return payload;
        });
      const target = fc.oneof(
        mutated(consentFor(caseId)).map((body) => ({ type: 'Consent', body })),
        mutated(draftPlan(caseId)).map((body) => ({ type: 'CarePlan', body })),
      );
      await fc.assert(
        fc.asyncProperty(target, async ({ type, body }) => {
          const { status, body: answer } = await expectNoServerError(`/fhir/${type}`, {
            method: 'POST',
            body: JSON.stringify(body),
          });
          if (status === 201) {
            const read = await expectNoServerError(`/fhir/${type}/${(answer as { id: string }).id}`);
            expect(read.status).toBe(200);
          }
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'answers arbitrary bodies and content types on every create, update, patch and operation',
    async () => {
      const targets = resources.flatMap((r) => [
        ...methodFor(r).map((method) => ({
          method,
          type: r.type,
          operation: undefined as string | undefined,
        })),
        ...(r.operation ?? []).map((op) => ({ method: 'POST', type: r.type, operation: op.name })),
      ]);
      expect(targets.length).toBeGreaterThan(0);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...targets),
          rawBody,
          contentType,
          fc.constantFrom('existing', 'random'),
          async (target, body, type, which) => {
            const id = which === 'existing' && created[0] ? created[0].id : crypto.randomUUID();
            const path =
              target.method === 'POST' && !target.operation
                ? `/fhir/${target.type}`
                : `/fhir/${target.type}/${id}${target.operation ? `/$${target.operation}` : ''}`;
            await expectNoServerError(path, {
              method: target.method,
              body,
              headers: { 'content-type': type },
            });
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'answers generated search queries on every type with a Bundle or a 4xx OperationOutcome',
    async () => {
      const searchable = resources.filter((r) => r.interaction?.some((i) => i.code === 'search-type'));
      expect(searchable.length).toBeGreaterThan(0);
      const query = fc
        .constantFrom(...searchable)
        .chain((r) => searchQuery(r).map((q) => ({ type: r.type, q })));
      await fc.assert(
        fc.asyncProperty(query, async ({ type, q }) => {
          const { status, body } = await expectNoServerError(`/fhir/${type}?${q}`);
          if (status === 200) expect((body as Bundle).resourceType).toBe('Bundle');
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'answers generated ids and history paths with 200, 400 or 404',
    async () => {
      const readable = resources.filter((r) => r.interaction?.some((i) => i.code === 'read'));
      const id = fc.oneof(
        fc.uuid(),
        fc.string({ minLength: 1, maxLength: 80 }),
        fc.constant('x'.repeat(5000)),
      );
      const suffix = fc.constantFrom(
        '',
        '/_history',
        '/_history/1',
        '/_history/0',
        '/_history/abc',
        '/_history/99',
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...readable), id, suffix, async (r, raw, tail) => {
          const { status } = await expectNoServerError(`/fhir/${r.type}/${encodeURIComponent(raw)}${tail}`);
          expect([200, 400, 404, 405, 410]).toContain(status);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it('never leaves a half-stored case: every accepted initiative has exactly its invitations', async () => {
    const rows = (await h.database.db.execute(sql`
      select c.id::text as id, count(i.id)::int as invitations
      from invitation."case" c left join invitation.invitation i on i.case_id = c.id
      group by c.id`)) as unknown as { id: string; invitations: number }[];
    const byId = new Map(rows.map((r) => [r.id, r.invitations]));
    expect(byId.size).toBe(created.length);
    for (const c of created) expect(byId.get(c.id), `case ${c.id}`).toBe(c.invitees);
  });
});
