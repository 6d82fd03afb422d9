// W3C trace context: accept an incoming traceparent or start a trace, so one id follows a request through NATS.
import { randomBytes } from 'node:crypto';

export interface TraceContext {
  traceId: string;
  spanId: string;
  traceparent: string;
}

const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Continues the caller's trace with a new span, or starts a new trace when there is none (or it is malformed). */
export function continueTrace(traceparent: string | undefined | null): TraceContext {
  const m = traceparent ? TRACEPARENT_RE.exec(traceparent.trim()) : null;
  // W3C Trace Context §3.2.2: an all-zero trace-id or parent-id makes the whole header invalid, flags included.
  const valid = m?.[1] && m[2] && !/^0+$/.test(m[1]) && !/^0+$/.test(m[2]) ? m : null;
  const traceId = valid?.[1] ?? randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-${valid?.[3] ?? '01'}` };
}
