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
import type { Db, Tx } from '@samsyn/db';
import { AckPolicy, type ConsumerMessages, DeliverPolicy, type JsMsg, headers as natsHeaders } from 'nats';
import type { Bus, BusLog } from './bus.ts';
import { isNotFound } from './bus.ts';
import type { InboxTable } from './tables.ts';

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
  /** Messages applied at once by this replica. */
  concurrency?: number;
  onOutcome?: (
    outcome: 'applied' | 'duplicate' | 'ignored' | 'retried' | 'dead-lettered',
    type: string,
  ) => void;
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
  private inFlight = new Set<Promise<void>>();
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
    const concurrency = this.options.concurrency ?? 16;
    this.messages = await consumer.consume({ max_messages: Math.max(concurrency * 2, 32) });
    this.loop = this.pump(this.messages, concurrency);
  }

  private async pump(messages: ConsumerMessages, concurrency: number): Promise<void> {
    for await (const msg of messages) {
      const p = this.process(msg).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
      if (this.inFlight.size >= concurrency) await Promise.race(this.inFlight);
    }
    await Promise.allSettled(this.inFlight);
  }

  /** Stops pulling, lets in-flight messages finish (ack or nak), and returns. */
  async drain(): Promise<void> {
    this.messages?.stop();
    await this.loop;
  }

  private async process(msg: JsMsg): Promise<void> {
    const { log } = this.options;
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
        return;
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
      const applied = await this.applyOnce(envelope.attrs, async (tx) =>
        handler(
          { attrs: envelope.attrs, data: parsed.data as never, deliveryCount: msg.info.deliveryCount },
          tx,
        ),
      );
      msg.ack();
      log.info(
        { type, eventId: envelope.attrs.id, outcome: applied ? 'applied' : 'duplicate', traceId },
        'event handled',
      );
      this.options.onOutcome?.(applied ? 'applied' : 'duplicate', type);
    } catch (err) {
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
      log.warn(
        { err: (err as Error).message, type, delivery: msg.info.deliveryCount, retryInMs: delay, traceId },
        'event failed; will retry',
      );
      msg.nak(delay);
      this.options.onOutcome?.('retried', type);
    }
  }

  /** Applies the handler and records the event id in one transaction; false if it was applied before. */
  private async applyOnce(attrs: CloudEventAttributes, apply: (tx: Tx) => Promise<void>): Promise<boolean> {
    const { db, inbox, durable } = this.options;
    return db.transaction(async (tx) => {
      const inserted = await tx
        .insert(inbox)
        .values({ consumer: durable, eventId: attrs.id })
        .onConflictDoNothing()
        .returning({ id: inbox.eventId });
      if (inserted.length === 0) return false;
      await apply(tx);
      return true;
    });
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
