// Transactional outbox: an event is written in the state change's own transaction, and a relay publishes it later.
import { randomUUID } from 'node:crypto';
import { dataschemaUri, type EventDefinition, toHeaders } from '@samsyn/contracts';
import type { Db, DbOrTx } from '@samsyn/db';
import { and, asc, inArray, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { Bus, BusLog } from './bus.ts';
import { PollLoop } from './poll-loop.ts';
import type { OutboxTable } from './tables.ts';
import { currentTraceparent } from './trace-context.ts';

export interface EnqueueOptions {
  /** The aggregate the event is about (ce-subject), e.g. the case id. */
  aggregate: string;
  /** ce-source: the producing service, e.g. /samsyn/invitation. */
  source: string;
  traceparent?: string;
  id?: string;
  time?: Date;
}

/** Writes an event into the outbox within `tx`; it is published only if `tx` commits. Validates against the contract. */
export async function enqueue<S extends z.ZodType>(
  tx: DbOrTx,
  outbox: OutboxTable,
  def: EventDefinition<S>,
  payload: z.infer<S>,
  options: EnqueueOptions,
): Promise<string> {
  const data = def.schema.parse(payload);
  const id = options.id ?? randomUUID();
  // A handler's event continues the trace of the event it handles (trace-context.ts), unless told otherwise.
  const traceparent = options.traceparent ?? currentTraceparent();
  const headers = toHeaders({
    id,
    type: def.type,
    source: options.source,
    time: (options.time ?? new Date()).toISOString(),
    subject: options.aggregate,
    dataschema: dataschemaUri(def),
    ...(traceparent ? { traceparent } : {}),
  });
  await tx.insert(outbox).values({
    id,
    subject: def.subject,
    type: def.type,
    aggregate: options.aggregate,
    headers,
    payload: data,
  });
  return id;
}

export interface RelayOptions {
  db: Db;
  outbox: OutboxTable;
  bus: Bus;
  log: BusLog;
  /** Rows per publish window. */
  batchSize?: number;
  /** Poll interval when idle; kick() wakes the relay at once after a local commit. */
  pollMs?: number;
  /** Published rows are kept this long for inspection, then deleted. */
  retainPublishedMs?: number;
  onPublished?: (count: number) => void;
  /** Rows waiting: after each failed publish attempt, 0 after a drain, and on every backlog() call. */
  onBacklog?: (count: number) => void;
}

/**
 * Publishes outbox rows in order, in windows of async publishes, and marks them sent in the same transaction
 * that locked them (FOR UPDATE SKIP LOCKED lets replicas share the work). If NATS is away the transaction rolls
 * back and the rows are tried again with backoff; JetStream's duplicate window absorbs a re-publish after a crash.
 */
export class OutboxRelay {
  private readonly loop: PollLoop;
  private failures = 0;
  private lastSweep = 0;

  constructor(private readonly options: RelayOptions) {
    this.loop = new PollLoop({
      work: async () => {
        const published = await this.drainOnce();
        if (published > 0) options.log.debug({ published }, 'outbox relayed');
        // Drained: nothing was left waiting when the last batch came back short.
        if (published > 0 || this.failures > 0) options.onBacklog?.(0);
        this.failures = 0;
        await this.sweep();
        return 0; // drainOnce emptied the outbox; the next round is the next kick or tick
      },
      pollMs: options.pollMs ?? 1000,
      onError: async (err) => {
        this.failures += 1;
        const delay = Math.min(250 * 2 ** Math.min(this.failures, 5), 8000);
        options.log.warn(
          { err: err.message, retryInMs: delay },
          'outbox relay could not publish; will retry',
        );
        // While publishing fails the backlog is what operators need to see grow (the backlog alert).
        await this.backlog().catch(() => undefined);
        return delay;
      },
    });
  }

  start(): void {
    this.loop.start();
  }

  /** Wakes the relay now (after a commit that wrote to the outbox). */
  kick(): void {
    this.loop.kick();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Publishes until the outbox is empty or a publish fails; returns how many were published. */
  async drainOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.publishBatch();
      total += n;
      if (n < (this.options.batchSize ?? 256)) return total;
    }
  }

  private async publishBatch(): Promise<number> {
    const { db, outbox, bus } = this.options;
    const batchSize = this.options.batchSize ?? 256;
    const outcome = await db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(outbox)
        .where(isNull(outbox.publishedAt))
        .orderBy(asc(outbox.seq))
        .limit(batchSize)
        .for('update', { skipLocked: true });
      if (rows.length === 0) return { sent: 0 };
      const encoder = new TextEncoder();
      const results = await Promise.allSettled(
        rows.map((row) =>
          bus.publishRaw(row.subject, encoder.encode(JSON.stringify(row.payload)), row.headers),
        ),
      );
      const sent = rows.filter((_, i) => results[i]?.status === 'fulfilled').map((r) => r.seq);
      if (sent.length > 0)
        await tx.update(outbox).set({ publishedAt: new Date() }).where(inArray(outbox.seq, sent));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (!failed) return { sent: sent.length };
      // Keep what was sent and count the attempt; the caller backs off after this commits.
      const reason = failed.reason instanceof Error ? failed.reason.message : String(failed.reason);
      const unsent = rows.filter((r) => !sent.includes(r.seq)).map((r) => r.seq);
      await tx
        .update(outbox)
        .set({ attempts: sql`${outbox.attempts} + 1`, lastError: reason })
        .where(inArray(outbox.seq, unsent));
      return { sent: sent.length, error: reason };
    });
    if (outcome.sent > 0) this.options.onPublished?.(outcome.sent);
    if (outcome.error) throw new Error(`publish failed: ${outcome.error}`);
    return outcome.sent;
  }

  /** Rows still waiting, for the outbox-backlog gauge and /readyz details. */
  async backlog(): Promise<number> {
    const [row] = await this.options.db
      .select({ n: sql<number>`count(*)::int` })
      .from(this.options.outbox)
      .where(isNull(this.options.outbox.publishedAt));
    const n = row?.n ?? 0;
    this.options.onBacklog?.(n);
    return n;
  }

  private async sweep(): Promise<void> {
    const now = Date.now();
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    const keep = this.options.retainPublishedMs ?? 24 * 3600 * 1000;
    const { db, outbox } = this.options;
    await db
      .delete(outbox)
      .where(and(isNotNull(outbox.publishedAt), lt(outbox.publishedAt, new Date(now - keep))));
  }
}
