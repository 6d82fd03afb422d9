// The plan-store's FHIR routes: one sub-app for CarePlan; each handler checks the scope and delegates to a use case.
import {
  type CarePlan,
  fhirBase,
  operationOutcome,
  parseSearch,
  type ResourceCapability,
  readResource,
  searchBundle,
  sendBundle,
  sendResource,
} from '@samsyn/fhir';
import { type AppEnv, requireScope } from '@samsyn/platform';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { createPlan } from './create-plan/create-plan.ts';
import { deliveryStatus } from './deliver/status.ts';
import { closePlan, recordFollowUp } from './follow-up/follow-up.ts';
import { planSummary, shareWithPerson } from './person-copy/share.ts';
import type { Parameters } from './plan/parameters.ts';
import { type PlanContext, type PlanDeps, toCarePlan } from './plan/store.ts';
import {
  CAREPLAN_SEARCH_PARAMS,
  planHistory,
  readPlan,
  readPlanVersion,
  searchPlans,
} from './read-plan/read-plan.ts';
import { approveRevision, rejectRevision } from './revise-plan/approve-revision.ts';
import { updatePlan } from './revise-plan/update-plan.ts';

export interface PlanAppDeps extends PlanDeps {
  /** Called after every request: the relay publishes what it wrote, the push worker sends what it scheduled. */
  afterCommit: () => void;
}

export const capability: ResourceCapability[] = [
  {
    type: 'CarePlan',
    interactions: ['create', 'read', 'vread', 'update', 'history-instance', 'search-type'],
    versioning: 'versioned-update',
    searchParams: [
      {
        name: 'patient',
        type: 'reference',
        documentation: 'The person: patient=<system>|<personnummer> (also patient:identifier=)',
      },
      { name: 'subject', type: 'reference', documentation: 'Same as patient' },
      { name: 'status', type: 'token', documentation: 'draft, active, completed, revoked …' },
      {
        name: 'author',
        type: 'reference',
        documentation: 'The lead organisation by HSA-id (author=urn:oid:1.2.752.29.4.19|<HSA-id>)',
      },
      { name: 'date', type: 'date', documentation: 'The period the plan covers: eq, lt, le, gt, ge' },
      { name: '_lastUpdated', type: 'date', documentation: 'eq, ne, lt, le, gt, ge' },
    ],
    operations: [
      'approve-revision',
      'reject-revision',
      'follow-up',
      'close',
      'summary',
      'share-with-person',
      'delivery-status',
    ].map((name) => ({ name, definition: `https://samsyn.se/fhir/OperationDefinition/CarePlan-${name}` })),
    documentation:
      'The SIP plan, with contained Goals and CareTeam; author = lead organisation. Updates need If-Match; a change to an active plan is a proposal (202) until $approve-revision records the person’s approval. Operations: $approve-revision, $reject-revision, $follow-up, $close, $summary, $share-with-person, $delivery-status. See docs/careplan.md',
  },
];

function planContext(c: Context<AppEnv>): PlanContext {
  return { auth: c.var.auth, traceparent: c.var.traceparent };
}

async function optionalParameters(c: Context<AppEnv>): Promise<Parameters | undefined> {
  const length = c.req.header('content-length');
  if (length === '0' || (!length && !c.req.header('content-type'))) return undefined;
  return (await readResource(c, 'Parameters')) as unknown as Parameters;
}

