// CloudEvents 1.0 envelope carried as NATS headers (binary content mode), with Nats-Msg-Id = ce-id for dedupe.
export const CE_SPECVERSION = '1.0';

export interface CloudEventAttributes {
  id: string;
  type: string;
  source: string;
  time: string;
  /** The aggregate the event is about (a case id, a plan id). */
  subject: string;
  dataschema?: string;
  /** W3C trace context, carried from HTTP through NATS to consumers. */
  traceparent?: string;
}

/** Header names for the CloudEvents NATS protocol binding (binary mode): `ce-` prefixed attributes. */
export const CE_HEADERS = {
  specversion: 'ce-specversion',
  id: 'ce-id',
  type: 'ce-type',
  source: 'ce-source',
  time: 'ce-time',
  subject: 'ce-subject',
  dataschema: 'ce-dataschema',
  traceparent: 'traceparent',
  msgId: 'Nats-Msg-Id',
  contentType: 'content-type',
} as const;

export function toHeaders(attrs: CloudEventAttributes): Record<string, string> {
  return {
    [CE_HEADERS.specversion]: CE_SPECVERSION,
    [CE_HEADERS.id]: attrs.id,
    [CE_HEADERS.type]: attrs.type,
    [CE_HEADERS.source]: attrs.source,
    [CE_HEADERS.time]: attrs.time,
    [CE_HEADERS.subject]: attrs.subject,
    ...(attrs.dataschema ? { [CE_HEADERS.dataschema]: attrs.dataschema } : {}),
    ...(attrs.traceparent ? { [CE_HEADERS.traceparent]: attrs.traceparent } : {}),
    [CE_HEADERS.msgId]: attrs.id,
    [CE_HEADERS.contentType]: 'application/json',
  };
}

export type HeaderLookup = (name: string) => string | undefined;

/** Reads the envelope back; returns the names of missing required attributes instead of throwing. */
export function fromHeaders(
  get: HeaderLookup,
): { ok: true; attrs: CloudEventAttributes } | { ok: false; missing: string[] } {
  const required = ['id', 'type', 'source', 'time', 'subject'] as const;
  const missing = required.filter((k) => !get(CE_HEADERS[k]));
  if (get(CE_HEADERS.specversion) !== CE_SPECVERSION) missing.push('specversion' as never);
  if (missing.length > 0)
    return { ok: false, missing: missing.map((k) => CE_HEADERS[k as keyof typeof CE_HEADERS]) };
  const dataschema = get(CE_HEADERS.dataschema);
  const traceparent = get(CE_HEADERS.traceparent);
  return {
    ok: true,
    attrs: {
      id: get(CE_HEADERS.id) as string,
      type: get(CE_HEADERS.type) as string,
      source: get(CE_HEADERS.source) as string,
      time: get(CE_HEADERS.time) as string,
      subject: get(CE_HEADERS.subject) as string,
      ...(dataschema ? { dataschema } : {}),
      ...(traceparent ? { traceparent } : {}),
    },
  };
}
