// Retention of the access log: nothing younger than AUDIT_RETENTION_DAYS is ever purged, older entries are.
import { randomUUID } from 'node:crypto';
import { ConfigError } from '@samsyn/platform';
import { eventually, type Harness, ORGS, startHarness } from '@samsyn/testkit';
import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeAuditLog } from '../src/access-log/purge.ts';
import { auditEvents } from '../src/db/schema.ts';
import { createConsentService } from '../src/service.ts';

const DAY = 24 * 3600 * 1000;
let h: Harness;
beforeAll(async () => {
  // A purge every 100 ms, so the periodic purge runs while the test watches.
  h = await startHarness({
    label: 'consentretention',
    factories: [createConsentService],
    env: { AUDIT_PURGE_INTERVAL_MS: '100' },
  });
});
afterAll(async () => h?.stop());

async function entryRecordedDaysAgo(days: number, now = Date.now()): Promise<string> {
  const id = randomUUID();
  await h.database.db.insert(auditEvents).values({
    id,
    recordedAt: new Date(now - days * DAY),
    action: 'R',
    interaction: 'read',
    outcome: '0',
    userId: 'SE2321000032-U1',
    orgUnit: ORGS.regionWard,
    orgNumber: '2321000032',
    service: 'consent',
  });
  return id;
}

async function remaining(ids: string[]): Promise<string[]> {
  const rows = await h.database.db
    .select({ id: auditEvents.id })
    .from(auditEvents)
    .where(inArray(auditEvents.id, ids));
  return rows.map((r) => r.id);
}

describe('access-log retention', () => {
  it('purges entries older than five years periodically and keeps the younger ones', async () => {
    const old = await entryRecordedDaysAgo(1828);
    const oneDayShort = await entryRecordedDaysAgo(1826);
    const recent = await entryRecordedDaysAgo(1);
    await eventually(
      async () => ((await remaining([old])).length === 0 ? true : undefined),
      5000,
      'old entry purged',
    );
    // Several purge turns later, the younger entries are still there.
    await new Promise((r) => setTimeout(r, 400));
    expect((await remaining([old, oneDayShort, recent])).sort()).toEqual([oneDayShort, recent].sort());
  });

  it('keeps an entry until the moment it is exactly as old as the retention', async () => {
    const now = new Date('2031-11-22T12:00:00Z');
    // Called directly with a fixed clock: one entry is 1 ms younger than 1827 days, the other 1 ms older.
    const edge = await entryRecordedDaysAgo(1827, now.getTime() + 1);
    const past = await entryRecordedDaysAgo(1827, now.getTime() - 1);
    await purgeAuditLog(h.database.db, 1827, now);
    expect(await remaining([edge, past])).toEqual([edge]);
  });

  it('refuses a retention shorter than five years, both at boot and when purging directly', async () => {
    expect(() =>
      createConsentService({
        database: h.database,
        bus: h.bus,
        log: { child: () => ({}) } as never,
        metrics: {} as never,
        env: { AUDIT_RETENTION_DAYS: '365' },
      }),
    ).toThrow(ConfigError);
    const young = await entryRecordedDaysAgo(400);
    await expect(purgeAuditLog(h.database.db, 365)).rejects.toThrow(/at least 1827 days/);
    expect(await remaining([young])).toEqual([young]);
  });
});
