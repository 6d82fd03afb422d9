// The durable consumers that keep the live projection current: one per stream statistics reads.
import { type Bus, type BusLog, EventConsumer, type Handler, type Handlers } from '@samsyn/bus';
import type { Db } from '@samsyn/db';
import { inbox } from '../db/schema.ts';
import { type AnyProjected, PROJECTED_EVENTS, PROJECTED_STREAMS, type ProjectedEvent } from './case-state.ts';
import { applyLive } from './store.ts';

export function projectionHandlers(): Handlers {
  const handlers: Handlers = {};
  for (const name of PROJECTED_EVENTS) {
    const handler: Handler<ProjectedEvent> = async (event, tx) => {
      const data = event.data as { caseId: string };
      await applyLive(tx, data.caseId, { name, data: event.data } as AnyProjected);
    };
    (handlers as Record<string, unknown>)[name] = handler;
  }
  return handlers;
}

export function projectionConsumers(options: {
  bus: Bus;
  db: Db;
  log: BusLog;
  durable: string;
  onOutcome?: (outcome: string, type: string) => void;
}): EventConsumer[] {
  const handlers = projectionHandlers();
  return PROJECTED_STREAMS.map(
    (stream) =>
      new EventConsumer(options.bus, {
        stream,
        durable: options.durable,
        db: options.db,
        inbox,
        log: options.log,
        handlers,
        // One lane per stream: every event adds to the same all-cases rollup rows, so parallel transactions would
        // only wait on (or deadlock over) those rows; one lane applies what queued in one transaction instead.
        concurrency: 1,
        ...(options.onOutcome ? { onOutcome: options.onOutcome } : {}),
      }),
  );
}
