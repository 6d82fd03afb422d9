// The JetStream connection a service holds: declares streams idempotently, publishes envelopes, drains on shutdown.
import { DEAD_LETTER_STREAM, STREAMS, type StreamName } from '@samsyn/contracts';
import {
  connect,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
  headers as natsHeaders,
  type PubAck,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from 'nats';
import { Naming } from './naming.ts';

export interface BusLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface BusOptions {
  servers: string | string[];
  /** Connection name shown by the server (the service name). */
  name: string;
  namespace?: string;
  log: BusLog;
  /** Stream replicas: 1 on one machine, 3 on the production cluster (R3). */
  replicas?: number;
  /** Keep retrying the first connect instead of failing at once (for services started before NATS). */
  waitOnFirstConnect?: boolean;
}

const NANOS_PER_MS = 1_000_000;

/** A durable consumer this connection runs, for the consumer-lag metrics. */
export interface ConsumerRef {
  stream: StreamName;
  durable: string;
}

export interface ConsumerLag extends ConsumerRef {
  /** Messages in the stream not yet delivered to this consumer. */
  pending: number;
  /** Delivered but not yet acknowledged. */
  ackPending: number;
  /** Redelivered messages waiting (retries in backoff). */
  redelivered: number;
}

export class Bus {
  readonly naming: Naming;
  /** Durable consumers started on this connection (EventConsumer registers itself). */
  readonly consumers = new Map<string, ConsumerRef>();
  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly options: BusOptions,
  ) {
    this.naming = new Naming(options.namespace ?? '');
  }

  static async connect(options: BusOptions): Promise<Bus> {
    const nc = await connect({
      servers: options.servers,
      name: options.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: options.waitOnFirstConnect ?? false,
    });
    const jsm = await nc.jetstreamManager();
    const bus = new Bus(nc, nc.jetstream(), jsm, options);
    void bus.watchStatus();
    return bus;
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') {
        this.options.log.warn({ nats: s.type, data: String(s.data) }, 'NATS connection status changed');
      }
    }
  }

  /** Round trip to the server, for /readyz. */
  async ping(timeoutMs = 2000): Promise<void> {
    await Promise.race([
      this.nc.flush(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('NATS flush timed out')), timeoutMs)),
    ]);
  }

  /** Creates or updates the streams (idempotent; safe from every replica at start-up). */
  async ensureStreams(names: readonly StreamName[] = Object.keys(STREAMS) as StreamName[]): Promise<void> {
    const wanted = streamConfigs(this.naming, this.options.replicas ?? 1, names);
    for (const cfg of wanted) {
      try {
        const info = await this.jsm.streams.info(cfg.name as string);
        const subjects = new Set(info.config.subjects);
        // Scaling a stream up to R3 on a cluster is an update too (docs/operations.md "Scale").
        const rescale = (cfg.num_replicas ?? 1) > info.config.num_replicas;
        if (rescale || cfg.subjects?.some((s) => !subjects.has(s))) {
          await this.jsm.streams.update(cfg.name as string, {
            ...info.config,
            subjects: cfg.subjects ?? [],
            num_replicas: Math.max(cfg.num_replicas ?? 1, info.config.num_replicas),
          });
        }
      } catch (err) {
        if (!isNotFound(err)) throw err;
        try {
          await this.jsm.streams.add(cfg);
        } catch (addErr) {
          // Another replica created it between our info and add.
          if (!/already in use|exists/i.test((addErr as Error).message)) throw addErr;
        }
      }
    }
  }

  /** Lag of every consumer this connection runs, from the server's view (for /metrics). */
  async consumerLag(): Promise<ConsumerLag[]> {
    const out: ConsumerLag[] = [];
    for (const ref of this.consumers.values()) {
      const info = await this.jsm.consumers.info(this.naming.stream(ref.stream), ref.durable);
      out.push({
        ...ref,
        pending: info.num_pending,
        ackPending: info.num_ack_pending,
        redelivered: info.num_redelivered,
      });
    }
    return out;
  }

  /** Messages waiting in the dead-letter stream (0 when it does not exist yet). */
  async deadLetterCount(): Promise<number> {
    try {
      const info = await this.jsm.streams.info(this.naming.stream(DEAD_LETTER_STREAM));
      return info.state.messages;
    } catch (err) {
      if (isNotFound(err)) return 0;
      throw err;
    }
  }

  /** Publishes one message with its CloudEvents headers; JetStream dedupes on Nats-Msg-Id. */
  async publishRaw(
    subject: string,
    data: Uint8Array,
    headers: Record<string, string>,
    timeoutMs = 5000,
  ): Promise<PubAck> {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(headers)) h.set(k, v);
    const msgID = headers['Nats-Msg-Id'];
    return this.js.publish(this.naming.subject(subject), data, {
      headers: h,
      timeout: timeoutMs,
      ...(msgID ? { msgID } : {}),
    });
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.drain().catch(() => this.nc.close());
  }
}

/**
 * The stream definitions Samsyn declares: one per owning service (from the contracts) plus the dead-letter stream.
 * ensureStreams() applies them; `npm run streams -w @samsyn/deploy` prints them for the NATS CLI.
 */
export function streamConfigs(
  naming: Naming,
  replicas: number,
  names: readonly StreamName[] = Object.keys(STREAMS) as StreamName[],
): Partial<StreamConfig>[] {
  const base: Partial<StreamConfig> = {
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
    duplicate_window: 10 * 60 * 1000 * NANOS_PER_MS,
    max_age: 0,
  };
  return [
    ...names.map((n) => ({ ...base, name: naming.stream(n), subjects: naming.streamSubjects(n) })),
    {
      ...base,
      name: naming.stream(DEAD_LETTER_STREAM),
      subjects: naming.deadLetterSubjects(),
      description: 'Messages no consumer could apply, with the reason in the samsyn-dlq-reason header',
    },
  ];
}

export function isNotFound(err: unknown): boolean {
  return err instanceof Error && /not found/i.test(err.message);
}
