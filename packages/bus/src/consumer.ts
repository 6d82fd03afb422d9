// Durable pull consumers: parse the envelope, validate against the contract, apply once (inbox), ack after
// success, nak with backoff on failure, and dead-letter what can never succeed, with the reason.
import {
  type AnyEventDefinition,
  type CloudEventAttributes,
  definitionForType,
  type EventName,
  type EventPayload,
  events,
  fromHeaders,
  type StreamName,
} from '@samsyn/contracts';
import { type Db, pipeline, type Tx } from '@samsyn/db';
import { AckPolicy, type ConsumerMessages, DeliverPolicy, type JsMsg, headers as natsHeaders } from 'nats';
import type { Bus, BusLog } from './bus.ts';
import { isNotFound } from './bus.ts';
import type { InboxTable } from './tables.ts';
import { withEventTrace } from './trace-context.ts';

export interface ConsumedEvent<N extends EventName = EventName> {
  attrs: CloudEventAttributes;
  data: EventPayload<N>;
  deliveryCount: number;
}

export type Handler<N extends EventName> = (event: ConsumedEvent<N>, tx: Tx) => Promise<void>;
export type Handlers = { [N in EventName]?: Handler<N> };

export interface ConsumerOptions {
  stream: StreamName;
  /** Durable name: the reading service (and purpose), shared by its replicas so they split the work. */
  durable: string;
  handlers: Handlers;
  db: Db;
  inbox: InboxTable;
  log: BusLog;
  /** One filter subject (nats-server 2.9 allows one per consumer); default: the whole stream. */
  filterSubject?: string;
  maxDeliver?: number;
  ackWaitMs?: number;
  /** Delay before redelivery, by attempt (the last value repeats). */
  backoffMs?: number[];
  /**
   * Lanes: transactions this replica runs at once. Messages are spread over lanes by their CloudEvents subject (the
   * aggregate, e.g. the case), so one case's events apply one after another in stream order while different
   * cases run in parallel.
   */
  concurrency?: number;
  /**
   * Most events one lane applies in one transaction. Under load, the events that queued while a transaction ran go
   * into the next one together (one BEGIN, one inbox insert, one COMMIT for all); when idle a batch is one event.
   */
  batchSize?: number;
  /**
   * The handlers of different events never read what another event's handler wrote (an append-only log, say), so
   * a batch's handlers may run together: their statements go out in one round trip instead of one after another.
   */
  independentEvents?: boolean;
  onOutcome?: (
    outcome: 'applied' | 'duplicate' | 'ignored' | 'retried' | 'dead-lettered',
    type: string,
  ) => void;
  /**
   * Runs after a handler's transaction committed (not for duplicates), e.g. to push live updates. Its errors are
   * logged and never undo or retry the applied event.
   */
  afterApply?: (event: ConsumedEvent) => void | Promise<void>;
}

/** A header on the dead letter saying why it could not be applied. */
export const DLQ_REASON_HEADER = 'samsyn-dlq-reason';
export const DLQ_SUBJECT_HEADER = 'samsyn-dlq-subject';
export const DLQ_CONSUMER_HEADER = 'samsyn-dlq-consumer';
export const DLQ_SEQ_HEADER = 'samsyn-dlq-stream-seq';

/** A failure that retrying cannot fix (bad payload, unknown version): goes straight to the dead-letter subject. */
export class PermanentFailure extends Error {}

const NANOS_PER_MS = 1_000_000;

