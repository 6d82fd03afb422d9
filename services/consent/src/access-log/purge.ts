// Retention of the access log: entries are kept AUDIT_RETENTION_DAYS (at least five years), then purged.
import type { BusLog } from '@samsyn/bus';
import type { Db } from '@samsyn/db';
import { inArray, lt } from 'drizzle-orm';
import { MIN_AUDIT_RETENTION_DAYS } from '../config.ts';
import { auditEvents } from '../db/schema.ts';

const DAY_MS = 24 * 3600 * 1000;
const BATCH = 5000;

/** The instant before which entries may go: `retentionDays` whole days before `now`. */
export function retentionCutoff(retentionDays: number, now: Date): Date {
  if (!Number.isInteger(retentionDays) || retentionDays < MIN_AUDIT_RETENTION_DAYS) {
    // The config refuses this at boot; the guard keeps any other caller from deleting entries too early.
    throw new RangeError(
      `access-log retention must be at least ${MIN_AUDIT_RETENTION_DAYS} days, got ${retentionDays}`,
    );
  }
  return new Date(now.getTime() - retentionDays * DAY_MS);
}

/** Deletes entries recorded before the retention cutoff, in batches; returns how many went. */
export async function purgeAuditLog(db: Db, retentionDays: number, now = new Date()): Promise<number> {
  const cutoff = retentionCutoff(retentionDays, now);
  let total = 0;
  for (;;) {
    const batch = db
      .select({ id: auditEvents.id })
      .from(auditEvents)
      .where(lt(auditEvents.recordedAt, cutoff))
      .limit(BATCH);
    const deleted = await db
      .delete(auditEvents)
      .where(inArray(auditEvents.id, batch))
      .returning({ id: auditEvents.id });
    total += deleted.length;
    if (deleted.length < BATCH) return total;
  }
}

/** Runs the purge now and then every `intervalMs`; a failure is logged and tried again at the next turn. */
export class AuditPurge {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: { db: Db; retentionDays: number; intervalMs: number; log: BusLog }) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.turn().finally(() => this.schedule(this.options.intervalMs));
    }, delay);
    this.timer.unref();
  }

  private async turn(): Promise<void> {
    try {
      const purged = await purgeAuditLog(this.options.db, this.options.retentionDays);
      if (purged > 0) this.options.log.info({ purged }, 'access-log entries past retention purged');
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, 'access-log purge failed; will retry');
    }
  }
}