export function carePlanRoutes(deps: PlanAppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', async (_c, next) => {
    try {
      await next();
    } finally {
      deps.afterCommit();
    }
  });

  app.post('/', async (c) => {
    requireScope(c.var.auth, 'CarePlan', 'c');
    const row = await createPlan(deps, await readResource(c, 'CarePlan'), planContext(c));
    return sendResource(c, toCarePlan(row), { status: 201, location: fhirBase(c) });
  });

  app.get('/', async (c) => {
    requireScope(c.var.auth, 'CarePlan', 's');
    const search = parseSearch(new URL(c.req.url).searchParams, CAREPLAN_SEARCH_PARAMS, {
      sortable: ['_lastUpdated'],
    });
    const page = await searchPlans(deps, search, planContext(c));
    return sendBundle(
      c,
      searchBundle({ ...page, requestUrl: c.req.url, count: search.count, offset: search.offset }),
    );
  });

  app.get('/:id', async (c) => {
    requireScope(c.var.auth, 'CarePlan', 'r');
    return sendResource(c, toCarePlan(await readPlan(deps, c.req.param('id'), planContext(c))));
  });

  app.get('/:id/_history', async (c) => {
    requireScope(c.var.auth, 'CarePlan', 'r');
    return sendBundle(c, await planHistory(deps, c.req.param('id'), fhirBase(c), planContext(c)));
  });

  app.get('/:id/_history/:vid', async (c) => {
    requireScope(c.var.auth, 'CarePlan', 'r');
    const { id, vid } = c.req.param();
    return sendResource(c, await readPlanVersion(deps, id, vid, planContext(c)));
  });

  app.put('/:id', async (c) => {
    requireScope(c.var.auth, 'CarePlan', 'u');
    const body = await readResource(c, 'CarePlan');
    const result = await updatePlan(deps, c.req.param('id'), body, c.req.header('if-match'), planContext(c));
    if (result.kind === 'applied') return sendResource(c, toCarePlan(result.row));
    const outcome = operationOutcome([
      {
        severity: 'information',
        code: 'informational',
        diagnostics: `The change to active CarePlan/${result.row.id} is recorded as a proposal; it takes effect when the person's approval is recorded with $approve-revision (SPEC §3). The plan stays at version ${result.row.versionId} until then.`,
      },
    ]);
    return c.body(JSON.stringify(outcome), 202, {
      'content-type': 'application/fhir+json; charset=utf-8',
      etag: `W/"${result.row.versionId}"`,
    });
  });

  app.post('/:id/$approve-revision', async (c) => {
    requireScope(c.var.auth, 'CarePlan', 'u');
    const body = (await readResource(c, 'Parameters')) as unknown as Parameters;
    const row = await approveRevision(
      deps,
      c.req.param('id'),
      body,
      c.req.header('if-match'),
      planContext(c),
    );
    return sendResource(c, toCarePlan(row));
  });

  app.post('/:id/$reject-revision', async (c) => {
    requireScope(c.var.auth, 'CarePlan', 'u');
    return sendResource(c, toCarePlan(await rejectRevision(deps, c.req.param('id'), planContext(c))));
  });

  app.post('/:id/$follow-up', async (c) => {
    requireScope(c.var.auth, 'CarePlan', 'u');
    const row = await recordFollowUp(
      deps,
      c.req.param('id'),
      await optionalParameters(c),
      c.req.header('if-match'),
      planContext(c),
    );
    return sendResource(c, toCarePlan(row));
  });

  app.post('/:id/$close', async (c) => {
    requireScope(c.var.auth, 'CarePlan', 'u');
    const row = await closePlan(
      deps,
      c.req.param('id'),
      await optionalParameters(c),
      c.req.header('if-match'),
      planContext(c),
    );
    return sendResource(c, toCarePlan(row));
  });

  app.get('/:id/$summary', async (c) => {
    requireScope(c.var.auth, 'CarePlan', 'r');
    const { html, language } = await planSummary(
      deps,
      c.req.param('id'),
      c.req.query('language') ?? c.req.query('_language'),
      planContext(c),
    );
    return c.body(html, 200, { 'content-type': 'text/html; charset=utf-8', 'content-language': language });
  });

  app.post('/:id/$share-with-person', async (c) => {
    requireScope(c.var.auth, 'CarePlan', 'u');
    const shared = await shareWithPerson(
      deps,
      c.req.param('id'),
      await optionalParameters(c),
      planContext(c),
    );
    const result: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'sharedAt', valueInstant: shared.sharedAt.toISOString() },
        { name: 'version', valueString: String(shared.versionId) },
        { name: 'language', valueCode: shared.language },
      ],
    };
    return c.body(JSON.stringify(result), 200, { 'content-type': 'application/fhir+json; charset=utf-8' });
  });

  app.get('/:id/$delivery-status', async (c) => {
    requireScope(c.var.auth, 'CarePlan', 'r');
    const result = await deliveryStatus(deps, c.req.param('id'), planContext(c));
    return c.body(JSON.stringify(result), 200, { 'content-type': 'application/fhir+json; charset=utf-8' });
  });

  return app;
}

export type { CarePlan };
