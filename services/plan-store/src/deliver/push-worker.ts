// Pushes plan versions to each covered participant's own FHIR endpoint with fhir-kit-client (SPEC §5), retrying
// with backoff; a delivery that keeps failing is marked failed and announced (sip.plan.delivery-failed) so
// someone can act. Replicas share the work: a delivery is claimed with FOR UPDATE SKIP LOCKED and a lease.
import { enqueue } from '@samsyn/bus';
import { events } from '@samsyn/contracts';
import type { Db } from '@samsyn/db';
import { and, asc, eq, lte } from 'drizzle-orm';
import { Client } from 'fhir-kit-client';
import { coveredOrgs } from '../case-access/access.ts';
import type { PlanEndpoint } from '../config.ts';
import { carePlans, carePlanVersions, outbox, type PlanDeliveryRow, planDeliveries } from '../db/schema.ts';
import { SOURCE } from '../plan/store.ts';

export interface PushLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface PushWorkerOptions {
  db: Db;
  endpoints: Readonly<Record<string, PlanEndpoint>>;
  log: PushLog;
  maxAttempts: number;
  backoffMs: readonly number[];
  pollMs: number;
  timeoutMs: number;
  /** Called after a transaction that wrote to the outbox, so the relay publishes at once. */
  afterOutbox: () => void;
  onOutcome?: (outcome: 'delivered' | 'retried' | 'failed' | 'withheld') => void;
}

const BATCH = 10;

export class PlanPushWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private again = false;

  constructor(private readonly options: PushWorkerOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Wakes the worker at once (after a commit that scheduled deliveries). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.loop().finally(() => {
        this.running = undefined;
        const next = this.again ? 0 : this.options.pollMs;
        this.again = false;
        this.schedule(next);
      });
    }, ms);
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopped && (await this.runOnce()) === BATCH) {
        /* a full batch: there may be more due */
      }
    } catch (err) {
      this.options.log.error({ err }, 'plan push round failed');
    }
  }

  /** Claims and pushes the deliveries due now; returns how many were claimed. */
  async runOnce(now = new Date()): Promise<number> {
    const { db } = this.options;
    const lease = new Date(now.getTime() + this.options.timeoutMs + 5000);
    const claimed = await db.transaction(async (tx) => {
      const due = await tx
        .select()
        .from(planDeliveries)
        .where(and(eq(planDeliveries.status, 'pending'), lte(planDeliveries.nextAttemptAt, now)))
        .orderBy(asc(planDeliveries.nextAttemptAt))
        .limit(BATCH)
        .for('update', { skipLocked: true });
      for (const d of due) {
        await tx
          .update(planDeliveries)
          .set({ nextAttemptAt: lease })
          .where(
            and(
              eq(planDeliveries.planId, d.planId),
              eq(planDeliveries.org, d.org),
              eq(planDeliveries.versionId, d.versionId),
            ),
          );
      }
      return due;
    });
    await Promise.all(claimed.map((d) => this.deliver(d)));
    return claimed.length;
  }

  private async deliver(d: PlanDeliveryRow): Promise<void> {
    const { db, log } = this.options;
    const key = and(
      eq(planDeliveries.planId, d.planId),
      eq(planDeliveries.org, d.org),
      eq(planDeliveries.versionId, d.versionId),
    );
    const [plan] = await db
      .select({ caseId: carePlans.caseId })
      .from(carePlans)
      .where(eq(carePlans.id, d.planId));
    const [version] = await db
      .select()
      .from(carePlanVersions)
      .where(and(eq(carePlanVersions.planId, d.planId), eq(carePlanVersions.versionId, d.versionId)));
    if (!plan || !version) return;
    // Consent is checked again at the moment of sending: a revocation since scheduling stops the push (SPEC §3).
    if (!(await coveredOrgs(db, plan.caseId)).has(d.org)) {
      await db.update(planDeliveries).set({ status: 'withheld', lastAttemptAt: new Date() }).where(key);
      this.options.onOutcome?.('withheld');
      return;
    }
    const endpoint = this.options.endpoints[d.org] ?? { url: d.endpoint };
    const attempt = d.attempts + 1;
    try {
      const client = new Client({
        baseUrl: endpoint.url,
        ...(endpoint.bearerToken ? { bearerToken: endpoint.bearerToken } : {}),
      });
      await client.update({
        resourceType: 'CarePlan',
        id: d.planId,
        body: version.resource as { resourceType: string },
        options: { signal: AbortSignal.timeout(this.options.timeoutMs) },
      });
      await db
        .update(planDeliveries)
        .set({
          status: 'delivered',
          attempts: attempt,
          lastAttemptAt: new Date(),
          deliveredAt: new Date(),
          lastError: null,
        })
        .where(key);
      this.options.onOutcome?.('delivered');
    } catch (err) {
      const error = describe(err);
      const final = attempt >= this.options.maxAttempts || !retryable(err);
      const at = new Date();
      if (!final) {
        const wait = this.options.backoffMs[Math.min(attempt - 1, this.options.backoffMs.length - 1)] ?? 1000;
        await db
          .update(planDeliveries)
          .set({
            attempts: attempt,
            lastAttemptAt: at,
            lastError: error,
            nextAttemptAt: new Date(at.getTime() + wait),
          })
          .where(key);
        log.warn({ planId: d.planId, org: d.org, attempt, error }, 'plan push failed; will retry');
        this.options.onOutcome?.('retried');
        return;
      }
      await db.transaction(async (tx) => {
        await tx
          .update(planDeliveries)
          .set({ status: 'failed', attempts: attempt, lastAttemptAt: at, lastError: error })
          .where(key);
        await enqueue(
          tx,
          outbox,
          events.planDeliveryFailed,
          {
            planId: d.planId,
            caseId: plan.caseId,
            at: at.toISOString(),
            version: d.versionId,
            org: d.org,
            attempts: attempt,
            error,
          },
          { aggregate: plan.caseId, source: SOURCE, time: at },
        );
      });
      log.error({ planId: d.planId, org: d.org, attempts: attempt, error }, 'plan push failed for good');
      this.options.afterOutbox();
      this.options.onOutcome?.('failed');
    }
  }
}

/** What went wrong, without person data: the status code or the network error's class. */
function describe(err: unknown): string {
  const status = (err as { response?: { status?: number } }).response?.status;
  if (status) return `HTTP ${status} from the peer FHIR endpoint`;
  const e = err as { name?: string; code?: string; cause?: { code?: string } };
  const code = e.cause?.code ?? e.code;
  return `${e.name === 'TimeoutError' ? 'timed out' : 'network error'}${code ? ` (${code})` : ''}`.slice(
    0,
    500,
  );
}

/** A 4xx other than timeout/conflict/rate-limit will not change by retrying. */
function retryable(err: unknown): boolean {
  const status = (err as { response?: { status?: number } }).response?.status;
  if (!status) return true;
  return status >= 500 || status === 408 || status === 409 || status === 429;
}
