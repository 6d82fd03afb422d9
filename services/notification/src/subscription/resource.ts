// The Subscription resource as record systems send and read it (R4 Subscriptions Backport IG, topic-based
// rest-hook), and the notification Bundles Samsyn posts: history Bundles led by the SubscriptionStatus Parameters.
import { randomUUID } from 'node:crypto';
import {
  type Bundle,
  type BundleEntry,
  InvalidRequest,
  type Parameters,
  type ParametersParameter,
  type Subscription,
} from '@samsyn/fhir';
import type { SubscriptionEventRow, SubscriptionRow } from '../db/schema.ts';
import { TOPIC_FILTERS, TOPICS, type TopicKey } from './topics.ts';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
export const FILTER_CRITERIA_EXT = `${BACKPORT}/backport-filter-criteria`;
export const PAYLOAD_CONTENT_EXT = `${BACKPORT}/backport-payload-content`;
export const HEARTBEAT_EXT = `${BACKPORT}/backport-heartbeat-period`;
export const TIMEOUT_EXT = `${BACKPORT}/backport-timeout`;
export const MAX_COUNT_EXT = `${BACKPORT}/backport-max-count`;
export const SUBSCRIPTION_STATUS_PROFILE = `${BACKPORT}/backport-subscription-status-r4`;
export const SUBSCRIPTION_PROFILE = `${BACKPORT}/backport-subscription`;

export type PayloadContent = 'empty' | 'id-only' | 'full-resource';
export type NotificationKind =
  | 'handshake'
  | 'heartbeat'
  | 'event-notification'
  | 'query-status'
  | 'query-event';

export interface SubscriptionInput {
  topic: string;
  filters: { name: string; value: string }[];
  endpoint: string;
  headers: string[];
  content: PayloadContent;
  heartbeatSeconds: number | null;
  timeoutSeconds: number;
  resource: Record<string, unknown>;
}

interface Problem {
  diagnostics: string;
  expression: string[];
}

const HEADER_RE = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+:\s?[^\r\n]*$/;

