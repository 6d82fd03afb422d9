// Unit tests for the CloudEvents envelope carried as NATS headers.
import { describe, expect, it } from 'vitest';
import { type CloudEventAttributes, fromHeaders, type HeaderLookup, toHeaders } from './envelope.ts';

const ATTRS: CloudEventAttributes = {
  id: '0b8f7c1e-4a5d-4e2f-9c3b-6a7d8e9f0a1b',
  type: 'se.samsyn.case.initiated.v1',
  source: 'samsyn/invitation',
  time: '2026-11-22T09:30:00.000Z',
  subject: '5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f',
};

function lookup(headers: Record<string, string>): HeaderLookup {
  return (name) => headers[name];
}

describe('toHeaders', () => {
  it('writes every attribute as a ce- header with specversion 1.0 and a JSON content type', () => {
    expect(toHeaders(ATTRS)).toEqual({
      'ce-specversion': '1.0',
      'ce-id': ATTRS.id,
      'ce-type': ATTRS.type,
      'ce-source': ATTRS.source,
      'ce-time': ATTRS.time,
      'ce-subject': ATTRS.subject,
      'Nats-Msg-Id': ATTRS.id,
      'content-type': 'application/json',
    });
  });

  it('uses the event id as Nats-Msg-Id so JetStream drops a republished duplicate', () => {
    const headers = toHeaders({ ...ATTRS, id: 'evt-42' });
    expect(headers['Nats-Msg-Id']).toBe('evt-42');
    expect(headers['Nats-Msg-Id']).toBe(headers['ce-id']);
  });

  it('carries the data schema and the trace context when given', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const headers = toHeaders({ ...ATTRS, dataschema: 'https://samsyn.se/schemas/x/v1', traceparent });
    expect(headers['ce-dataschema']).toBe('https://samsyn.se/schemas/x/v1');
    expect(headers.traceparent).toBe(traceparent);
  });
});

describe('fromHeaders', () => {
  it('reads back exactly the attributes that were written', () => {
    const full: CloudEventAttributes = {
      ...ATTRS,
      dataschema: 'https://samsyn.se/schemas/events/sip.case.initiated/v1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    };
    expect(fromHeaders(lookup(toHeaders(full)))).toEqual({ ok: true, attrs: full });
    expect(fromHeaders(lookup(toHeaders(ATTRS)))).toEqual({ ok: true, attrs: ATTRS });
  });

  it('reports each missing required attribute by its header name', () => {
    const headers = toHeaders(ATTRS);
    delete headers['ce-type'];
    delete headers['ce-subject'];
    expect(fromHeaders(lookup(headers))).toEqual({ ok: false, missing: ['ce-type', 'ce-subject'] });
  });

  it('treats an empty attribute as missing', () => {
    expect(fromHeaders(lookup({ ...toHeaders(ATTRS), 'ce-id': '' }))).toEqual({
      ok: false,
      missing: ['ce-id'],
    });
  });

  it('rejects a message of another CloudEvents spec version', () => {
    expect(fromHeaders(lookup({ ...toHeaders(ATTRS), 'ce-specversion': '0.3' }))).toEqual({
      ok: false,
      missing: ['ce-specversion'],
    });
  });

  it('rejects a message with no envelope at all, naming every header it needs', () => {
    expect(fromHeaders(() => undefined)).toEqual({
      ok: false,
      missing: ['ce-id', 'ce-type', 'ce-source', 'ce-time', 'ce-subject', 'ce-specversion'],
    });
  });
});
