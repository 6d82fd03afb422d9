// The trace an event belongs to, carried through a consumer's handler: an event the handler enqueues continues the
// trace of the event that caused it (a new span, the same trace id), so one trace id follows a request across every
// hop, not only the first.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const current = new AsyncLocalStorage<string>();

/** Runs `fn` as a child span of `traceparent` (the consumed event's); without a valid one, as no trace. */
export function withEventTrace<T>(traceparent: string | undefined, fn: () => Promise<T>): Promise<T> {
  const m = traceparent ? TRACEPARENT_RE.exec(traceparent.trim()) : null;
  if (!m?.[1] || /^0+$/.test(m[1])) return fn();
  return current.run(`00-${m[1]}-${randomBytes(8).toString('hex')}-${m[3]}`, fn);
}

/** The traceparent of the event being handled, if any: enqueue's default. */
export function currentTraceparent(): string | undefined {
  return current.getStore();
}