/** Reads a client's Subscription; every problem is listed in one 400 (no silently ignored settings). */
export function readSubscription(body: Record<string, unknown>): SubscriptionInput {
  const sub = body as unknown as Subscription & {
    _criteria?: { extension?: { url: string; valueString?: string }[] };
    channel?: Subscription['channel'] & { _payload?: { extension?: { url: string; valueCode?: string }[] } };
  };
  const problems: Problem[] = [];
  const problem = (expression: string, diagnostics: string) =>
    problems.push({ expression: [expression], diagnostics });
  // Shapes first, so a malformed body is a 400 that says where, never a crash further down.
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  const channelRaw = body.channel as
    | { header?: unknown; extension?: unknown; _payload?: unknown }
    | undefined;
  const payloadRaw = (isObject(channelRaw) ? channelRaw?._payload : undefined) as
    | { extension?: unknown }
    | undefined;
  const criteriaRaw = body._criteria as { extension?: unknown } | undefined;
  const shape: [unknown, string, (v: unknown) => boolean, string][] = [
    [body.criteria, 'Subscription.criteria', (v) => typeof v === 'string', 'a string'],
    [criteriaRaw, 'Subscription._criteria', isObject, 'an object'],
    [
      isObject(criteriaRaw) ? criteriaRaw?.extension : undefined,
      'Subscription._criteria.extension',
      Array.isArray,
      'an array',
    ],
    [channelRaw, 'Subscription.channel', isObject, 'an object'],
    [
      isObject(channelRaw) ? channelRaw?.header : undefined,
      'Subscription.channel.header',
      (v) => Array.isArray(v) && v.every((h) => typeof h === 'string'),
      'an array of strings',
    ],
    [
      isObject(channelRaw) ? channelRaw?.extension : undefined,
      'Subscription.channel.extension',
      Array.isArray,
      'an array',
    ],
    [payloadRaw, 'Subscription.channel._payload', isObject, 'an object'],
    [
      isObject(payloadRaw) ? payloadRaw?.extension : undefined,
      'Subscription.channel._payload.extension',
      Array.isArray,
      'an array',
    ],
  ];
  for (const [value, where, ok, what] of shape) {
    if (value !== undefined && !ok(value)) problem(where, `${where} must be ${what}`);
  }
  if (problems.length > 0) throw new InvalidRequest('invalid-subscription', problems);

  const topicKey = (Object.keys(TOPICS) as TopicKey[]).find((k) => TOPICS[k] === sub.criteria);
  if (!topicKey) {
    problem(
      'Subscription.criteria',
      `Subscription.criteria must be one of the topics ${Object.values(TOPICS).join(', ')}; got ${JSON.stringify(sub.criteria ?? null)}`,
    );
  }
  if (typeof sub.reason !== 'string' || sub.reason.trim() === '') {
    problem('Subscription.reason', 'Subscription.reason is required (why the record system subscribes)');
  }
  if (sub.status !== undefined && sub.status !== 'requested' && sub.status !== 'active') {
    problem(
      'Subscription.status',
      `A new Subscription has status requested (or active); got '${sub.status}'`,
    );
  }
  const filters: { name: string; value: string }[] = [];
  for (const [i, ext] of (sub._criteria?.extension ?? []).entries()) {
    if (ext?.url !== FILTER_CRITERIA_EXT) continue;
    const where = `Subscription.criteria.extension[${i}]`;
    const value = ext.valueString ?? '';
    const m = /^([A-Za-z]+)\?(.+)$/.exec(value);
    const allowed = topicKey ? TOPIC_FILTERS[topicKey] : undefined;
    if (!m || !allowed) {
      problem(where, `Filter '${value}' must look like <ResourceType>?<parameter>=<value>`);
      continue;
    }
    if (m[1] !== allowed.resourceType) {
      problem(where, `Filter '${value}': this topic's focus is ${allowed.resourceType}`);
      continue;
    }
    for (const [name, v] of new URLSearchParams(m[2])) {
      if (!allowed.params.includes(name)) {
        problem(
          where,
          `Filter parameter '${name}' is not supported by this topic; supported: ${allowed.params.join(', ')}`,
        );
      } else if (v === '') {
        problem(where, `Filter parameter '${name}' has no value`);
      } else {
        filters.push({ name, value: v.replace(/^urn:oid:1\.2\.752\.29\.4\.19\|/, '') });
      }
    }
  }
  const channel = sub.channel;
  if (!channel) {
    problem('Subscription.channel', 'Subscription.channel is required');
  } else {
    if (channel.type !== 'rest-hook') {
      problem(
        'Subscription.channel.type',
        `Only the rest-hook channel is supported; got '${channel.type ?? ''}'`,
      );
    }
    let url: URL | undefined;
    try {
      url = new URL(channel.endpoint ?? '');
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      problem('Subscription.channel.endpoint', 'Subscription.channel.endpoint must be an http(s) URL');
    }
    if (channel.payload !== undefined && !/^application\/(fhir\+)?json$/.test(channel.payload)) {
      problem(
        'Subscription.channel.payload',
        `The payload must be application/fhir+json; got '${channel.payload}'`,
      );
    }
    for (const [i, header] of (channel.header ?? []).entries()) {
      if (!HEADER_RE.test(header)) {
        problem(
          `Subscription.channel.header[${i}]`,
          `'${header}' is not an HTTP header line ('Name: value')`,
        );
      }
    }
  }
  const contentExt = channel?._payload?.extension?.find((e) => e?.url === PAYLOAD_CONTENT_EXT)?.valueCode;
  const content = (contentExt ?? 'id-only') as PayloadContent;
  if (!['empty', 'id-only', 'full-resource'].includes(content)) {
    problem(
      'Subscription.channel.payload.extension',
      `Payload content must be empty, id-only or full-resource; got '${content}'`,
    );
  }
  const channelExt = (url: string) =>
    (channel?.extension ?? []).find((e) => e?.url === url) as
      | { valueUnsignedInt?: number; valuePositiveInt?: number }
      | undefined;
  const heartbeat = channelExt(HEARTBEAT_EXT)?.valueUnsignedInt;
  if (heartbeat !== undefined && (!Number.isInteger(heartbeat) || heartbeat < 1 || heartbeat > 86_400)) {
    problem('Subscription.channel.extension', 'The heartbeat period is whole seconds from 1 to 86400');
  }
  const timeout = channelExt(TIMEOUT_EXT)?.valueUnsignedInt ?? 10;
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 120) {
    problem('Subscription.channel.extension', 'The timeout is whole seconds from 1 to 120');
  }
  if (problems.length > 0) throw new InvalidRequest('invalid-subscription', problems);
  return {
    topic: sub.criteria,
    filters,
    endpoint: channel?.endpoint as string,
    headers: channel?.header ?? [],
    content,
    heartbeatSeconds: heartbeat ?? null,
    timeoutSeconds: timeout,
    resource: body,
  };
}

