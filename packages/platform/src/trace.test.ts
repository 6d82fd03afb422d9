// Unit tests for W3C trace-context continuation.
import { describe, expect, it } from 'vitest';
import { continueTrace } from './trace.ts';

const W3C = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const INCOMING = `00-${TRACE_ID}-${PARENT_ID}-01`;

describe('continueTrace', () => {
  it('keeps the caller’s trace id and starts a new span under it', () => {
    const trace = continueTrace(INCOMING);
    expect(trace.traceId).toBe(TRACE_ID);
    expect(trace.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(trace.spanId).not.toBe(PARENT_ID);
    expect(trace.traceparent).toBe(`00-${TRACE_ID}-${trace.spanId}-01`);
  });

  it('keeps the caller’s sampling flags', () => {
    expect(continueTrace(`00-${TRACE_ID}-${PARENT_ID}-00`).traceparent).toMatch(/-00$/);
  });

  it('accepts surrounding whitespace in the header', () => {
    expect(continueTrace(`  ${INCOMING} `).traceId).toBe(TRACE_ID);
  });

  it('makes a fresh span for every call', () => {
    expect(continueTrace(INCOMING).spanId).not.toBe(continueTrace(INCOMING).spanId);
  });

  it('starts a new sampled trace when there is no header', () => {
    for (const header of [undefined, null, '']) {
      const trace = continueTrace(header);
      expect(trace.traceparent).toMatch(W3C);
      expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(trace.traceparent).toBe(`00-${trace.traceId}-${trace.spanId}-01`);
    }
  });

  it('starts a new trace when the header is malformed', () => {
    const malformed = [
      'garbage',
      `01-${TRACE_ID}-${PARENT_ID}-01`,
      `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`,
      `00-${TRACE_ID.slice(1)}-${PARENT_ID}-01`,
      `00-${TRACE_ID}-${PARENT_ID}`,
      `00_${TRACE_ID}_${PARENT_ID}_01`,
    ];
    for (const header of malformed) {
      const trace = continueTrace(header);
      expect(trace.traceId).not.toBe(TRACE_ID);
      expect(trace.traceId.toLowerCase()).not.toBe(TRACE_ID);
      expect(trace.traceparent).toMatch(W3C);
    }
  });

  it('starts a new sampled trace when the trace id is all zeros', () => {
    const trace = continueTrace(`00-${'0'.repeat(32)}-${PARENT_ID}-00`);
    expect(trace.traceId).not.toBe('0'.repeat(32));
    expect(trace.traceparent).toMatch(W3C);
    expect(trace.traceparent).toMatch(/-01$/);
  });

  it('starts a new trace when the parent span id is all zeros', () => {
    const trace = continueTrace(`00-${TRACE_ID}-${'0'.repeat(16)}-01`);
    expect(trace.traceId).not.toBe(TRACE_ID);
    expect(trace.traceparent).toMatch(W3C);
  });
});