export class EventConsumer {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private lanes: Lane[] = [];
  /** Messages pulled and not yet acked, nak'ed or dead-lettered. */
  private pending = 0;
  private released: (() => void) | undefined;
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly bus: Bus,
    private readonly options: ConsumerOptions,
  ) {}

  get maxDeliver(): number {
    return this.options.maxDeliver ?? 8;
  }

  /** Creates or updates the durable consumer, then starts pulling. */
  async start(): Promise<void> {
    const { jsm, naming } = this.bus;
    const stream = naming.stream(this.options.stream);
    const config = {
      durable_name: this.options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: (this.options.ackWaitMs ?? 30_000) * NANOS_PER_MS,
      max_deliver: this.maxDeliver,
      max_ack_pending: 1000,
      ...(this.options.filterSubject ? { filter_subject: naming.subject(this.options.filterSubject) } : {}),
    };
    try {
      await jsm.consumers.info(stream, this.options.durable);
      await jsm.consumers.update(stream, this.options.durable, {
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
        max_ack_pending: config.max_ack_pending,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await jsm.consumers.add(stream, config).catch((addErr: unknown) => {
        if (!/already in use|exists/i.test((addErr as Error).message)) throw addErr;
      });
    }
    this.bus.consumers.set(`${this.options.stream}/${this.options.durable}`, {
      stream: this.options.stream,
      durable: this.options.durable,
    });
    const consumer = await this.bus.js.consumers.get(stream, this.options.durable);
    const lanes = this.options.concurrency ?? 4;
    this.lanes = Array.from({ length: lanes }, () => ({ queue: [], running: undefined }));
    this.messages = await consumer.consume({ max_messages: this.maxPending });
    this.loop = this.pump(this.messages);
  }

  /** Messages held at once (pulled, queued or being applied): enough to fill every lane's next batch. */
  private get maxPending(): number {
    return Math.max(this.lanes.length * (this.options.batchSize ?? 64), 32);
  }

  private async pump(messages: ConsumerMessages): Promise<void> {
    for await (const msg of messages) {
      const lane = this.lanes[laneOf(msg.headers?.get('ce-subject') || msg.subject, this.lanes.length)];
      if (!lane) continue; // unreachable: laneOf is within bounds
      lane.queue.push(msg);
      this.pending += 1;
      if (!lane.running) lane.running = this.runLane(lane);
      while (this.pending >= this.maxPending) await new Promise<void>((r) => (this.released = r));
    }
    await Promise.allSettled(this.lanes.map((l) => l.running));
  }

  /** Applies the lane's queue in batches until it is empty. Never rejects: every message ends acked, nak'ed or dead-lettered. */
  private async runLane(lane: Lane): Promise<void> {
    while (lane.queue.length > 0) {
      const batch = lane.queue.splice(0, this.options.batchSize ?? 64);
      try {
        await this.processBatch(batch);
      } catch (err) {
        // processBatch handles every failure itself; this is a last guard so a lane never stops.
        this.options.log.error(
          { err: (err as Error).message },
          'consumer lane failed; messages will be redelivered',
        );
        for (const msg of batch) msg.nak(1000);
      }
      this.pending -= batch.length;
      const release = this.released;
      this.released = undefined;
      release?.();
    }
    lane.running = undefined;
  }

  /** Stops pulling, lets in-flight messages finish (ack or nak), and returns. */
  async drain(): Promise<void> {
    this.messages?.stop();
    await this.loop;
  }

  /**
   * Applies a batch in one transaction. Messages that are not for this consumer are acked, malformed ones
   * dead-lettered, first. If the shared transaction fails (one handler threw), every message is applied again in
   * a transaction of its own, so one bad event never holds back or fails the others.
   */
  private async processBatch(batch: JsMsg[]): Promise<void> {
    const prepared: Prepared[] = [];
    for (const msg of batch) {
      const item = await this.prepare(msg);
      if (item) prepared.push(item);
    }
    if (prepared.length === 0) return;
    if (prepared.length === 1 && prepared[0]) return this.applySingle(prepared[0]);
    let applied: boolean[];
    try {
      applied = await this.applyAll(prepared);
    } catch (err) {
      this.options.log.debug(
        { err: (err as Error).message, size: prepared.length },
        'batch failed; applying its events one at a time',
      );
      for (const item of prepared) await this.applySingle(item);
      return;
    }
    for (const [i, item] of prepared.entries()) await this.settled(item, applied[i] === true);
  }

  /**
   * Parses, validates and finds the handler. Returns undefined when the message is already dealt with: acked
   * (no handler here) or dead-lettered (it can never be applied).
   */
  private async prepare(msg: JsMsg): Promise<Prepared | undefined> {
    let type = 'unknown';
    // W3C trace context from the producer's request (traceparent header): every log line about it carries traceId.
    const traceId = traceIdOf(msg.headers?.get('traceparent'));
    try {
      const envelope = fromHeaders((name) => msg.headers?.get(name) || undefined);
      if (!envelope.ok)
        throw new PermanentFailure(`missing CloudEvents headers: ${envelope.missing.join(', ')}`);
      type = envelope.attrs.type;
      const def = definitionForType(type);
      const name = def ? eventName(def) : undefined;
      const handler = name ? (this.options.handlers[name] as Handler<EventName> | undefined) : undefined;
      if (!def && this.handlesFamily(type)) {
        throw new PermanentFailure(
          `unsupported event version ${type}; this consumer knows ${supportedVersions(type)}`,
        );
      }
      if (!def || !handler) {
        // Not an event this consumer applies: acknowledge and move on.
        msg.ack();
        this.options.onOutcome?.('ignored', type);
        return undefined;
      }
      let body: unknown;
      try {
        body = JSON.parse(this.decoder.decode(msg.data));
      } catch (err) {
        throw new PermanentFailure(`body is not JSON: ${(err as Error).message}`);
      }
      const parsed = def.schema.safeParse(body);
      if (!parsed.success) {
        throw new PermanentFailure(
          `body does not match ${type}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`,
        );
      }
      const event: ConsumedEvent = {
        attrs: envelope.attrs,
        data: parsed.data as never,
        deliveryCount: msg.info.deliveryCount,
      };
      return { msg, type, traceId, event, handler };
    } catch (err) {
      await this.failed(msg, err, type, traceId);
      return undefined;
    }
  }

  /** One event in a transaction of its own. */
  private async applySingle(item: Prepared): Promise<void> {
    try {
      const [applied] = await this.applyAll([item]);
      await this.settled(item, applied === true);
    } catch (err) {
      await this.failed(item.msg, err, item.type, item.traceId);
    }
  }

  /**
   * Records the events' ids in the inbox and applies the new ones, in order, in one transaction; returns, per
   * item, whether it was applied (false: applied before, a duplicate).
   */
  private async applyAll(items: Prepared[]): Promise<boolean[]> {
    const { db, inbox, durable } = this.options;
    return db.transaction(async (tx) => {
      const inserted = await tx
        .insert(inbox)
        .values(items.map((item) => ({ consumer: durable, eventId: item.event.attrs.id })))
        .onConflictDoNothing()
        .returning({ id: inbox.eventId });
      const fresh = new Set(inserted.map((r) => r.id));
      // delete(): the same event twice in one batch (a redelivery) applies once.
      const applied = items.map((item) => fresh.delete(item.event.attrs.id));
      // Each handler runs in its event's trace, so what it enqueues continues that trace.
      const apply = (item: Prepared) =>
        withEventTrace(item.event.attrs.traceparent, () =>
          item.handler(item.event as ConsumedEvent<EventName>, tx),
        );
      const due = items.filter((_, i) => applied[i]);
      if (this.options.independentEvents) await pipeline(due.map((item) => () => apply(item)));
      else for (const item of due) await apply(item);
      return applied;
    });
  }

  /** After the transaction committed: ack, log, count, and run the afterApply hook. */
  private async settled(item: Prepared, applied: boolean): Promise<void> {
    const { log } = this.options;
    item.msg.ack();
    log.info(
      {
        type: item.type,
        eventId: item.event.attrs.id,
        outcome: applied ? 'applied' : 'duplicate',
        traceId: item.traceId,
      },
      'event handled',
    );
    this.options.onOutcome?.(applied ? 'applied' : 'duplicate', item.type);
    if (applied && this.options.afterApply) {
      await Promise.resolve()
        .then(() => this.options.afterApply?.(item.event))
        .catch((err: unknown) =>
          log.warn(
            { err: (err as Error).message, type: item.type },
            'afterApply hook failed; the event stays applied',
          ),
        );
    }
  }

  /** A message that failed: dead-letter it if it can never succeed or has used its deliveries, else nak with backoff. */
  private async failed(msg: JsMsg, err: unknown, type: string, traceId: string | undefined): Promise<void> {
    const permanent = err instanceof PermanentFailure;
    if (permanent || msg.info.deliveryCount >= this.maxDeliver) {
      const reason = permanent
        ? (err as Error).message
        : `gave up after ${msg.info.deliveryCount} deliveries: ${(err as Error).message}`;
      await this.deadLetter(msg, reason, traceId);
      this.options.onOutcome?.('dead-lettered', type);
      return;
    }
    const backoff = this.options.backoffMs ?? [500, 2000, 5000, 15_000, 30_000];
    const delay = backoff[Math.min(msg.info.deliveryCount - 1, backoff.length - 1)] ?? 1000;
    this.options.log.warn(
      { err: (err as Error).message, type, delivery: msg.info.deliveryCount, retryInMs: delay, traceId },
      'event failed; will retry',
    );
    msg.nak(delay);
    this.options.onOutcome?.('retried', type);
  }

  private async deadLetter(msg: JsMsg, reason: string, traceId?: string): Promise<void> {
    const { log, stream, durable } = this.options;
    try {
      const h = natsHeaders();
      for (const [k, values] of msg.headers ?? [])
        for (const v of values) if (k !== 'Nats-Msg-Id') h.append(k, v);
      h.set(DLQ_REASON_HEADER, reason.slice(0, 2000));
      h.set(DLQ_SUBJECT_HEADER, this.bus.naming.unprefix(msg.subject));
      h.set(DLQ_CONSUMER_HEADER, durable);
      h.set(DLQ_SEQ_HEADER, String(msg.info.streamSequence));
      await this.bus.js.publish(this.bus.naming.deadLetterSubject(stream, durable), msg.data, {
        headers: h,
        msgID: `${stream}:${durable}:${msg.info.streamSequence}`,
      });
      msg.term(reason.slice(0, 200));
      log.error(
        { reason, subject: msg.subject, seq: msg.info.streamSequence, traceId },
        'event dead-lettered',
      );
    } catch (err) {
      // The dead-letter publish failed: leave the message for redelivery rather than lose it.
      log.error({ err: (err as Error).message }, 'dead-letter publish failed; will be redelivered');
      msg.nak(5000);
    }
  }

  private handlesFamily(type: string): boolean {
    const family = familyOf(type);
    return Object.keys(this.options.handlers).some((n) => familyOf(events[n as EventName].type) === family);
  }
}

interface Lane {
  queue: JsMsg[];
  running: Promise<void> | undefined;
}

interface Prepared {
  msg: JsMsg;
  type: string;
  traceId: string | undefined;
  event: ConsumedEvent;
  handler: Handler<EventName>;
}

/** The lane of a subject: a stable hash (FNV-1a), so one aggregate's events always queue behind each other. */
function laneOf(subject: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < subject.length; i++) h = Math.imul(h ^ subject.charCodeAt(i), 0x01000193);
  return (h >>> 0) % lanes;
}

/** The trace id of a W3C traceparent header (`00-<trace-id>-<parent-id>-<flags>`), if it is one. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const m = traceparent ? /^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent.trim()) : null;
  return m?.[1];
}

function eventName(def: AnyEventDefinition): EventName | undefined {
  return (Object.keys(events) as EventName[]).find((n) => events[n] === def);
}

/** `se.samsyn.case.initiated.v2` → `se.samsyn.case.initiated`. */
function familyOf(type: string): string {
  return type.replace(/\.v\d+$/, '');
}

function supportedVersions(type: string): string {
  return Object.values(events)
    .filter((e) => familyOf(e.type) === familyOf(type))
    .map((e) => e.type)
    .join(', ');
}