/** The stored Subscription with the server-owned fields (id, meta, status, error) filled in. */
export function toSubscription(row: SubscriptionRow): Subscription {
  const {
    id: _id,
    meta: _meta,
    status: _status,
    error: _error,
    ...rest
  } = row.resource as Record<string, unknown>;
  return {
    ...(rest as unknown as Subscription),
    resourceType: 'Subscription',
    id: row.id,
    meta: {
      versionId: String(row.versionId),
      lastUpdated: row.lastUpdated.toISOString(),
      profile: [SUBSCRIPTION_PROFILE],
    },
    status: row.status as Subscription['status'],
    ...(row.status === 'error' && row.lastError ? { error: row.lastError } : {}),
  };
}

export interface StatusInput {
  row: SubscriptionRow;
  kind: NotificationKind;
  events: SubscriptionEventRow[];
  fhirBase: string;
  /** The content to render (the subscription's own unless $events asks for another). */
  content?: PayloadContent;
}

function statusParameters(input: StatusInput): Parameters {
  const { row, kind, events, fhirBase } = input;
  const parameter: ParametersParameter[] = [
    { name: 'subscription', valueReference: { reference: `${fhirBase}/Subscription/${row.id}` } },
    { name: 'topic', valueCanonical: row.topic },
    { name: 'status', valueCode: row.status },
    { name: 'type', valueCode: kind },
    { name: 'events-since-subscription-start', valueString: String(row.eventsSinceStart) },
  ];
  const content = input.content ?? (row.content as PayloadContent);
  for (const e of events) {
    parameter.push({
      name: 'notification-event',
      part: [
        { name: 'event-number', valueString: String(e.eventNumber) },
        { name: 'timestamp', valueInstant: e.occurredAt.toISOString() },
        ...(content !== 'empty'
          ? [{ name: 'focus', valueReference: { reference: `${fhirBase}/${e.focus}` } }]
          : []),
      ],
    });
  }
  if (row.status === 'error' && row.lastError) {
    parameter.push({ name: 'error', valueCodeableConcept: { text: row.lastError } });
  }
  return { resourceType: 'Parameters', meta: { profile: [SUBSCRIPTION_STATUS_PROFILE] }, parameter };
}

/** A notification Bundle (type history): the SubscriptionStatus first, then the focus entries the content asks for. */
export function notificationBundle(input: StatusInput, now = new Date()): Bundle {
  const content = input.content ?? (input.row.content as PayloadContent);
  const entries: BundleEntry[] = [
    {
      fullUrl: `urn:uuid:${randomUUID()}`,
      resource: statusParameters(input) as never,
      request: { method: 'GET', url: `Subscription/${input.row.id}/$status` },
      response: { status: '200' },
    },
  ];
  if (content !== 'empty') {
    // One entry per distinct focus, at its latest state in this batch.
    const latest = new Map<string, SubscriptionEventRow>();
    for (const e of input.events) latest.set(e.focus, e);
    for (const e of latest.values()) {
      entries.push({
        fullUrl: `${input.fhirBase}/${e.focus}`,
        ...(content === 'full-resource' ? { resource: e.snapshot as never } : {}),
        request: { method: 'PUT', url: e.focus },
        response: { status: '200' },
      });
    }
  }
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    type: 'history',
    timestamp: now.toISOString(),
    entry: entries,
  };
}

/** The answer to $status: a searchset with the SubscriptionStatus of the subscription. */
export function statusBundle(row: SubscriptionRow, fhirBase: string): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: 1,
    entry: [
      {
        fullUrl: `urn:uuid:${randomUUID()}`,
        resource: statusParameters({ row, kind: 'query-status', events: [], fhirBase }) as never,
        search: { mode: 'match' },
      },
    ],
  };
}
