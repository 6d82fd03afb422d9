// The notification service's FHIR routes: Communication (the staff notifications).
import type { Db } from '@samsyn/db';
import { parseSearch, type ResourceCapability, searchBundle, sendBundle, sendResource } from '@samsyn/fhir';
import { type AppEnv, requireScope } from '@samsyn/platform';
import { Hono } from 'hono';
import {
  COMMUNICATION_SEARCH_PARAMS,
  readCommunication,
  searchCommunications,
} from './read-communication/read-communication.ts';

export const capability: ResourceCapability[] = [
  {
    type: 'Communication',
    interactions: ['read', 'search-type'],
    searchParams: [
      { name: 'recipient', type: 'reference', documentation: 'HSA-id of the receiving unit (only your own)' },
      { name: 'category', type: 'token' },
    ],
    documentation: 'Notifications to staff units',
  },
];

export function communicationRoutes(deps: { db: Db }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', async (c) => {
    requireScope(c.var.auth, 'Communication', 's');
    const search = parseSearch(new URL(c.req.url).searchParams, COMMUNICATION_SEARCH_PARAMS);
    const page = await searchCommunications(deps.db, search, c.var.auth.org);
    return sendBundle(
      c,
      searchBundle({ ...page, requestUrl: c.req.url, count: search.count, offset: search.offset }),
    );
  });
  app.get('/:id', async (c) => {
    requireScope(c.var.auth, 'Communication', 'r');
    return sendResource(c, await readCommunication(deps.db, c.req.param('id'), c.var.auth.org));
  });
  return app;
}
