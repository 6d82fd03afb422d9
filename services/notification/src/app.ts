// The notification service's FHIR routes: Communication (the staff notifications) and its operations.
import type { Db } from '@samsyn/db';
import {
  InvalidRequest,
  MethodNotAllowed,
  parseSearch,
  type ResourceCapability,
  readResource,
  searchBundle,
  sendBundle,
  sendResource,
} from '@samsyn/fhir';
import { type AppEnv, requireScope } from '@samsyn/platform';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { type Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { fromParameters, readPreferences, savePreference, toParameters } from './email/preference.ts';
import { kallelseFor, toBinary } from './kallelse/kallelse.ts';
import type { LiveHub } from './live/hub.ts';
import { markCommunication } from './mark-communication/mark.ts';
import {
  COMMUNICATION_SEARCH_PARAMS,
  findOwnRow,
  INBOX_STATE_EXTENSION,
  INBOX_STATES,
  type InboxState,
  readCommunication,
  searchCommunications,
  toCommunication,
} from './read-communication/communication.ts';

export const capability: ResourceCapability[] = [
  {
    type: 'Communication',
    interactions: ['read', 'search-type', 'patch'],
    searchParams: [
      { name: 'recipient', type: 'reference', documentation: 'HSA-id of the receiving unit (only your own)' },
      { name: 'category', type: 'token', documentation: 'Notification type (sip-notification-type)' },
      { name: 'status', type: 'token', documentation: 'Inbox state: unread, read or done' },
      {
        name: 'about',
        type: 'reference',
        documentation: 'Task/<case or invitation>, Appointment/<id>, CarePlan/<id>',
      },
      { name: 'sent', type: 'date' },
    ],
    documentation:
      'Notifications to staff units. PATCH (JSON Patch) or $mark changes the inbox-state extension; $stream is a ' +
      'Server-Sent Events feed of changes; $email-preference reads or sets e-mail delivery; $kallelse renders the ' +
      "citizen's meeting letter (appointment, language).",
  },
];

export interface CommunicationDeps {
  db: Db;
  live: LiveHub;
  /** Heartbeat interval of $stream, so proxies keep the connection open. */
  streamHeartbeatMs?: number;
}

function origin(url: string): string {
  return new URL(url).origin;
}

function stateFromParameters(body: Record<string, unknown>): InboxState {
  const params = (Array.isArray(body.parameter) ? body.parameter : []) as {
    name?: string;
    valueCode?: string;
    valueString?: string;
  }[];
  const state = params.find((p) => p?.name === 'state');
  const value = state?.valueCode ?? state?.valueString;
  if (body.resourceType !== 'Parameters' || !value || !(INBOX_STATES as readonly string[]).includes(value)) {
    throw new InvalidRequest(
      'invalid-parameters',
      `$mark takes Parameters with state = ${INBOX_STATES.join(' | ')} (valueCode)`,
    );
  }
  return value as InboxState;
}

export function communicationRoutes(deps: CommunicationDeps): Hono<AppEnv> {
  const { db, live } = deps;
  const app = new Hono<AppEnv>();

  app.get('/', async (c) => {
    requireScope(c.var.auth, 'Communication', 's');
    const search = parseSearch(new URL(c.req.url).searchParams, COMMUNICATION_SEARCH_PARAMS);
    const page = await searchCommunications(db, search, c.var.auth.org, origin(c.req.url));
    return sendBundle(
      c,
      searchBundle({ ...page, requestUrl: c.req.url, count: search.count, offset: search.offset }),
    );
  });

  // Server-Sent Events: one `communication` event with the resource each time one of the unit's notifications
  // is created or changes; a comment line as heartbeat.
  app.get('/$stream', async (c) => {
    requireScope(c.var.auth, 'Communication', 's');
    const org = c.var.auth.org;
    const base = origin(c.req.url);
    return streamSSE(c, async (stream) => {
      const queue: string[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = live.subscribe(org, (change) => {
        queue.push(change.id);
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      await live.flush();
      await stream.writeSSE({ event: 'ready', data: JSON.stringify({ org }) });
      const heartbeat = deps.streamHeartbeatMs ?? 15_000;
      while (!stream.aborted && !stream.closed) {
        const id = queue.shift();
        if (!id) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, heartbeat);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
          if (queue.length === 0 && !stream.aborted) await stream.write(': heartbeat\n\n');
          continue;
        }
        const row = await findOwnRow(db, id, org).catch(() => undefined);
        if (row) {
          await stream.writeSSE({
            event: 'communication',
            id: `${row.id}/${row.versionId}`,
            data: JSON.stringify(toCommunication(row, base)),
          });
        }
      }
      unsubscribe();
    });
  });

  app.get('/$email-preference', async (c) => {
    requireScope(c.var.auth, 'Communication', 'r');
    return sendResource(c, toParameters(await readPreferences(db, c.var.auth.org, c.var.auth.subject)));
  });

  app.post('/$email-preference', async (c) => {
    requireScope(c.var.auth, 'Communication', 'u');
    const input = fromParameters(await readResource(c, 'Parameters'));
    await savePreference(db, c.var.auth.org, c.var.auth.subject, input);
    return sendResource(c, toParameters(await readPreferences(db, c.var.auth.org, c.var.auth.subject)));
  });

  // The citizen kallelse for a meeting: HTML to print (Accept: text/html) or a Binary holding it.
  app.get('/$kallelse', async (c) => {
    requireScope(c.var.auth, 'Communication', 'r');
    const q = new URL(c.req.url).searchParams;
    for (const key of q.keys()) {
      if (key !== 'appointment' && key !== 'language') {
        throw new InvalidRequest(
          'invalid-parameters',
          `Unknown $kallelse parameter '${key}'; supported: appointment, language`,
        );
      }
    }
    const appointment = q.get('appointment') ?? '';
    const kallelse = await kallelseFor(db, appointment, q.get('language') || undefined, c.var.auth.org);
    if (/text\/html/.test(c.req.header('accept') ?? '')) {
      return c.html(kallelse.html, 200, { 'content-language': kallelse.language });
    }
    return sendResource(c, toBinary(kallelse, appointment));
  });

  app.get('/:id', async (c) => {
    requireScope(c.var.auth, 'Communication', 'r');
    return sendResource(c, await readCommunication(db, c.req.param('id'), c.var.auth.org, origin(c.req.url)));
  });

  async function mark(c: Context<AppEnv>, state: InboxState) {
    const ifMatch = c.req.header('if-match');
    const { row, changed } = await markCommunication(db, c.req.param('id') ?? '', state, {
      org: c.var.auth.org,
      user: c.var.auth.subject,
      ...(ifMatch !== undefined ? { ifMatch } : {}),
    });
    if (changed) live.publish(row.recipientOrg, { id: row.id, change: 'updated' });
    return sendResource(c, toCommunication(row, origin(c.req.url)));
  }

  app.post('/:id/$mark', async (c) => {
    requireScope(c.var.auth, 'Communication', 'u');
    return mark(c, stateFromParameters(await readResource(c, 'Parameters')));
  });

  app.patch('/:id', async (c) => {
    requireScope(c.var.auth, 'Communication', 'u');
    if (!/^application\/json-patch\+json\b/i.test(c.req.header('content-type') ?? '')) {
      throw new InvalidRequest(
        'unsupported-patch',
        'PATCH takes a JSON Patch (Content-Type: application/json-patch+json)',
      );
    }
    const current = toCommunication(await findOwnRow(db, c.req.param('id'), c.var.auth.org));
    let operations: unknown;
    try {
      operations = JSON.parse(await c.req.text());
    } catch (err) {
      throw new InvalidRequest('invalid-json', `The JSON Patch is not valid JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(operations))
      throw new InvalidRequest('invalid-patch', 'A JSON Patch is an array of operations');
    let after: typeof current;
    try {
      after = jsonpatch.applyPatch(
        structuredClone(current),
        operations as Operation[],
        true,
        false,
      ).newDocument;
    } catch (err) {
      throw new InvalidRequest(
        'invalid-patch',
        `The JSON Patch cannot be applied: ${(err as Error).message.split('\n')[0]}`,
      );
    }
    const { extension: beforeExt, meta: _m1, ...beforeRest } = current;
    const { extension: afterExt, meta: _m2, ...afterRest } = after;
    if (JSON.stringify(beforeRest) !== JSON.stringify(afterRest)) {
      throw new InvalidRequest(
        'field-not-changeable',
        `Only the inbox state (extension ${INBOX_STATE_EXTENSION}) of a notification may change`,
      );
    }
    const others = (e: typeof beforeExt) =>
      JSON.stringify((e ?? []).filter((x) => x.url !== INBOX_STATE_EXTENSION));
    if (others(beforeExt) !== others(afterExt)) {
      throw new InvalidRequest('field-not-changeable', 'Only the inbox-state extension may change');
    }
    const state = afterExt?.find((e) => e.url === INBOX_STATE_EXTENSION)?.valueCode;
    if (!state || !(INBOX_STATES as readonly string[]).includes(state)) {
      throw new InvalidRequest(
        'invalid-inbox-state',
        `The inbox-state extension must be one of ${INBOX_STATES.join(', ')}`,
      );
    }
    return mark(c, state as InboxState);
  });

  for (const method of ['put', 'delete'] as const) {
    app[method]('/:id', () => {
      throw new MethodNotAllowed(
        'Notifications are created by Samsyn; only their inbox state changes (PATCH or $mark)',
      );
    });
  }
  app.post('/', () => {
    throw new MethodNotAllowed('Notifications are created by Samsyn from events, not by clients');
  });
  return app;
}
