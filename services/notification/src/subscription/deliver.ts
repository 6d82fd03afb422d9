// Delivers subscription notifications to record systems' rest-hook endpoints: handshake on creation, events in
// order, heartbeats when idle; failures back off, repeated ones set status error, and a success heals it. Pending
// events live in PostgreSQL, so a restarted service resumes where it stopped.

import { PollLoop } from '@samsyn/bus';
import type { Db } from '@samsyn/db';
import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import {
  type SubscriptionEventRow,
  type SubscriptionRow,
  subscriptionEvents,
  subscriptions,
} from '../db/schema.ts';
import { type NotificationKind, notificationBundle } from './resource.ts';

export interface DelivererOptions {
  db: Db;
  fhirBase: string;
  pollMs: number;
  backoffMs: number[];
  errorAfter: number;
  /** Events per notification Bundle. */
  batchSize?: number;
  /** Called on each failed POST to a rest-hook (counted as samsyn_notification_failures_total). */
  onFailure?: (reason: 'http-status' | 'unreachable') => void;
  log: {
    warn(o: object, m: string): void;
    error(o: object, m: string): void;
    info(o: object, m: string): void;
  };
}

/** How long a replica holds a subscription while it posts to it (another replica takes over after). */
const LEASE_MS = 120_000;
const IDLE_MS = 3_600_000;

export class SubscriptionDeliverer {
  private readonly loop: PollLoop;

  constructor(private readonly options: DelivererOptions) {
    this.loop = new PollLoop({
      work: () => this.deliverDue(),
      pollMs: options.pollMs,
      onError: (err) => options.log.error({ err: err.message }, 'subscription delivery failed; will retry'),
    });
  }

  start(): void {
    this.loop.start();
  }

