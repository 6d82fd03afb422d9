// FHIR Flag: deviations (avvikelser), read-only, for the organisation concerned and the case's initiator.
import type { Db } from '@samsyn/db';
import { parseSearch, type ResourceCapability, searchBundle, sendBundle, sendResource } from '@samsyn/fhir';
import {
  type AppEnv,
  type AuditInteraction,
  type Auditor,
  createAuditor,
  requireScope,
} from '@samsyn/platform';
import { type Context, Hono } from 'hono';
import { DEVIATION_SYSTEM } from '../appointment/codes.ts';
import { outbox } from '../db/schema.ts';
import { type DeviationHit, FLAG_SEARCH_PARAMS, readDeviation, searchDeviations } from './read-deviation.ts';

export interface FlagDeps {
  db: Db;
  afterCommit: () => void;
  /** The access log (Patientdatalagen); one writing to this service's outbox when not given. */
  auditor?: Auditor;
}

/** This module's part of the CapabilityStatement. */
export const flagCapability: ResourceCapability = {
  type: 'Flag',
  interactions: ['read', 'search-type'],
  searchParams: [
    {
      name: 'subject',
      type: 'reference',
      documentation:
        'The organisation the deviation concerns: subject:identifier=urn:oid:1.2.752.29.4.19|<HSA-id>',
    },
    { name: 'code', type: 'token', documentation: `Cause (${DEVIATION_SYSTEM})` },
    { name: 'date', type: 'date', documentation: 'When the deviation was reported' },
    { name: '_id', type: 'token' },
  ],
  documentation:
    'SIP deviations (avvikelser): a summoned organisation absent from the meeting, a missed discharge summons deadline, an unanswered invitation. Visible to the organisation concerned and the initiator.',
};

export function flagRoutes(deps: FlagDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const auditor = deps.auditor ?? createAuditor({ outbox, service: 'invitation' });

  async function logReads(c: Context<AppEnv>, interaction: AuditInteraction, hits: DeviationHit[]) {
    if (hits.length === 0) return;
    await deps.db.transaction(async (tx) => {
      for (const h of hits) {
        await auditor.record(tx, {
          auth: c.var.auth,
          interaction,
          patientKey: h.row.patientKey,
          caseId: h.row.id,
          resource: `Flag/${h.deviation.id}`,
          ...(c.var.traceparent ? { traceparent: c.var.traceparent } : {}),
        });
      }
    });
    deps.afterCommit();
  }

  app.get('/', async (c) => {
    requireScope(c.var.auth, 'Flag', 's');
    const search = parseSearch(new URL(c.req.url).searchParams, FLAG_SEARCH_PARAMS, { maxCount: 200 });
    const { hits, total } = await searchDeviations(deps.db, search, c.var.auth.org);
    await logReads(c, 'search-type', hits);
    return sendBundle(
      c,
      searchBundle({
        resources: hits.map((h) => h.resource),
        total,
        requestUrl: c.req.url,
        count: search.count,
        offset: search.offset,
      }),
    );
  });

  app.get('/:id', async (c) => {
    requireScope(c.var.auth, 'Flag', 'r');
    const hit = await readDeviation(deps.db, c.req.param('id'), c.var.auth.org);
    await logReads(c, 'read', [hit]);
    return sendResource(c, hit.resource);
  });

  return app;
}
