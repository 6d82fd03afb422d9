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

export class Bus {
  readonly naming: Naming;
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
    const replicas = this.options.replicas ?? 1;
    const base: Partial<StreamConfig> = {
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      num_replicas: replicas,
      duplicate_window: 10 * 60 * 1000 * NANOS_PER_MS,
      max_age: 0,
    };
    const wanted: Partial<StreamConfig>[] = [
      ...names.map((n) => ({
        ...base,
        name: this.naming.stream(n),
        subjects: this.naming.streamSubjects(n),
      })),
      {
        ...base,
        name: this.naming.stream(DEAD_LETTER_STREAM),
        subjects: this.naming.deadLetterSubjects(),
        description: 'Messages no consumer could apply, with the reason in the samsyn-dlq-reason header',
      },
    ];
    for (const cfg of wanted) {
      try {
        const info = await this.jsm.streams.info(cfg.name as string);
        const subjects = new Set(info.config.subjects);
        if (cfg.subjects?.some((s) => !subjects.has(s))) {
          await this.jsm.streams.update(cfg.name as string, { ...info.config, subjects: cfg.subjects ?? [] });
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

export function isNotFound(err: unknown): boolean {
  return err instanceof Error && /not found/i.test(err.message);
}