  kick(): void {
    this.loop.kick();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Claims due subscriptions and posts one notification to each; returns how many it handled. */
  async deliverDue(now = new Date()): Promise<number> {
    const { db } = this.options;
    const claimed = await db.transaction(async (tx) => {
      const due = await tx
        .select({ id: subscriptions.id })
        .from(subscriptions)
        .where(
          and(
            inArray(subscriptions.status, ['requested', 'active', 'error']),
            lte(subscriptions.nextAttemptAt, now),
          ),
        )
        .orderBy(asc(subscriptions.nextAttemptAt))
        .limit(20)
        .for('update', { skipLocked: true });
      if (due.length === 0) return [];
      return tx
        .update(subscriptions)
        .set({ nextAttemptAt: new Date(now.getTime() + LEASE_MS) })
        .where(
          inArray(
            subscriptions.id,
            due.map((d) => d.id),
          ),
        )
        .returning();
    });
    await Promise.all(claimed.map((row) => this.deliverOne(row, now)));
    return claimed.length;
  }

  private async deliverOne(row: SubscriptionRow, now: Date): Promise<void> {
    const { db } = this.options;
    const batchSize = this.options.batchSize ?? 20;
    const pending = await db
      .select()
      .from(subscriptionEvents)
      .where(and(eq(subscriptionEvents.subscriptionId, row.id), isNull(subscriptionEvents.deliveredAt)))
      .orderBy(asc(subscriptionEvents.eventNumber))
      .limit(batchSize);
    let kind: NotificationKind;
    if (row.status === 'requested' || (row.lastSentAt === null && pending.length === 0)) kind = 'handshake';
    else if (pending.length > 0) kind = 'event-notification';
    else if (row.heartbeatSeconds !== null || row.status === 'error') kind = 'heartbeat';
    else {
      await this.release(row, null, now);
      return;
    }
    if (kind === 'heartbeat' && row.status !== 'error' && row.lastSentAt) {
      const dueAt = row.lastSentAt.getTime() + (row.heartbeatSeconds ?? 0) * 1000;
      if (dueAt > now.getTime()) {
        await this.release(row, new Date(dueAt), now);
        return;
      }
    }
    const events: SubscriptionEventRow[] = kind === 'event-notification' ? pending : [];
    // The status it will have once this delivery succeeds: the Bundle reports it.
    const bundle = notificationBundle({
      row: { ...row, status: 'active' },
      kind,
      events,
      fhirBase: this.options.fhirBase,
    });
    const error = await this.post(row, bundle);
    if (error === undefined) {
      await db.transaction(async (tx) => {
        if (events.length > 0) {
          await tx
            .update(subscriptionEvents)
            .set({ deliveredAt: new Date() })
            .where(
              and(
                eq(subscriptionEvents.subscriptionId, row.id),
                inArray(
                  subscriptionEvents.eventNumber,
                  events.map((e) => e.eventNumber),
                ),
              ),
            );
        }
        const more = events.length === batchSize;
        const next = more
          ? new Date()
          : row.heartbeatSeconds
            ? new Date(Date.now() + row.heartbeatSeconds * 1000)
            : new Date(Date.now() + IDLE_MS);
        // An event recorded while this delivery ran moved next_attempt_at below the lease: keep that wake-up.
        const leaseEnd = row.nextAttemptAt.toISOString();
        await tx
          .update(subscriptions)
          .set({
            status: sql`case when ${subscriptions.status} = 'off' then 'off' else 'active' end`,
            failures: 0,
            lastError: null,
            lastSentAt: new Date(),
            nextAttemptAt: sql`case when ${subscriptions.nextAttemptAt} < ${leaseEnd}::timestamptz then ${subscriptions.nextAttemptAt} else ${next.toISOString()}::timestamptz end`,
            ...(row.status !== 'active'
              ? { versionId: sql`${subscriptions.versionId} + 1`, lastUpdated: new Date() }
              : {}),
          })
          .where(eq(subscriptions.id, row.id));
        // Events recorded while this delivery ran (a failing subscription is not woken by them) go out now. The
        // row lock taken above orders this check after any event transaction that touched the subscription.
        const [waiting] = await tx
          .select({ n: subscriptionEvents.eventNumber })
          .from(subscriptionEvents)
          .where(and(eq(subscriptionEvents.subscriptionId, row.id), isNull(subscriptionEvents.deliveredAt)))
          .limit(1);
        if (waiting) {
          await tx
            .update(subscriptions)
            .set({ nextAttemptAt: new Date() })
            .where(eq(subscriptions.id, row.id));
        }
      });
      if (row.status !== 'active')
        this.options.log.info({ subscription: row.id, kind }, 'subscription active');
      return;
    }
    const failures = row.failures + 1;
    const { backoffMs, errorAfter } = this.options;
    const delay = backoffMs[Math.min(failures - 1, backoffMs.length - 1)] ?? 60_000;
    // A failed handshake is an error at once (Backport IG: the endpoint could not be verified).
    const toError = kind === 'handshake' || failures >= errorAfter;
    this.options.log.warn(
      { subscription: row.id, kind, failures, err: error, retryInMs: delay },
      'rest-hook delivery failed',
    );
    await db
      .update(subscriptions)
      .set({
        failures,
        lastError: error,
        nextAttemptAt: new Date(Date.now() + delay),
        ...(toError && row.status !== 'error'
          ? { status: 'error', versionId: sql`${subscriptions.versionId} + 1`, lastUpdated: new Date() }
          : {}),
      })
      .where(
        and(eq(subscriptions.id, row.id), inArray(subscriptions.status, ['requested', 'active', 'error'])),
      );
  }

  private async release(row: SubscriptionRow, at: Date | null, now: Date): Promise<void> {
    const next = (at ?? new Date(now.getTime() + IDLE_MS)).toISOString();
    await this.options.db
      .update(subscriptions)
      .set({
        nextAttemptAt: sql`case when ${subscriptions.nextAttemptAt} < ${row.nextAttemptAt.toISOString()}::timestamptz then ${subscriptions.nextAttemptAt} else ${next}::timestamptz end`,
      })
      .where(eq(subscriptions.id, row.id));
  }

  /** Posts the Bundle; undefined on a 2xx, else what went wrong (no body content is logged). */
  private async post(row: SubscriptionRow, bundle: unknown): Promise<string | undefined> {
    const headers = new Headers({ 'content-type': 'application/fhir+json' });
    for (const line of row.headers) {
      const colon = line.indexOf(':');
      headers.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    try {
      const res = await fetch(row.endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify(bundle),
        signal: AbortSignal.timeout(row.timeoutSeconds * 1000),
        redirect: 'manual',
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return undefined;
      this.options.onFailure?.('http-status');
      return `endpoint answered HTTP ${res.status}`;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      this.options.onFailure?.('unreachable');
      return `endpoint unreachable: ${e.cause?.code ?? e.name}`;
    }
  }
}
