// The consent service's FHIR routes: one sub-app per resource (Consent, AuditEvent); handlers delegate to use cases.
import type { Db } from '@samsyn/db';
import {
  fhirBase,
  parseSearch,
  type ResourceCapability,
  readResource,
  searchBundle,
  sendBundle,
  sendResource,
} from '@samsyn/fhir';
import { type AppEnv, type Auditor, requireScope } from '@samsyn/platform';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { AUDIT_EVENT_SEARCH_PARAMS, readAuditEvent, searchAuditEvents } from './access-log/review-log.ts';
import type { ConsentConfig } from './config.ts';
import type { AccessContext } from './consent/access.ts';
import { toConsent } from './consent/to-fhir.ts';
import { readConsent } from './give-consent/consent-resource.ts';
import { giveConsent } from './give-consent/give-consent.ts';
import {
  CONSENT_SEARCH_PARAMS,
  readConsentById,
  readConsentVersion,
  searchConsents,
} from './read-consent/read-consent.ts';
import { updateConsent } from './revoke-consent/revoke-consent.ts';

export interface ConsentAppDeps {
  db: Db;
  auditor: Auditor;
  /** Called after a commit that wrote to the outbox (every route logs the access), so the relay publishes at once. */
  afterCommit: () => void;
  config: ConsentConfig;
}

export const capability: ResourceCapability[] = [
  {
    type: 'Consent',
    interactions: ['create', 'read', 'vread', 'update', 'search-type'],
    versioning: 'versioned-update',
    searchParams: [
      {
        name: 'patient',
        type: 'reference',
        documentation:
          'The person by identifier: patient=<system>|<personnummer or samordningsnummer> (also patient:identifier=)',
      },
      { name: 'status', type: 'token', documentation: 'active, rejected, inactive, draft or proposed' },
      { name: '_lastUpdated', type: 'date', documentation: 'eq, ne, lt, le, gt, ge' },
    ],
    documentation:
      'Consent to a SIP (scope patient-privacy): the covered organisations (provision.actor, role IRCP), the period, what is not to be shared, who gave it. Link to the case with the sip-case extension. Update only to revoke (status inactive, If-Match required). See docs/consent.md',
  },
  {
    type: 'AuditEvent',
    interactions: ['read', 'search-type'],
    versioning: 'no-version',
    searchParams: [
      {
        name: 'patient',
        type: 'reference',
        documentation:
          'The person: <system>|<personnummer> (matched by its pseudonym) or the patient-key itself',
      },
      { name: 'agent', type: 'reference', documentation: 'HSA-id of the user or of the organisation unit' },
      { name: 'date', type: 'date', documentation: 'When the access was recorded: eq, ne, lt, le, gt, ge' },
      { name: 'action', type: 'token', documentation: 'C, R, U, D or E' },
      {
        name: 'entity',
        type: 'reference',
        documentation: 'The resource accessed, e.g. Consent/<id>, or a case Task/<id>',
      },
    ],
    documentation:
      "Patientdatalagen access log of every Samsyn service, for log review of the caller's own principal; newest first",
  },
];

function accessContext(c: Context<AppEnv>, deps: ConsentAppDeps): AccessContext {
  return {
    auth: c.var.auth,
    auditor: deps.auditor,
    patientKeySecret: deps.config.PATIENT_KEY_SECRET,
    traceparent: c.var.traceparent,
  };
}

/** Every Consent and AuditEvent route logs the access through the outbox, even when it answers with an error. */
function relayAfterEachRequest(deps: ConsentAppDeps) {
  return async (_c: Context<AppEnv>, next: () => Promise<void>) => {
    try {
      await next();
    } finally {
      deps.afterCommit();
    }
  };
}

export function consentRoutes(deps: ConsentAppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', relayAfterEachRequest(deps));

  app.post('/', async (c) => {
    requireScope(c.var.auth, 'Consent', 'c');
    const command = readConsent(await readResource(c, 'Consent'));
    const row = await giveConsent(deps.db, command, accessContext(c, deps));
    return sendResource(c, toConsent(row), { status: 201, location: fhirBase(c) });
  });

  app.get('/', async (c) => {
    requireScope(c.var.auth, 'Consent', 's');
    const search = parseSearch(new URL(c.req.url).searchParams, CONSENT_SEARCH_PARAMS);
    const page = await searchConsents(deps.db, search, accessContext(c, deps));
    return sendBundle(
      c,
      searchBundle({ ...page, requestUrl: c.req.url, count: search.count, offset: search.offset }),
    );
  });

  app.get('/:id', async (c) => {
    requireScope(c.var.auth, 'Consent', 'r');
    return sendResource(c, await readConsentById(deps.db, c.req.param('id'), accessContext(c, deps)));
  });

  app.get('/:id/_history/:vid', async (c) => {
    requireScope(c.var.auth, 'Consent', 'r');
    const { id, vid } = c.req.param();
    return sendResource(c, await readConsentVersion(deps.db, id, vid, accessContext(c, deps)));
  });

  app.put('/:id', async (c) => {
    requireScope(c.var.auth, 'Consent', 'u');
    const body = await readResource(c, 'Consent');
    const row = await updateConsent(
      deps.db,
      c.req.param('id'),
      body,
      c.req.header('if-match'),
      accessContext(c, deps),
    );
    return sendResource(c, toConsent(row));
  });

  return app;
}

export function auditEventRoutes(deps: ConsentAppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', relayAfterEachRequest(deps));

  app.get('/', async (c) => {
    requireScope(c.var.auth, 'AuditEvent', 's');
    const search = parseSearch(new URL(c.req.url).searchParams, AUDIT_EVENT_SEARCH_PARAMS);
    const page = await searchAuditEvents(deps.db, search, accessContext(c, deps));
    return sendBundle(
      c,
      searchBundle({ ...page, requestUrl: c.req.url, count: search.count, offset: search.offset }),
    );
  });

  app.get('/:id', async (c) => {
    requireScope(c.var.auth, 'AuditEvent', 'r');
    return sendResource(c, await readAuditEvent(deps.db, c.req.param('id'), accessContext(c, deps)));
  });

  return app;
}
